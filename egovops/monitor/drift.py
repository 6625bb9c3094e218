"""Scheduled drift checks: is every router and host still what its intent says?

Routers: the push engine's own diff (running config vs the rendered intent), read-only — the
session only reads ``show running-config``. Hosts: ``harden --check`` (the baseline playbook in
check mode) — a host with changes to make has drifted. Results go to a JSON state file the egovops
exporter serves as ``egov_drift_*`` (monitors/README.md). A device that could not be read is
recorded with ``ok: false`` (the exporter turns it into ``egov_drift_check_success 0``), never as
"no drift".
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from egovops.model.province import Province


@dataclass
class DeviceDrift:
    device: str
    kind: str            # router | host
    ok: bool             # the check could read the device
    drift: bool
    detail: str = ""


@dataclass
class DriftResult:
    kind: str
    timestamp: float
    seconds: float
    devices: list[DeviceDrift] = field(default_factory=list)


def check_routers(province: Province, workers: int = 8) -> DriftResult:
    """Diff every running router (lab: those up; production: ours) against its rendered intent."""
    from egovops.network import confdiff, credentials
    from egovops.network.device import open_session
    from egovops.network.targets import default_vendor, plan_of, select

    t0 = time.monotonic()
    vendor = default_vendor(province)
    sel = select(province, None)
    names = [n for n in sel.routers if province.router(n).is_ours]
    creds = credentials.load(province)

    def one(name: str) -> DeviceDrift:
        try:
            plan = plan_of(province, name, vendor, timeout=20.0)
            s = open_session(plan.target, creds)
            try:
                running = s.running_config()
            finally:
                s.close()
            d = confdiff.diff(running, plan.intended, confdiff.DIALECTS[vendor])
            lines = confdiff.render_diff(d)
            return DeviceDrift(name, "router", True, not d.empty, "; ".join(lines[:5]))
        except Exception as exc:  # unread is not "no drift": recorded as a failed check
            return DeviceDrift(name, "router", False, False, f"{type(exc).__name__}: {exc}"[:300])

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(names) or 1))) as pool:
        devices = list(pool.map(one, names))
    return DriftResult("router", time.time(), round(time.monotonic() - t0, 2), devices)


def check_hosts(province: Province) -> DriftResult:
    """``harden --check`` on every host that is up: changes to make = drift."""
    from egovops.harden import baseline
    from egovops.harden.targets import select

    t0 = time.monotonic()
    sel = select(province, None)
    devices: list[DeviceDrift] = []
    if sel.targets:
        run = baseline.run(province, sel, check=True)
        recap = {h.host: h for h in run.hosts}
        for t in sel.targets:
            h = recap.get(t.node)
            if h is None:
                devices.append(DeviceDrift(t.node, "host", False, False, f"no recap for {t.node} (ansible rc {run.rc})"))
            elif h.failed or h.unreachable:
                devices.append(DeviceDrift(t.node, "host", False, False,
                                           f"failed={h.failed} unreachable={h.unreachable}"))
            else:
                devices.append(DeviceDrift(t.node, "host", True, h.changed > 0, f"{h.changed} change(s) pending"))
    return DriftResult("host", time.time(), round(time.monotonic() - t0, 2), devices)


def state_path(monitor_dir: Path) -> Path:
    return monitor_dir / "drift.json"


def save(monitor_dir: Path, result: DriftResult) -> None:
    """Merge one kind's result into the state file (atomic rename: the exporter never reads half)."""
    path = state_path(monitor_dir)
    try:
        data = load(monitor_dir) or {}
    except ValueError:
        data = {}  # a corrupt state is replaced by fresh results (the exporter failed scrapes meanwhile)
    data[result.kind] = asdict(result)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def load(monitor_dir: Path) -> dict[str, Any] | None:
    """The state file's content; None when there is none yet. Raises ValueError when it is corrupt."""
    path = state_path(monitor_dir)
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a JSON object")
    return data
