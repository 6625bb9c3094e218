"""End-to-end checks of the extranet: what is reachable, which adjacencies are up, what is broken where.

Three views, each a list of rows with ``ok`` and a reason, so the CLI can print "what is broken
and where" and ``--json`` carries the same facts:

* **reachability** — every selected router's loopback from the NOC vantage, over IPv4 and IPv6;
* **matrix** — (lab) every cloud node's service address from every other cloud node's host,
  over IPv4 and IPv6: the 17 × 16 × 2 "between all nodes" view;
* **protocols** — per router, the OSPF/OSPFv3 neighbours, BFD sessions and BGP sessions its
  intent implies (towards neighbours that are up), read from the router over SSH; and (FRR) every
  interface address the dual-stack plan puts on it, IPv4 and IPv6 counted separately — a link
  down/up that silently dropped an IPv6 address is reported as ``address_ipv6`` missing.
"""

from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from egovops.model.province import Province
from egovops.network.credentials import Credentials
from egovops.network.device import DeviceError, Session, open_session
from egovops.network.targets import expected_adjacencies, intent_of, target_of
from egovops.network.vantage import Vantage, reach_many


@dataclass
class VerifyReport:
    reachability: list[dict[str, Any]] = field(default_factory=list)
    matrix: list[dict[str, Any]] = field(default_factory=list)
    protocols: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return all(r["ok"] for r in self.reachability + self.matrix + self.protocols)

    def broken(self) -> list[dict[str, Any]]:
        return [r for r in self.reachability + self.matrix + self.protocols if not r["ok"]]

    def as_dict(self) -> dict[str, Any]:
        def tally(rows: list[dict[str, Any]]) -> dict[str, int]:
            return {"ok": sum(r["ok"] for r in rows), "total": len(rows)}
        return {"ok": self.ok, "seconds": round(self.seconds, 2), "attempts": self.attempts,
                "summary": {"reachability": tally(self.reachability), "matrix": tally(self.matrix),
                            "protocols": tally(self.protocols)},
                "broken": self.broken(), "reachability": self.reachability, "matrix": self.matrix,
                "protocols": self.protocols}


def check_reachability(province: Province, routers: list[str], vantage: Vantage,
                       workers: int) -> list[dict[str, Any]]:
    addrs: list[tuple[str, str, str]] = []
    for n in routers:
        r = province.router(n)
        addrs += [(n, "ipv4", str(r.loopback.ipv4.ip)), (n, "ipv6", str(r.loopback.ipv6.ip))]
    res = reach_many(vantage, [a for _, _, a in addrs], workers)
    return [{"check": "reachability", "from": vantage.name, "to": n, "family": fam, "address": a, "ok": res[a]}
            for n, fam, a in addrs]


def check_matrix(province: Province, nodes: list[str], vantage_of: Callable[[str], Vantage],
                 workers: int) -> list[dict[str, Any]]:
    """Every node from every other node, both families: one batch probe per source node."""
    pairs: list[tuple[str, str, str, str]] = []
    for src in nodes:
        for dst in nodes:
            if src == dst:
                continue
            n = province.node(dst)
            pairs += [(src, dst, "ipv4", str(n.address.ipv4.ip)), (src, dst, "ipv6", str(n.address.ipv6.ip))]

    def probe(src: str) -> dict[str, bool]:
        return reach_many(vantage_of(src), [a for s, _, _, a in pairs if s == src], workers)

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(nodes) or 1))) as pool:
        seen = dict(zip(nodes, pool.map(probe, nodes), strict=True))
    return [{"check": "matrix", "from": src, "to": dst, "family": fam, "address": addr, "ok": seen[src][addr]}
            for src, dst, fam, addr in pairs]


def expected_addresses(province: Province, name: str, present: set[str] | None = None) -> list[tuple[str, str, str]]:
    """(interface, family, address/prefix) the plan puts on router ``name``: its loopback on ``lo``
    and both ends' addresses of every link whose far end is ``present`` (None: all links)."""
    it = intent_of(province, name)
    out = [("lo", "ipv4", it["loopback"]["ipv4"]), ("lo", "ipv6", it["loopback"]["ipv6"])]
    for i in it["interfaces"]:
        if present is None or i["peer"] in present:
            out += [(i["name"], "ipv4", i["ipv4"]), (i["name"], "ipv6", i["ipv6"])]
    return out


