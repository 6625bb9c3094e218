#!/usr/bin/env python3
"""Benchmark: push a change to every router of a running lab with --workers N vs --workers 1, in one run.

    .venv/bin/python bench/net_push_bench.py [--inventory inventories/lab] [--workers 16] [--min-hold 0.5]

Needs the lab up (for all 122 routers: ``egovops lab up --counties``). The change is real but harmless
(the vty idle timeout toggles between the rendered value and value+1), so every device goes through
the whole cycle: connect, read running config + interface addresses, diff, apply, adjacency
snapshot, verify (adjacencies held ``--min-hold`` s, loopback v4+v6 from the NOC vantage), confirm
(write memory). The first run brings the routers to the rendered config (not timed), then the
parallel run and the serial run each push a toggle, so both do the same work. Prints the wall
times, their ratio, and the goal check: parallel <= 2 x the slowest single device's push time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from egovops.model import load_inventory  # noqa: E402
from egovops.network import credentials  # noqa: E402
from egovops.network.push import PushEngine, PushOptions  # noqa: E402
from egovops.network.render import SECURITY  # noqa: E402
from egovops.network.targets import plan_of, select  # noqa: E402
from egovops.network.vantage import lab_vantage  # noqa: E402


def run(p, names, creds, vantage, workers: int, min_hold: float, timeout_bump: int):
    plans = [plan_of(p, n, "frr") for n in names]
    base = SECURITY["idle_timeout_minutes"]
    for pl in plans:
        pl.intended = pl.intended.replace(f"exec-timeout {base} 0", f"exec-timeout {base + timeout_bump} 0")
    opts = PushOptions(workers=workers, min_hold=min_hold, settle_timeout=60, confirm_timeout=600)
    t0 = time.monotonic()
    rep = PushEngine(plans, creds, opts, vantage=vantage).run()
    wall = time.monotonic() - t0
    per = [sum(r.seconds.values()) for r in rep.results]
    return rep, wall, per


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inventory", default="inventories/lab")
    ap.add_argument("--workers", type=int, default=16)
    ap.add_argument("--min-hold", type=float, default=0.5)
    ap.add_argument("--limit", default=None)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()

    p = load_inventory(a.inventory)
    names = select(p, a.limit).routers
    creds = credentials.load(p)
    credentials.install_redaction(creds)
    vantage = lab_vantage(p)
    print(f"{len(names)} routers in lab {p.meta.name}; warm-up push to the rendered config ...", file=sys.stderr)
    rep, wall, _ = run(p, names, creds, vantage, a.workers, a.min_hold, 0)
    if not rep.ok:
        print(json.dumps(rep.counts()), file=sys.stderr)
        print("warm-up push failed: fix the lab first (egovops net push; egovops net verify)", file=sys.stderr)
        return 1
    print(f"warm-up: {rep.counts()} in {wall:.1f}s", file=sys.stderr)

    results = {}
    for label, workers, bump in (("parallel", a.workers, 1), ("serial", 1, 0)):
        print(f"{label}: --workers {workers} ...", file=sys.stderr)
        rep, wall, per = run(p, names, creds, vantage, workers, a.min_hold, bump)
        c = rep.counts()
        results[label] = {"workers": workers, "wall_s": round(wall, 2), "changed": c["changed"],
                          "failed": c["failed"] + c["rolled-back"],
                          "device_s_median": round(statistics.median(per), 2), "device_s_max": round(max(per), 2)}
        print(f"  {results[label]}", file=sys.stderr)
    par, ser = results["parallel"], results["serial"]
    slowest = ser["device_s_max"]
    out = {"routers": len(names), "min_hold_s": a.min_hold, **results,
           "speedup_serial_over_parallel": round(ser["wall_s"] / par["wall_s"], 2),
           "parallel_over_slowest_device": round(par["wall_s"] / slowest, 2),
           "parallel_over_slowest_device_in_parallel_run": round(par["wall_s"] / par["device_s_max"], 2),
           "goal_parallel_le_2x_slowest_device": par["wall_s"] <= 2 * slowest}
    if a.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"routers: {out['routers']}  (min-hold {a.min_hold}s)")
        print(f"parallel (--workers {par['workers']}): {par['wall_s']} s, {par['changed']} changed, {par['failed']} failed")
        print(f"serial   (--workers 1): {ser['wall_s']} s, {ser['changed']} changed, {ser['failed']} failed")
        print(f"speed-up serial/parallel: {out['speedup_serial_over_parallel']}x")
        print(f"slowest single device push (serial run): {slowest} s; parallel / slowest = "
              f"{out['parallel_over_slowest_device']} (goal <= 2: {'met' if out['goal_parallel_le_2x_slowest_device'] else 'NOT met'})")
        print(f"slowest device within the parallel run: {par['device_s_max']} s; parallel / that = "
              f"{out['parallel_over_slowest_device_in_parallel_run']}")
    return 0 if par["failed"] == 0 and ser["failed"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
