#!/usr/bin/env python3
"""Benchmark: the whole fleet pushed in one wave vs the slowest device pushed alone, in one run.

    .venv/bin/python bench/net_push_bench.py --inventory tests/fixtures/inventories/safelab [--json]

Needs the lab up (all 122 routers + the national stand-in: ``egovops lab up --counties``). The
change is real but harmless (the vty idle timeout toggles between the rendered value and
value+1), so every device goes through the whole cycle: connect, read running config + interface
addresses + protocol state, diff, apply, hold (``--min-hold``, default the production 5 s: the
adjacencies must stay up that long after the change), verify (adjacencies and loopback v4+v6 from
the NOC vantage), confirm (write memory).

1. warm-up: every router to the rendered config (not timed);
2. ``fleet_seconds``: one push of the toggle to every router with the lab's defaults (one wave,
   ``--workers``), wall time of the whole push;
3. ``slowest_device_seconds``: the ``--candidates`` devices that were slowest in the fleet push
   (by their own connect+apply+verify+confirm time) plus the router with the most neighbours,
   each pushed ALONE (toggled back); the largest wall time is the slowest single device's cycle;
4. ``ratio`` = fleet / slowest single; the goal is ``ratio <= 2``.
A final push (not timed) leaves every router at the rendered config. Every timed push starts once
the lab's router sessions of the push before it have ended (bounded 15 s, not timed), so none pays
for the teardown of the one before (``settle_seconds``: how long the fleet push waited for that).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from egovops.lab.paths import prefix  # noqa: E402
from egovops.lab.secrets import NET_USERNAME  # noqa: E402
from egovops.model import load_inventory  # noqa: E402
from egovops.network import credentials  # noqa: E402
from egovops.network.labprep import ensure_lab_router_sysctls  # noqa: E402
from egovops.network.push import PushEngine, PushOptions  # noqa: E402
from egovops.network.render import SECURITY  # noqa: E402
from egovops.network.targets import intent_of, plan_of, select  # noqa: E402
from egovops.network.vantage import lab_vantage  # noqa: E402

GOAL = 2.0


def sessions_left(p) -> int:
    """The lab's router sessions still ending: vtysh processes of its pathspaces (not the frr
    exporters, whose options name vtysh too) and sshd session processes of its router user (a closed
    session's vtysh frees its whole command graph on exit, after the push has returned)."""
    pathspace, user = f"-N {prefix(p)}-", f"sshd: {NET_USERNAME}"
    n = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        argv0 = cmd.split(" ", 1)[0]
        n += (argv0.endswith("/vtysh") and pathspace in cmd) or cmd.startswith(user)
    return n


def settle(p, timeout: float = 15.0) -> float:
    """Wait (bounded) until the previous push's router sessions have ended; the seconds waited.

    Why: every timed push - the fleet and each single device - starts on a settled lab, so none of
    them pays for the teardown of the push before it (the fleet followed the warm-up at once)."""
    t0 = time.monotonic()
    while sessions_left(p) and time.monotonic() - t0 < timeout:
        time.sleep(0.1)
    return time.monotonic() - t0


def push(p, names, creds, vantage, workers: int, min_hold: float, bump: int, settled: bool = True):
    """One push of the toggle (``bump`` 0 = the rendered value) to ``names``; (report, wall seconds)."""
    if settled:
        settle(p)
    plans = [plan_of(p, n, "frr") for n in names]
    base = int(str(SECURITY["idle_timeout_minutes"]))
    for pl in plans:
        pl.intended = pl.intended.replace(f"exec-timeout {base} 0", f"exec-timeout {base + bump} 0")
    opts = PushOptions(workers=workers, min_hold=min_hold, settle_timeout=60, confirm_timeout=600)
    t0 = time.monotonic()
    rep = PushEngine(plans, creds, opts, vantage=vantage).run()
    return rep, time.monotonic() - t0


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU ticks of the whole machine so far (/proc/stat: idle and iowait are not busy)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return float(sum(v) - v[3] - v[4]), float(sum(v))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inventory", default="tests/fixtures/inventories/safelab")
    ap.add_argument("--workers", type=int, default=16)
    ap.add_argument("--min-hold", type=float, default=5.0)
    ap.add_argument("--candidates", type=int, default=3, help="slowest fleet devices re-pushed alone")
    ap.add_argument("--limit", default=None)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if not (1 <= a.workers <= 64 and 0 <= a.min_hold <= 60 and 1 <= a.candidates <= 10):
        print("--workers 1..64, --min-hold 0..60, --candidates 1..10", file=sys.stderr)
        return 2

    p = load_inventory(a.inventory)
    names = select(p, a.limit).routers
    creds = credentials.load(p)
    credentials.install_redaction(creds)
    vantage = lab_vantage(p)
    # as `net push` does on a lab (the service layer): the provincial core has more OSPF interfaces than
    # a namespace's default IGMP membership limit (20) - without this, its 21st+ links never see a hello
    ensure_lab_router_sysctls(p, names, log=lambda m: print(m, file=sys.stderr))
    load_start = os.getloadavg()
    print(f"{len(names)} routers in lab {p.meta.name}; warm-up push to the rendered config ...", file=sys.stderr)
    rep, wall = push(p, names, creds, vantage, a.workers, a.min_hold, 0)
    if not rep.ok:
        print(json.dumps(rep.counts()), file=sys.stderr)
        print("warm-up push failed: fix the lab first (egovops net push; egovops net verify)", file=sys.stderr)
        return 1
    print(f"warm-up: {rep.counts()} in {wall:.1f}s", file=sys.stderr)

    print(f"fleet: {len(names)} routers, one wave, --workers {a.workers} ...", file=sys.stderr)
    settled = settle(p)          # before the CPU counters: the wait is not the push's
    load_fleet = os.getloadavg()
    cpu0, busy0 = resource.getrusage(resource.RUSAGE_SELF), machine_busy()
    fleet, fleet_s = push(p, names, creds, vantage, a.workers, a.min_hold, 1)
    cpu1, busy1 = resource.getrusage(resource.RUSAGE_SELF), machine_busy()
    fc = fleet.counts()
    print(f"  {fc} in {fleet_s:.1f}s", file=sys.stderr)
    own = {r.name: sum(r.seconds.values()) for r in fleet.results}
    phases = {k: round(statistics.median([r.seconds.get(k, 0.0) for r in fleet.results]), 2)
              for k in ("connect", "apply", "verify", "confirm")}
    most_neighbours = max(names, key=lambda n: len(intent_of(p, n)["interfaces"]))
    candidates = list(dict.fromkeys(sorted(own, key=lambda n: own[n], reverse=True)[:a.candidates] + [most_neighbours]))
    singles: dict[str, float] = {}
    single_failed = 0
    for n in candidates:
        rep1, s = push(p, [n], creds, vantage, 1, a.min_hold, 0)        # toggled back: a real change again
        singles[n] = round(s, 2)
        single_failed += not rep1.ok
        print(f"  alone: {n} {s:.2f}s ({rep1.results[0].status})", file=sys.stderr)
    slowest = max(singles, key=lambda n: singles[n])
    push(p, names, creds, vantage, a.workers, a.min_hold, 0)           # leave the lab at the rendered config
    out = {"devices": len(names), "workers": a.workers, "min_hold_s": a.min_hold,
           "fleet_seconds": round(fleet_s, 2), "fleet_changed": fc["changed"], "settle_seconds": round(settled, 2),
           "fleet_wave_seconds": fleet.wave_seconds,
           "fleet_failed": fc["failed"] + fc["rolled-back"], "fleet_phase_median_seconds": phases,
           "slowest_device": slowest, "slowest_device_seconds": singles[slowest], "single_device_seconds": singles,
           "ratio": round(fleet_s / singles[slowest], 2), "goal_ratio_le": GOAL,
           # where the fleet push's CPU went: this controller (all its threads) and the whole machine
           # (2 cores; the idle lab's own routing daemons included)
           "fleet_controller_cpu_seconds": round(cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime, 2),
           "fleet_machine_busy_cores": round((busy1[0] - busy0[0]) / (busy1[1] - busy0[1]) * (os.cpu_count() or 1), 2),
           "goal_met": fleet_s <= GOAL * singles[slowest],
           # 1/5/15-min load averages of the (shared) machine: at the start, before the fleet push, at the end
           "load_average": {"start": [round(x, 1) for x in load_start], "fleet": [round(x, 1) for x in load_fleet],
                            "end": [round(x, 1) for x in os.getloadavg()]}}
    if a.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"devices: {out['devices']} (min-hold {a.min_hold}s, {a.workers} workers)")
        print(f"fleet push: {out['fleet_seconds']} s ({out['fleet_changed']} changed, {out['fleet_failed']} failed)")
        print(f"slowest single device pushed alone: {slowest} {out['slowest_device_seconds']} s")
        print(f"ratio fleet / slowest single: {out['ratio']} (goal <= {GOAL:g}: {'met' if out['goal_met'] else 'NOT met'})")
        print(f"load average (1/5/15 min) before the fleet push: {out['load_average']['fleet']}")
    return 0 if out["fleet_failed"] == 0 and not single_failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
