"""Run every catalogue check against every target host, in parallel, over testinfra's paramiko backend.

One worker per host (each with one paramiko connection, reused by all of that host's checks): the
checks of one host run in catalogue order, hosts run side by side. A host that cannot be reached
gets ``error`` rows with the connection error as evidence; a check that raises gets ``error`` with
the exception — nothing is ever counted as passed without having been observed.

The runner logs in as the inventory's admin account (never root; :mod:`egovops.harden.login`) and
runs every check command as root through ``sudo -S`` (password on standard input, never on a command
line): /etc/shadow, ``sshd -T`` and the rest need root. A host where sudo does not work gets
``error`` rows naming that (fail closed), exactly like an unreachable one.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

import paramiko
import testinfra

from egovops.compliance.catalogue import Catalogue, Control
from egovops.compliance.checks import Ctx, Outcome, resolve
from egovops.compliance.results import Result, Scan
from egovops.compliance.targets import Target
from egovops.harden.login import SUDO_OK, SUDO_PROBE, HostLogin, sudo_command

logging.getLogger("paramiko").setLevel(logging.CRITICAL)


#: bound on one check command (a find over /usr is the slowest seen, a few seconds)
COMMAND_TIMEOUT = 120.0


def ssh_config(key: str | None, user: str) -> str:
    """A private ssh_config for the scan (user and key; host keys: :func:`verified_client`)."""
    fd, path = tempfile.mkstemp(prefix="egov-comply-", suffix=".sshconfig")
    with os.fdopen(fd, "w") as f:
        f.write(f"Host *\n  User {user}\n  StrictHostKeyChecking yes\n")
        if key:
            f.write(f"  IdentityFile {key}\n")
    return path


def verified_client(t: Target, key: str | None, known_hosts: str | None, timeout: int,
                    user: str) -> paramiko.SSHClient:
    """A connected paramiko client that refuses any host key not in ``known_hosts``.

    Why not testinfra's own connection: its paramiko backend accepts unknown keys with a warning
    and ignores ``UserKnownHostsFile``. The client is handed to testinfra's backend instead.
    """
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    if known_hosts:
        client.load_host_keys(known_hosts)
    else:
        client.load_system_host_keys()
    try:
        client.connect(t.address, username=user, key_filename=key, timeout=timeout, banner_timeout=timeout,
                       auth_timeout=timeout, allow_agent=False, look_for_keys=key is None)
    except paramiko.BadHostKeyException:
        where = known_hosts or "~/.ssh/known_hosts"
        raise RuntimeError(f"{t.node}: host key CHANGED for {t.address} (not the one in {where}); refused") from None
    except paramiko.SSHException as exc:
        if "not found in known_hosts" in str(exc):
            where = known_hosts or "~/.ssh/known_hosts"
            raise RuntimeError(f"{t.node}: host key of {t.address} unknown (not in {where}); refused") from None
        raise
    return client


def sudo_exec(client: paramiko.SSHClient, command: str, password_line: str,
              timeout: float = COMMAND_TIMEOUT) -> tuple[int, bytes, bytes]:
    """Run ``command`` as root with ``sudo -S`` on an open connection; the password goes to sudo's stdin."""
    transport = client.get_transport()
    if transport is None or not transport.is_active():
        raise paramiko.SSHException("connection closed")
    chan = transport.open_session()
    chan.settimeout(timeout)
    try:
        chan.exec_command(sudo_command(command))
        chan.sendall(password_line.encode())
        chan.shutdown_write()
        stdout = chan.makefile("rb").read()
        stderr = chan.makefile_stderr("rb").read()
        return chan.recv_exit_status(), stdout, stderr
    finally:
        chan.close()


def connect(t: Target, login: HostLogin, cfg: str, known_hosts: str | None, timeout: int = 15) -> Any:
    """A testinfra host logged in as the admin account whose commands all run as root through sudo.

    Raises (naming the host) when the host key is not the known one, the login fails, or sudo does
    not give root — the caller turns that into ``error`` rows.
    """
    host = testinfra.get_host(f"paramiko://{login.user}@{t.address}", ssh_config=cfg, timeout=timeout)
    return attach(host, t, login, known_hosts, timeout)


def attach(host: Any, t: Any, login: HostLogin, known_hosts: str | None, timeout: int = 15) -> Any:
    """Give a testinfra paramiko host the verified connection of :func:`connect` and its sudo commands."""
    backend = host.backend
    client = verified_client(t, login.key, known_hosts, timeout, login.user)
    backend.__dict__["client"] = client  # testinfra's cached client: the verified one
    password = login.sudo_input()

    def run(command: str, *args: str, **kwargs: Any) -> Any:
        cmd = backend.get_command(command, *args)
        rc, out, err = sudo_exec(client, cmd, password)
        return backend.result(rc, backend.encode(cmd), out, err)

    backend.run = run  # every testinfra command (host.run, host.file ...) goes through sudo
    probe = run(SUDO_PROBE)
    if SUDO_OK not in probe.stdout:
        why = (probe.stderr or probe.stdout).strip().splitlines()[-1:] or [f"exit {probe.rc}"]
        raise RuntimeError(f"sudo as {login.user} did not give root on {t.node} ({why[0][:120]}); "
                           "no check run")
    return host


def scan_host(t: Target, controls: Sequence[Control], params: dict[str, Any], cfg: str,
              timeout: int = 15, login: HostLogin | None = None, known_hosts: str | None = None) -> list[Result]:
    if login is None:
        raise ValueError("scan_host needs the admin login (egovops.harden.login.host_login)")
    host: Any = None
    rows: list[Result] = []
    unreachable: str | None = None
    try:
        host = connect(t, login, cfg, known_hosts, timeout)
    except Exception as exc:  # noqa: BLE001 — any connection or sudo failure is the evidence
        unreachable = f"unreachable over SSH ({type(exc).__name__}: {exc})"[:240]
    ctx = Ctx(node=t.node, hostvars=t.hostvars, params=params, host=host)
    for c in controls:
        t0 = time.monotonic()
        if unreachable:
            out = Outcome("error", unreachable)
        else:
            try:
                out = resolve(c)(host, ctx)
            except Exception as exc:  # noqa: BLE001 — a broken check is an error row, never a pass
                out = Outcome("error", f"check raised {type(exc).__name__}: {exc}"[:240])
        rows.append(Result(t.node, t.city, t.name_zh, c.id, c.family.slug, out.status, out.evidence,
                           round(time.monotonic() - t0, 3)))
    try:
        if host is not None:
            host.backend.client.close()
    except Exception:  # noqa: BLE001
        pass
    return rows


def scan(targets: Sequence[Target], catalogue: Catalogue, params: dict[str, Any], login: HostLogin,
         inventory: str, version: str, workers: int = 20,
         progress: Callable[[str, list[Result]], None] = lambda n, r: None,
         controls: Sequence[Control] | None = None, known_hosts: str | None = None) -> Scan:
    controls = list(controls or catalogue.controls)
    t0 = time.monotonic()
    cfg = ssh_config(login.key, login.user)
    results: list[Result] = []
    try:
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(targets) or 1))) as pool:
            futs = {pool.submit(scan_host, t, controls, params, cfg, 15, login, known_hosts): t for t in targets}
            for f in as_completed(futs):
                rows = f.result()
                results.extend(rows)
                progress(futs[f].node, rows)
    finally:
        os.unlink(cfg)
    order = {c.id: i for i, c in enumerate(catalogue.controls)}
    results.sort(key=lambda r: (r.node, order[r.control]))
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    return Scan(inventory, version, now, round(time.monotonic() - t0, 2), results)
