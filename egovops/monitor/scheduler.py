"""Scheduled checks that feed the alerts: router drift, host drift, compliance metrics.

Production: the NOC controller runs them from systemd timers (``units/`` of the rendered
artefacts). The lab machine has no systemd (PID 1 is not systemd), so ``egovops monitor up``
starts this bounded loop instead (PID-tracked, stopped by ``monitor down`` and ``lab down``):
every ``interval`` seconds, for at most ``max_seconds``, it runs :func:`run_checks` — the same
function the ``egovops monitor check`` command (and so the production timer) calls.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from egovops.model.province import Province
from egovops.monitor import drift

REPO = Path(__file__).resolve().parents[2]
COMPLY_TIMEOUT = 600.0


@dataclass
class CheckRun:
    seconds: float
    results: dict[str, dict] = field(default_factory=dict)   # name -> {ok, detail}

    @property
    def ok(self) -> bool:
        return all(r["ok"] for r in self.results.values())


def run_checks(province: Province, state_dir: Path, kinds: tuple[str, ...] = ("router", "host", "comply"),
               log: Callable[[str], None] = lambda m: None) -> CheckRun:
    """One round: each check is independent (one failing does not stop the others)."""
    t0 = time.monotonic()
    state_dir.mkdir(parents=True, exist_ok=True)
    out = CheckRun(0.0)
    for kind in kinds:
        try:
            if kind in ("router", "host"):
                res = drift.check_routers(province) if kind == "router" else drift.check_hosts(province)
                drift.save(state_dir, res)
                bad = [d.device for d in res.devices if not d.ok]
                drifted = [d.device for d in res.devices if d.drift]
                out.results[kind] = {"ok": not bad, "detail": f"{len(res.devices)} checked, drift: {drifted or 'none'}, "
                                                             f"unreadable: {bad or 'none'} ({res.seconds}s)"}
            elif kind == "comply":
                cmd = [sys.executable, "-m", "egovops.cli.main", "comply", "--inventory", province.source,
                       "--push-metrics", "--json", "--out", str(state_dir / "comply")]
                # waivers: comply's own default (compliance.waiver_sources: the lab's on a lab inventory)
                p = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=COMPLY_TIMEOUT)
                # exit 1 = some control failed: the metrics say which; only 2+ is a failed run
                out.results[kind] = {"ok": p.returncode in (0, 1), "detail": f"comply exit {p.returncode}"}
            else:
                raise ValueError(f"unknown check {kind!r}")
        except Exception as exc:
            out.results[kind] = {"ok": False, "detail": f"{type(exc).__name__}: {exc}"[:300]}
        log(f"{kind}: {out.results[kind]['detail']}")
    out.seconds = round(time.monotonic() - t0, 2)
    return out


def loop(province: Province, state_dir: Path, interval: float, max_seconds: float, kinds: tuple[str, ...]) -> None:
    deadline = time.monotonic() + max_seconds
    while time.monotonic() < deadline:
        start = time.monotonic()
        run_checks(province, state_dir, kinds, log=lambda m: print(time.strftime("%H:%M:%S"), m, flush=True))
        time.sleep(max(1.0, interval - (time.monotonic() - start)))


def main(argv: list[str] | None = None) -> None:
    from egovops.model.load import load_inventory

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inventory", required=True)
    ap.add_argument("--state", required=True)
    ap.add_argument("--interval", type=float, required=True)
    ap.add_argument("--max-seconds", type=float, default=12 * 3600)
    ap.add_argument("--checks", default="router,host,comply")
    a = ap.parse_args(argv)
    loop(load_inventory(a.inventory), Path(a.state), max(5.0, a.interval), a.max_seconds,
         tuple(k for k in a.checks.split(",") if k))


if __name__ == "__main__":
    main()
