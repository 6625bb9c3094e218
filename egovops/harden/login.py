"""How the controller logs in to the hosts: the inventory's admin account, by SSH key, and sudo for root.

Why one module: root never logs in over SSH (issue 11; the baseline sets ``PermitRootLogin no``), so
every path that reaches a host — Ansible (harden, monitoring, DR), the compliance runner and its
metrics push, DR's remote commands — logs in as the account named in the inventory
(``zones.yaml`` ``host_access.admin_user``) and gains root with ``sudo``. They all take the account,
key and sudo password from :func:`host_login`, so there is one place that says how hosts are reached.

Why a sudo password and not ``NOPASSWD``: control L3-CES2-03 of the baseline refuses any NOPASSWD
rule, and an exception for the one account that administers everything would defeat it. The sudo
password is a credential like the routers' password:

* lab: generated at ``lab up`` into the lab's secrets dir (``host-admin.env``, 0600), hashed into each
  host's /etc/shadow when the lab creates the account;
* production: ``EGOVOPS_BECOME_PASSWORD_FILE`` (a file whose first line is the password, e.g. written
  from the vault) or ``EGOVOPS_BECOME_PASSWORD``; the key is ``EGOVOPS_SSH_KEY`` (or the agent).

It never reaches a command line: Ansible reads it from a 0600 vars file passed as ``-e @file``
(:func:`become_vars_file`), and ``sudo -S`` reads it from standard input (:func:`sudo_command`).
"""

from __future__ import annotations

import json
import os
import shlex
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from egovops.model.province import Province
from egovops.network.credentials import Secret

#: printed by :data:`SUDO_PROBE` only when sudo really ran it as root
SUDO_OK = "EGOVOPS-SUDO-OK"
#: a command whose output says sudo works: it prints :data:`SUDO_OK` only when its uid is 0
SUDO_PROBE = f'[ "$(id -u)" = 0 ] && echo {SUDO_OK}'


class LoginError(RuntimeError):
    """No usable admin login (the message says where it looked; it never contains a secret)."""


@dataclass(frozen=True)
class HostLogin:
    user: str  # the inventory's admin account (never root)
    key: str | None  # private key file (None: the operator's agent/ssh config)
    become_password: Secret | None  # sudo password (None: not configured; sudo then fails closed)
    source: str = ""  # where the password came from (no secret)

    def sudo_input(self) -> str:
        """What ``sudo -S`` reads on standard input (the password line); empty when none is known."""
        return self.become_password.reveal() + "\n" if self.become_password else ""


def admin_user(province: Province) -> str:
    """The admin account of the inventory (validated: a POSIX name, not root nor a reserved name)."""
    return province.zones.host_access.admin_user


def _lab_password(province: Province) -> tuple[Secret | None, str]:
    from egovops.lab.secrets import host_admin_password

    pw = host_admin_password(province)
    return (Secret(pw), "lab secrets") if pw else (None, "lab secrets (missing: run lab up)")


def _production_password(env: dict[str, str]) -> tuple[Secret | None, str]:
    path = env.get("EGOVOPS_BECOME_PASSWORD_FILE")
    if path:
        try:
            first = Path(path).read_text(encoding="utf-8").splitlines()[:1]
        except OSError as exc:
            raise LoginError(f"EGOVOPS_BECOME_PASSWORD_FILE {path}: cannot read ({exc.strerror})") from None
        if not first or not first[0]:
            raise LoginError(f"EGOVOPS_BECOME_PASSWORD_FILE {path}: empty first line")
        return Secret(first[0]), f"file {path}"
    if env.get("EGOVOPS_BECOME_PASSWORD"):
        return Secret(env["EGOVOPS_BECOME_PASSWORD"]), "environment"
    return None, "none (set EGOVOPS_BECOME_PASSWORD_FILE or EGOVOPS_BECOME_PASSWORD)"


def host_login(province: Province, env: dict[str, str] | None = None) -> HostLogin:
    """The admin login for ``province``'s hosts: lab credentials from the lab's secrets dir, production
    ones from the environment (``EGOVOPS_SSH_KEY``, ``EGOVOPS_BECOME_PASSWORD[_FILE]``)."""
    env = dict(os.environ) if env is None else env
    key: str | None = env.get("EGOVOPS_SSH_KEY") or None
    if province.meta.environment == "lab":
        from egovops.lab.secrets import private_key_path

        k = private_key_path(province)
        if key is None and k.exists():
            key = str(k)
        pw, source = _lab_password(province)
        if env.get("EGOVOPS_BECOME_PASSWORD_FILE") or env.get("EGOVOPS_BECOME_PASSWORD"):
            pw, source = _production_password(env)
    else:
        pw, source = _production_password(env)
    return HostLogin(admin_user(province), key, pw, source)


def sudo_command(command: str) -> str:
    """``command`` run as root through sudo, the password read from standard input.

    ``-k``: always ask, so the password line is consumed by sudo and never left for the command;
    ``-p ''``: no prompt in the output; ``/bin/sh -c``: pipes and redirections run as root too.
    """
    return "sudo -S -k -p '' -- /bin/sh -c " + shlex.quote(command)


def sudo_probe_command() -> str:
    """:data:`SUDO_PROBE` through sudo: its output holds :data:`SUDO_OK` only when sudo gave root."""
    return sudo_command(SUDO_PROBE)


@contextmanager
def become_vars_file(login: HostLogin) -> Iterator[Path | None]:
    """A 0600 Ansible vars file with ``ansible_become_password`` for the duration of one run (then removed).

    Yields None when no password is known: Ansible's become then fails on the hosts and says so
    (fail closed; nothing runs as root without it).
    """
    if not login.become_password:
        yield None
        return
    fd, name = tempfile.mkstemp(prefix="egov-become-", suffix=".yml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("ansible_become_password: " + json.dumps(login.become_password.reveal()) + "\n")
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)
