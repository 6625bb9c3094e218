#!/usr/bin/env python3
"""Benchmark: `lab up` wall time and peak RAM, median of N runs, default and --counties scale.

Uses its own throw-away lab (inventory "benchlab": the testlab plus its own name and management
network), so it never touches a developer's lab or the test lab. The rootfs cache must exist
(a first `lab up` builds it); every figure printed is measured in this run.

RAM: the sum of PSS (/proc/<pid>/smaps_rollup) of every process of the lab (FRR daemons, sshd,
nspawn and everything inside the hosts), sampled every 0.5 s during `up` and for SETTLE seconds
after; the peak is reported. Also MemAvailable's drop (machine-wide, so noisy when others work).

    sudo .venv/bin/python bench/lab_up.py [--runs 3] [--counties] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from egovops.lab import lab_down, lab_up, status  # noqa: E402
from egovops.lab.lifecycle import lab_pids  # noqa: E402
from egovops.model import load_inventory  # noqa: E402

SETTLE = 10.0


def pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def mem_available_kib() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1])
    return 0


class Sampler(threading.Thread):
    def __init__(self, province):
        super().__init__(daemon=True)
        self.p, self.stop_flag, self.peak_pss, self.peak_drop = province, threading.Event(), 0, 0
        self.base_avail = mem_available_kib()

    def run(self) -> None:
        while not self.stop_flag.is_set():
            self.peak_pss = max(self.peak_pss, sum(pss_kib(p) for p in lab_pids(self.p)))
            self.peak_drop = max(self.peak_drop, self.base_avail - mem_available_kib())
            self.stop_flag.wait(0.5)


def make_inventory(tmp: Path) -> Path:
    base = REPO / "tests/fixtures/inventories/testlab"
    d = tmp / "benchlab"
    d.mkdir()
    (d / "inventory.yaml").write_text(f"name: benchlab\nname_zh: 基准测试\nenvironment: lab\nversion: bench\nbase: {base}\n")
    (d / "addressing.yaml").write_text((base / "addressing.yaml").read_text()
                                       .replace("198.19.16.0/20", "198.19.240.0/20").replace("fd00:34:0:fe::/64", "fd00:34:0:e4::/64"))
    return d


def one_run(p, counties: bool) -> dict:
    lab_down(p)
    time.sleep(2)
    s = Sampler(p)
    s.start()
    t0 = time.monotonic()
    res = lab_up(p, counties=counties)
    up_s = time.monotonic() - t0
    st = status(p)
    assert st is not None, "the lab is up: it has a state"
    reachable = sum(1 for d in st.devices if d.up and d.ssh_ipv4 and d.ssh_ipv6)
    time.sleep(SETTLE)
    s.stop_flag.set()
    s.join()
    t1 = time.monotonic()
    lab_down(p)
    down_s = time.monotonic() - t1
    return {"up_s": round(up_s, 2), "down_s": round(down_s, 2), "routers": res.routers, "hosts": res.hosts,
            "reachable_v4_v6": reachable, "peak_pss_mib": round(s.peak_pss / 1024), "peak_memavailable_drop_mib":
            round(s.peak_drop / 1024), "loadavg_after": os.getloadavg()[0]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--counties", action="store_true")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        p = load_inventory(make_inventory(Path(tmp)))
        runs = []
        try:
            for i in range(a.runs):
                r = one_run(p, a.counties)
                runs.append(r)
                print(f"run {i + 1}: {r}", file=sys.stderr)
        finally:
            lab_down(p)
    med = {k: statistics.median(r[k] for r in runs) for k in ("up_s", "down_s", "peak_pss_mib", "peak_memavailable_drop_mib")}
    out = {"scale": "counties" if a.counties else "default", "runs": runs, "median": med, "cpus": os.cpu_count()}
    if a.json:
        print(json.dumps(out, indent=2))
    else:
        r0 = runs[0]
        print(f"lab up ({out['scale']}: {r0['routers']} routers, {r0['hosts']} hosts), median of {len(runs)}: "
              f"up {med['up_s']:.1f} s, down {med['down_s']:.1f} s, peak PSS {med['peak_pss_mib']:.0f} MiB, "
              f"peak MemAvailable drop {med['peak_memavailable_drop_mib']:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