def address_rows(province: Province, name: str, interfaces_json: str,
                 present: set[str] | None = None) -> list[dict[str, Any]]:
    """One row per planned address with ``present`` True/False, from FRR's ``show interface json``.

    Fail closed: an answer that is not a JSON object of interfaces raises ValueError (an unread
    interface table is never "every address present")."""
    data = json.loads(interfaces_json)
    if not isinstance(data, dict) or not data:
        raise ValueError(f"{name}: 'show interface json' answered no interface table")
    have: set[tuple[str, Any]] = set()
    for ifname, info in data.items():
        for a in (info or {}).get("ipAddresses") or []:
            try:
                have.add((ifname, ipaddress.ip_interface(a["address"])))
            except (KeyError, TypeError, ValueError):
                continue
    return [{"router": name, "iface": ifname, "family": fam, "address": addr,
             "present": (ifname, ipaddress.ip_interface(addr)) in have}
            for ifname, fam, addr in expected_addresses(province, name, present)]


def present_devices(province: Province, routers: list[str]) -> set[str]:
    """Routers given plus the nodes hanging off them (a lab brings a node's host with its router)."""
    return set(routers) | {n.slug for n in province.nodes if n.router in set(routers)} \
        | {c.slug for c in province.managed_industry() if c.router.name in set(routers)}


def _show(session: Session, command: str) -> str:
    """One show command on a vendor session (FRR's batch read; the engine's Session has no generic one)."""
    batch = getattr(session, "batch", None)
    if not callable(batch):
        raise DeviceError(f"{session.target.name}: {command!r}: this session cannot run show commands")
    return str(batch([command])[command])


def check_protocols(province: Province, routers: list[str], vendor: str, creds: Credentials, workers: int,
                    timeout: float = 20.0) -> list[dict[str, Any]]:
    present = set(routers)
    if province.meta.environment != "lab":   # production: the managed clouds' routers exist (not ours to log in to),
        present |= {c.router.name for c in province.managed_industry()}   # so the core's sessions to them count
    devices = present_devices(province, routers)

    def one(name: str) -> dict[str, Any]:
        want = expected_adjacencies(province, name, present)
        row: dict[str, Any] = {"check": "protocols", "router": name}
        addrs: list[dict[str, Any]] = []
        try:
            s = open_session(target_of(province, name, vendor, timeout), creds)
            try:
                have = s.protocol_state()
                if vendor == "frr":   # the interface table as FRR (zebra) sees the kernel's addresses
                    addrs = address_rows(province, name, _show(s, "show interface json"), devices)
            finally:
                s.close()
        except Exception as exc:
            return {**row, "ok": False, "error": str(exc)}
        if have.get("parsed") is not True:    # fail closed: state that was not read is never ok
            return {**row, "ok": False, "error": "adjacency state was not read for this router"}
        missing = {k: sorted(want[k] - set(have.get(k) or ())) for k in want}
        counts = {k: f"{len(want[k] & set(have.get(k) or ()))}/{len(want[k])}" for k in want}
        for fam in ("ipv4", "ipv6"):  # each family on its own: an IPv6-only loss is its own finding
            rows = [a for a in addrs if a["family"] == fam]
            if rows:
                counts[f"address_{fam}"] = f"{sum(a['present'] for a in rows)}/{len(rows)}"
                missing[f"address_{fam}"] = [f"{a['iface']} {a['address']}" for a in rows if not a["present"]]
        missing = {k: v for k, v in missing.items() if v}
        return {**row, "ok": not missing, "up": counts, "missing": missing}

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(routers)))) as pool:
        return list(pool.map(one, routers))


def verify(province: Province, routers: list[str], vendor: str, creds: Credentials, vantage: Vantage,
           workers: int = 16, nodes: list[str] | None = None,
           vantage_of: Callable[[str], Vantage] | None = None, wait: float = 0.0,
           progress: Callable[[str], None] = lambda m: None) -> VerifyReport:
    """Run every check; with ``wait`` > 0 repeat (1 s apart) until all pass or ``wait`` seconds pass."""
    t0 = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        rep = VerifyReport(attempts=attempt)
        rep.reachability = check_reachability(province, routers, vantage, workers)
        if nodes and vantage_of:
            rep.matrix = check_matrix(province, nodes, vantage_of, workers)
        rep.protocols = check_protocols(province, routers, vendor, creds, workers)
        rep.seconds = time.monotonic() - t0
        if rep.ok or time.monotonic() - t0 >= wait:
            return rep
        progress(f"attempt {attempt}: {len(rep.broken())} check(s) failing; retrying "
                 f"({wait - (time.monotonic() - t0):.0f}s left)")
        time.sleep(1.0)
