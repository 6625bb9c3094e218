"""The host firewall of each host (``egov_host_firewall``): zones.yaml ``host_firewall`` plus the catalogue's calls.

Why per host: the general entries open a port on every host (or on the hosts of the ``kinds`` they
name), but a cross-node call (zones.yaml ``calls``, an industry cloud's ``consumes``) opens the called
service's port on the callee's host only, and only to the callers' service LANs in both families.
Every call comes from :func:`egovops.render.pulumi_config.cross_node` (the same derivation the
NetworkPolicies use), so the firewall and the policies cannot disagree about who calls whom.

A lab host stands for a whole node, so the firewall decides per (caller node's LANs, port): two
services of one node on the same port are told apart by the NetworkPolicies, not here.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from egovops.model.addressing import IPNetwork
from egovops.model.province import Node, Province
from egovops.render.pulumi_config import cross_node

FROM_NODES = "nodes"  # egov_host_firewall entries with explicit source prefixes (the calls)


@dataclass(frozen=True)
class NodeCall:
    """One catalogue call between two nodes: ``caller:caller_service -> callee:callee_service`` on ``port``."""

    caller: str            # node slug (or industry cloud slug)
    caller_service: str    # service slug ("*": an industry cloud's consumer)
    callee: str
    callee_service: str
    port: int
    why: str
    sources: tuple[str, str]   # the caller's service LANs (IPv4, IPv6)

    @property
    def label(self) -> str:
        return f"{self.caller}:{self.caller_service} -> {self.callee}:{self.callee_service}"


def node_calls(province: Province) -> list[NodeCall]:
    """Every call of the catalogue between two nodes, as the callees' stack configs admit them (ingress)."""
    out = []
    for node in province.nodes:
        for e in cross_node(province, node):
            if e["direction"] != "ingress":
                continue
            peer, _, peer_svc = str(e["peer"]).partition(":")
            v4, v6 = sorted(e["cidrs"], key=lambda c: ipaddress.ip_network(c).version)
            out.append(NodeCall(peer, peer_svc, node.slug, str(e["service"]), int(e["port"]), str(e["why"]), (v4, v6)))
    return sorted(out, key=lambda c: (c.callee, c.port, c.caller, c.callee_service, c.caller_service))


def source_sets(province: Province) -> dict[str, dict[str, list[str]]]:
    """The prefixes behind a general entry's ``from`` (zones.yaml: ``management`` = the NOC's
    out-of-band network, ``extranet`` = any extranet prefix), per family, for the template's sets.

    The extranet is the plan's loopback, p2p and service supernets plus every managed industry
    cloud's prefixes (its service LAN and own space: exactly what the core accepts from it). An
    industry cloud is an extranet member (industry.yaml ``zone``: extranet only), so it reaches what
    any extranet caller reaches (443 …); a cloud the province does not manage is not routed and not
    admitted. Overlaps are merged so the nftables interval sets stay valid."""
    s = province.supernets
    extranet: list[IPNetwork] = [s.loopback4, s.p2p4, s.service4, s.loopback6, s.p2p6, s.service6]
    extranet += [n for c in province.managed_industry() for n in c.accepted_prefixes]
    v4 = ipaddress.collapse_addresses(n for n in extranet if isinstance(n, ipaddress.IPv4Network))
    v6 = ipaddress.collapse_addresses(n for n in extranet if isinstance(n, ipaddress.IPv6Network))
    return {"management": {"ipv4": [str(s.management4)], "ipv6": [str(s.management6)]},
            "extranet": {"ipv4": [str(n) for n in v4], "ipv6": [str(n) for n in v6]}}


def general_rules(province: Province, kind: str | None = None) -> list[dict[str, Any]]:
    """zones.yaml ``host_firewall`` entries that apply to a host of ``kind`` (None: those for every host)."""
    return [{"port": h.port, "proto": h.proto, "from": h.from_, "why": h.why}
            for h in province.zones.host_firewall
            if h.kinds is None or (kind is not None and kind in h.kinds)]


def call_rules(province: Province, node: Node) -> list[dict[str, Any]]:
    """One rule per port the node's services are called on: the callers' service LANs, both families."""
    by_port: dict[int, list[NodeCall]] = {}
    for c in node_calls(province):
        if c.callee == node.slug:
            by_port.setdefault(c.port, []).append(c)
    rules = []
    for port, calls in sorted(by_port.items()):
        v4 = sorted({c.sources[0] for c in calls}, key=ipaddress.ip_network)
        v6 = sorted({c.sources[1] for c in calls}, key=ipaddress.ip_network)
        called = sorted({c.callee_service for c in calls})
        callers = sorted({c.caller for c in calls})
        rules.append({"port": port, "proto": "tcp", "from": FROM_NODES, "sources": {"ipv4": v4, "ipv6": v6},
                      "why": f"catalogue calls to {', '.join(called)} from {len(callers)} node(s): {', '.join(callers)}"})
    return rules


def host_rules(province: Province, node: Node) -> list[dict[str, Any]]:
    """The whole inbound allow-list of one host: the general entries for its kind, then its calls."""
    return general_rules(province, node.kind) + call_rules(province, node)


def admits(rules: list[dict[str, Any]], province: Province, source: str, port: int, proto: str = "tcp") -> bool:
    """Whether a host with these rules accepts ``source`` (an address) on ``proto``/``port`` — the
    template's semantics (roles/baseline nftables.conf.j2), evaluated here to pick denied flows."""
    ip = ipaddress.ip_address(source)
    nets = {k: [ipaddress.ip_network(n) for n in v["ipv4"] + v["ipv6"]] for k, v in source_sets(province).items()}
    for r in rules:
        if r["port"] != port or r["proto"] != proto:
            continue
        if r["from"] == "any":
            return True
        if r["from"] == FROM_NODES:
            cands = [ipaddress.ip_network(c) for c in r["sources"]["ipv4"] + r["sources"]["ipv6"]]
        else:
            cands = nets.get(r["from"], [])
        if any(ip.version == n.version and ip in n for n in cands):
            return True
    return False
