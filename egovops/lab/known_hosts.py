"""The lab's known_hosts: every router's and host's SSH host key, recorded at ``lab up``.

Why: the lab generates every host key itself (routers: ``egovops.lab.routers.prepare_ssh``; hosts:
``egovops.lab.hosts``), so it can verify them exactly like production verifies its devices
against the operator's known_hosts. Every SSH path (netmiko, Ansible, testinfra/paramiko, ssh)
reads :func:`path_for`; nothing turns host-key checking off. A device whose key is not the one the
lab made is refused by name (a man in the middle, or a host re-keyed behind the lab's back).

Production: the operator's file, ``EGOVOPS_KNOWN_HOSTS`` (else ``~/.ssh/known_hosts``); a missing
file is an error, never "accept whatever answers".
"""

from __future__ import annotations

import os
from pathlib import Path

from egovops.model.province import Province

FILE = "known_hosts"


class KnownHostsError(RuntimeError):
    """No known_hosts file to verify against (the message says which file and what to do)."""


def _line(names: list[str], pub: Path) -> str | None:
    if not pub.is_file():
        return None
    parts = pub.read_text().split()
    if len(parts) < 2:
        return None
    return f"{','.join(names)} {parts[0]} {parts[1]}\n"


def write(province: Province) -> Path:
    """(Re)write the lab's known_hosts from the host keys the lab generated; returns its path."""
    from egovops.lab.hosts import merged
    from egovops.lab.paths import secrets_dir
    from egovops.lab.routers import routers_dir

    lines: list[str] = []
    for r in [*province.routers, *(c.router for c in province.managed_industry())]:
        ln = _line([str(r.management.ipv4.ip), str(r.management.ipv6.ip)],
                   routers_dir(province) / r.name / "ssh_host_ed25519_key.pub")
        if ln:
            lines.append(ln)
    for n in [*province.nodes, *(c.host_node() for c in province.managed_industry())]:
        ln = _line([str(n.management.ipv4.ip), str(n.management.ipv6.ip)],
                   merged(province, n.slug) / "etc/ssh/ssh_host_ed25519_key.pub")
        if ln:
            lines.append(ln)
    d = secrets_dir(province)
    d.mkdir(parents=True, exist_ok=True)
    path = d / FILE
    tmp = d / f".{FILE}.{os.getpid()}"
    tmp.write_text("".join(lines))
    os.chmod(tmp, 0o644)
    tmp.replace(path)          # atomic: a reader never sees half a file
    return path


def path_for(province: Province) -> Path:
    """The known_hosts file to verify this province's devices against (see module doc)."""
    if province.meta.environment == "lab":
        from egovops.lab.paths import secrets_dir

        path = secrets_dir(province) / FILE
        if not path.is_file():
            if not secrets_dir(province).is_dir():
                raise KnownHostsError(f"the lab {province.meta.name!r} has no secrets folder: run `egovops lab up`")
            path = write(province)       # a lab brought up before known_hosts existed
        return path
    env = os.environ.get("EGOVOPS_KNOWN_HOSTS")
    path = Path(env) if env else Path.home() / ".ssh" / "known_hosts"
    if not path.is_file():
        raise KnownHostsError(f"known_hosts file {path} not found: set EGOVOPS_KNOWN_HOSTS to the operator's "
                              "verified file of router and host keys")
    return path


def for_ssh(province: Province) -> str | None:
    """The file to pass to an SSH client, or None for "the operator's default known_hosts".

    Never raises for production (clients then use ``~/.ssh/known_hosts`` strictly: an unknown key
    is refused at connect time, naming the device); a lab always has its own file.
    """
    if province.meta.environment == "lab":
        return str(path_for(province))
    env = os.environ.get("EGOVOPS_KNOWN_HOSTS")
    return env or None
