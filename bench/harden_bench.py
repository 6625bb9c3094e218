"""Benchmark: `egovops harden` (first run, re-runs, --check) and `egovops comply` on the lab's hosts.

Brings up its own lab (inventory ``benchharden``: the testlab with its own name and management
network, all 19 hosts, no counties), runs the commands as an operator would (the CLI, --json), prints
wall times and the goals (comply < 20 s, harden first run < 60 s and re-run < 30 s on 19 hosts), and
tears the lab down again if it brought it up. Prints the machine's load average too: these figures
depend on what else runs. ``--env KEY=VALUE`` measures an Ansible lever on the harden runs (e.g.
``ANSIBLE_STRATEGY=free``) without changing the project's defaults; ``--env EGOVOPS_ANSIBLE_MITOGEN=0``
measures the plain ssh connection instead of Mitogen's strategy (the default of harden). Settings the
runner pins itself (forks = hosts, pipelining, no fact gathering, ssh args) are not overridden by --env.

    sudo .venv/bin/python bench/harden_bench.py [--hosts 19] [--reruns 2] [--env ANSIBLE_STRATEGY=free] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
TESTLAB = REPO / "tests" / "fixtures" / "inventories" / "testlab"


def make_inventory(root: Path) -> Path:
    d = root / "benchharden"
    d.mkdir(parents=True, exist_ok=True)
    (d / "inventory.yaml").write_text(f"name: benchharden\nname_zh: 基准测试\nenvironment: lab\nversion: bench\nbase: {TESTLAB}\n")
    text = (TESTLAB / "addressing.yaml").read_text()
    (d / "addressing.yaml").write_text(text.replace("198.19.16.0/20", "198.19.128.0/20")
                                       .replace("fd00:34:0:fe::/64", "fd00:34:0:f7::/64"))
    return d


def run(inv: Path, *args: str, env: dict[str, str] | None = None) -> tuple[float, dict, int]:
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "egovops.cli.main", *args, "--inventory", str(inv), "--json"],
                       capture_output=True, text=True, cwd=REPO, timeout=3600, env={**os.environ, **(env or {})})
    wall = time.monotonic() - t0
    try:
        data = json.loads(r.stdout)
    except json.JSONDecodeError:
        data = {"stdout": r.stdout[-2000:], "stderr": r.stderr[-2000:]}
    return wall, data, r.returncode


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hosts", type=int, default=19)
    ap.add_argument("--keep", action="store_true", help="leave the lab up afterwards")
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                    help="extra environment for the harden runs, to measure a lever (e.g. ANSIBLE_STRATEGY=free)")
    ap.add_argument("--reruns", type=int, default=1, help="re-runs of harden after the first run (each timed)")
    a = ap.parse_args()
    from egovops.lab import lab_down, lab_state, lab_up
    from egovops.model import load_inventory
    inv = make_inventory(Path(tempfile.gettempdir()) / "egovops-bench")
    p = load_inventory(inv)
    brought = lab_state(p) is None
    t0 = time.monotonic()
    lab_up(p)
    print(f"lab up: {time.monotonic() - t0:.1f}s", flush=True)
    names = [n.slug for n in p.nodes][: a.hosts]
    limit = ",".join(names)
    results = {}
    env = dict(kv.split("=", 1) for kv in a.env)
    try:
        runs = [("harden first run", ["harden", "--limit", limit])]
        runs += [(f"harden re-run{'' if i == 0 else f' {i + 1}'}", ["harden", "--limit", limit]) for i in range(a.reruns)]
        runs += [("harden --check", ["harden", "--check", "--limit", limit]),
                 ("comply", ["comply", "--limit", limit, "--waivers", str(REPO / "egovops/compliance/waivers/lab.yaml")])]
        for label, args in runs:
            load = os.getloadavg()[0]
            wall, data, rc = run(inv, *args, env=env if args[0] == "harden" else None)
            changed = data.get("changed")
            results[label] = {"wall_s": round(wall, 1), "rc": rc, "load1": round(load, 1),
                              "hosts": len(data.get("hosts", data.get("summary", {}).get("nodes", {}))),
                              **({"changed": changed} if changed is not None else {}),
                              **({"counts": data["summary"]["counts"]} if "summary" in data else {})}
            print(f"{label:18s} {wall:7.1f}s  rc={rc}  load1 before={load:.1f}  "
                  + json.dumps({k: v for k, v in results[label].items() if k in ("changed", "counts", "hosts")}),
                  flush=True)
    finally:
        if brought and not a.keep:
            lab_down(p)
    goals = {"comply < 20 s": results.get("comply", {}).get("wall_s", 1e9) < 20,
             "first-run harden < 60 s": results.get("harden first run", {}).get("wall_s", 1e9) < 60,
             "re-run harden < 30 s": results.get("harden re-run", {}).get("wall_s", 1e9) < 30}
    print(json.dumps({"hosts": len(names), "env": env, "results": results, "goals_met": goals, "cpus": os.cpu_count()},
                     indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
