#!/usr/bin/env python3
"""Reconvergence after cutting one backbone plane of a city: how long its loopback is unreachable (v4, v6).

    .venv/bin/python bench/net_reconvergence.py [--inventory inventories/lab] [--city chuzhou] [--plane d]

Needs a lab after `egovops net push` (converged). From the provincial NOC vantage (the provincial
node host's namespace) it pings the city router's loopback over IPv4 and IPv6 every 10 ms
(bounded: ``--seconds`` x 100 probes each), sets the city's backbone veth of the chosen plane
down (``up-d``: data, the preferred plane; ``up-v``: video) half a second in, and reports the
outage: the gap between the last reply before and the first reply after the cut. The link is set
up again afterwards and the script waits (bounded) for both planes' adjacencies to return.
Lab safety: only lab addresses, only inside the lab's namespaces, bounded in count and time.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from egovops.lab import ns_of  # noqa: E402
from egovops.model import load_inventory  # noqa: E402

INTERVAL = 0.01


def probe(ns: str, addr: str, count: int, out: dict) -> None:
    fam = "-6" if ":" in addr else "-4"
    res = subprocess.run(["ip", "netns", "exec", ns, "ping", fam, "-n", "-D", "-i", str(INTERVAL), "-W", "1",
                          "-c", str(count), addr], capture_output=True, text=True, timeout=count * INTERVAL + 30)
    out[addr] = [(float(m.group(1)), int(m.group(2))) for m in
                 re.finditer(r"^\[(\d+\.\d+)\].*icmp_seq=(\d+)", res.stdout, re.M)]


def outage(replies: list[tuple[float, int]], cut: float, count: int) -> dict:
    """Time from the cut until replies resume for good: the first reply after the last loss.

    Probes go out every 10 ms with sequence numbers; a jump in the sequence is a loss. Losses that
    come and go (replies resume, then drop again during SPF) count until the last one.
    """
    before = [(t, q) for t, q in replies if t <= cut]
    after = [(t, q) for t, q in replies if t > cut]
    if not after or after[-1][1] < count - 5:          # replies stopped before the end: not recovered
        return {"recovered": False, "lost_probes": count - len(replies)}
    prev = before[-1][1] if before else 0
    recovered_at = None
    for t, q in after:
        if q - prev > 1:
            recovered_at = t
        prev = q
    lost = (after[-1][1] - (before[-1][1] if before else 0)) - len(after)
    return {"recovered": True, "outage_s": round(recovered_at - cut, 3) if recovered_at else 0.0,
            "lost_probes": lost}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inventory", default="inventories/lab")
    ap.add_argument("--city", default="chuzhou")
    ap.add_argument("--plane", choices=["d", "v"], default="d")
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()

    p = load_inventory(a.inventory)
    city = p.node(a.city)
    rt = p.router(city.router)
    prov = next(n for n in p.nodes if n.kind == "provincial")
    vantage_ns, router_ns = ns_of(p, prov.slug), ns_of(p, rt.name)
    ifname = f"up-{a.plane}"
    targets = [str(rt.loopback.ipv4.ip), str(rt.loopback.ipv6.ip)]
    count = int(a.seconds / INTERVAL)
    results: dict = {}
    threads = [threading.Thread(target=probe, args=(vantage_ns, t, count, results)) for t in targets]
    for t in threads:
        t.start()
    time.sleep(0.5)
    cut = time.time()
    subprocess.run(["ip", "-n", router_ns, "link", "set", ifname, "down"], check=True)
    try:
        for t in threads:
            t.join(timeout=a.seconds + 40)
    finally:
        subprocess.run(["ip", "-n", router_ns, "link", "set", ifname, "up"], check=True)
    out = {"city": a.city, "router": rt.name, "cut": ifname, "vantage": prov.slug,
           "ipv4": outage(results.get(targets[0], []), cut, count),
           "ipv6": outage(results.get(targets[1], []), cut, count)}
    worst = max(out[f].get("outage_s", 1e9) for f in ("ipv4", "ipv6"))
    out["reconvergence_s"] = worst
    out["goal_lt_1s"] = worst < 1.0
    # wait (bounded) until the plane is back in OSPF on the router, so the lab is left as found
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        nb = subprocess.run(["vtysh", "-N", router_ns, "-c", "show ip ospf neighbor json"], capture_output=True,
                            text=True, timeout=10).stdout
        if f'"ifaceName":"{ifname}:' in nb.replace(" ", "") and "Full" in nb:
            break
        time.sleep(0.5)
    if a.json:
        print(json.dumps(out, indent=2))
    else:
        for f in ("ipv4", "ipv6"):
            o = out[f]
            print(f"{f}: " + (f"reachable again after {o['outage_s']} s ({o['lost_probes']} probes of 10 ms lost)"
                              if o.get("recovered") else "NOT recovered"))
        print(f"reconvergence after cutting {rt.name} {ifname}: {worst} s (goal < 1 s: "
              f"{'met' if out['goal_lt_1s'] else 'NOT met'})")
    return 0 if out["goal_lt_1s"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
