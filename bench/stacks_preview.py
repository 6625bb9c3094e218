"""Benchmark: the offline preview of every stack (goal: all 19 stacks in < 30 s).

Prints wall time, the CPU time this process tree used, and the load average, because on a shared
2-core machine the wall time says as much about the neighbours as about the preview.

    .venv/bin/python bench/stacks_preview.py [--inventory inventories/anhui] [--jobs 2]
"""

from __future__ import annotations

import argparse
import os
import resource
import time

from egovops.model.load import load_inventory
from egovops.stacks import preview


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--inventory", default="inventories/anhui")
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    p = load_inventory(a.inventory)
    load0 = os.getloadavg()[0]
    t0 = time.monotonic()
    report = preview.preview(p, jobs=a.jobs)
    wall = time.monotonic() - t0
    cpu = sum(getattr(resource.getrusage(w), f) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
              for f in ("ru_utime", "ru_stime"))
    t = report.as_dict(detail=False)["totals"]
    print(f"stacks={t['stacks']} resources={t['resources']} kubernetes_objects={t['kubernetes_objects']} "
          f"ok={report.ok} jobs={a.jobs} wall={wall:.1f}s cpu={cpu:.1f}s "
          f"load1_before={load0:.1f} load1_after={os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
