"""Commands on a site's host over SSH, with host keys verified (host-key checking is never turned off).

Lab: the lab generated every host's key (``.lab/<name>/hosts/<slug>/merged/etc/ssh/``), so the
known-hosts file (``build/dr/<name>/known_hosts``, rewritten at each use) is written from those
keys; a host whose key is not the one the lab made is refused. Production: the operator's known-hosts
file (``EGOVOPS_KNOWN_HOSTS``, else ssh's default).
Every command is bounded by a timeout.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from egovops.model.province import Province


class RemoteError(RuntimeError):
    """A host could not be reached or its host key could not be verified."""


def known_hosts(province: Province) -> Path | None:
    """The known-hosts file to verify hosts against (lab: written from the lab's own host keys)."""
    if province.meta.environment != "lab":
        env = os.environ.get("EGOVOPS_KNOWN_HOSTS")
        return Path(env) if env else None
    from egovops.lab.hosts import merged

    lines = []
    for node in province.nodes:
        pub = merged(province, node.slug) / "etc/ssh/ssh_host_ed25519_key.pub"
        if not pub.is_file():
            continue
        kind, key = pub.read_text().split()[:2]
        names = ",".join(str(a) for a in (node.management.ipv4.ip, node.management.ipv6.ip))
        lines.append(f"{names} {kind} {key}\n")
    d = Path(__file__).resolve().parents[2] / "build" / "dr" / province.meta.name  # derived: rewritten each call
    d.mkdir(parents=True, exist_ok=True)
    path = d / "known_hosts"
    path.write_text("".join(lines))
    return path


def ssh_options(province: Province) -> list[str]:
    """ssh options: batch mode, the lab key, host keys checked against :func:`known_hosts`."""
    opts = ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=5",
            "-o", "LogLevel=ERROR"]
    kh = known_hosts(province)
    if kh is not None:
        opts += ["-o", f"UserKnownHostsFile={kh}"]
    key = os.environ.get("EGOVOPS_SSH_KEY")
    if province.meta.environment == "lab" and not key:
        from egovops.lab.secrets import private_key_path
        key = str(private_key_path(province))
    if key:
        opts += ["-i", key]
    return opts


def ssh(province: Province, site: str, command: str, timeout: float = 30.0,
        check: bool = True) -> subprocess.CompletedProcess:
    """Run ``command`` as root on ``site``'s host (management address). RemoteError on failure when ``check``.

    Logs in as the inventory's admin account (root never logs in over SSH) and runs ``command``
    through ``sudo -S``, the password on ssh's standard input (egovops.harden.login), never on a
    command line; a sudo that fails is a failed command (fail closed).
    """
    from egovops.harden.login import host_login, sudo_command

    login = host_login(province)
    addr = str(province.node(site).management.ipv4.ip)
    try:
        r = subprocess.run(["ssh", *ssh_options(province), f"{login.user}@{addr}", sudo_command(command)],
                           input=login.sudo_input(), capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RemoteError(f"{site}: no answer within {timeout:.0f}s to {command.split()[0]!r}") from None
    if check and r.returncode != 0:
        raise RemoteError(f"{site}: {command.split()[0]!r} exited {r.returncode}: {r.stderr.strip()[:300]}")
    return r
