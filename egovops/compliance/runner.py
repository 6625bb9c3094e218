"""Run every catalogue check against every target host, in parallel, over testinfra's paramiko backend.

One worker per host (each with one paramiko connection, reused by all of that host's checks): the
checks of one host run in catalogue order, hosts run side by side. A host that cannot be reached
gets ``error`` rows with the connection error as evidence; a check that raises gets ``error`` with
the exception — nothing is ever counted as passed without having been observed.
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

logging.getLogger("paramiko").setLevel(logging.CRITICAL)


def ssh_config(key: str | None) -> str:
    """A private ssh_config for the scan (user and key; host keys: :func:`verified_client`)."""
    fd, path = tempfile.mkstemp(prefix="egov-comply-", suffix=".sshconfig")
    with os.fdopen(fd, "w") as f:
        f.write("Host *\n  User root\n  StrictHostKeyChecking yes\n")
        if key:
            f.write(f"  IdentityFile {key}\n")
    return path


def verified_client(t: Target, key: str | None, known_hosts: str | None, timeout: int) -> paramiko.SSHClient:
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
        client.connect(t.address, username="root", key_filename=key, timeout=timeout, banner_timeout=timeout,
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


def scan_host(t: Target, controls: Sequence[Control], params: dict[str, Any], cfg: str,
              timeout: int = 15, key: str | None = None, known_hosts: str | None = None) -> list[Result]:
    host = testinfra.get_host(f"paramiko://root@{t.address}", ssh_config=cfg, timeout=timeout)
    ctx = Ctx(node=t.node, hostvars=t.hostvars, params=params, host=host)
    rows: list[Result] = []
    unreachable: str | None = None
    try:
        host.backend.__dict__["client"] = verified_client(t, key, known_hosts, timeout)  # testinfra's cached client
        host.run("true")
    except Exception as exc:  # noqa: BLE001 — any connection failure is the evidence
        unreachable = f"unreachable over SSH ({type(exc).__name__}: {exc})"[:200]
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
        host.backend.client.close()
    except Exception:  # noqa: BLE001
        pass
    return rows


def scan(targets: Sequence[Target], catalogue: Catalogue, params: dict[str, Any], key: str | None,
         inventory: str, version: str, workers: int = 20,
         progress: Callable[[str, list[Result]], None] = lambda n, r: None,
         controls: Sequence[Control] | None = None, known_hosts: str | None = None) -> Scan:
    controls = list(controls or catalogue.controls)
    t0 = time.monotonic()
    cfg = ssh_config(key)
    results: list[Result] = []
    try:
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(targets) or 1))) as pool:
            futs = {pool.submit(scan_host, t, controls, params, cfg, 15, key, known_hosts): t for t in targets}
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
