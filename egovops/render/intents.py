"""Router intents: per device, everything a config template needs (interfaces, addresses, IGP, BGP, NOC).

An intent is vendor-neutral data; egovops.network renders it to FRR or Huawei VRP syntax.
"""

from __future__ import annotations

from typing import Any

from egovops.model.province import IndustryCloud, Link, Province, Router
from egovops.render.files import dump_json


def intent(province: Province, r: Router) -> dict[str, Any]:
    interfaces: list[dict[str, Any]] = []  # the untyped render -> network contract (issue 14: a typed intent)
    for link, local, remote in province.links_of(r.name):
        interfaces.append({
            "name": local.ifname,
            "kind": link.kind,
            "plane": link.plane,
            "ipv4": str(local.address.ipv4),
            "ipv6": str(local.address.ipv6),
            "peer": remote.device,
            "peer_interface": remote.ifname,
            "peer_ipv4": str(remote.address.ipv4.ip),
            "peer_ipv6": str(remote.address.ipv6.ip),
            "bandwidth_mbps": link.bandwidth_mbps,
            "ospf_area": link.area,
            "ospf_cost": link.cost,
            "ospf_passive": link.kind == "access",
            "bfd": link.bfd,
            **({"industry": _cloud_of(province, link).slug} if link.kind == "extra" else {}),
        })
    interfaces.sort(key=lambda i: i["name"])
    bgp = []
    if r.role in ("core", "external"):
        for i in interfaces:
            if i["kind"] == "uplink":
                peer = province.router(i["peer"])
                bgp.append({"peer": i["peer"], "asn": peer.asn, "ipv4": i["peer_ipv4"], "ipv6": i["peer_ipv6"],
                            "interface": i["name"], "plane": i["plane"]})
    extra: dict[str, Any] = {}
    if r.role == "core" and province.managed_industry():
        extra["industry"] = [core_side(province, c) for c in province.managed_industry()]
        for c in province.managed_industry():
            bgp += core_sessions(c)
    elif r.role == "industry":
        own = province.industry_cloud(r.name)
        assert own is not None
        core = province.router(own.wan_links[0].a.device)
        if own.routing == "bgp":
            bgp += [{"peer": core.name, "asn": core.asn, "ipv4": str(link.a.address.ipv4.ip),
                     "ipv6": str(link.a.address.ipv6.ip), "interface": link.b.ifname, "plane": link.plane,
                     "industry": own.slug} for link in own.wan_links]
        extra["cloud"] = cloud_side(own)
    s = province.supernets
    return {
        **extra,
        "name": r.name,
        "name_zh": r.name_zh,
        "role": r.role,
        "city": r.city,
        "site": r.site,
        "asn": r.asn,
        "router_id": str(r.loopback.ipv4.ip),
        "loopback": r.loopback.as_dict(),
        "loopback_area": r.area,
        "management": r.management.as_dict(),
        "interfaces": interfaces,
        "bgp": bgp,
        "ospf": {"hello": province.routing.ospf_hello_seconds, "dead": province.routing.ospf_dead_seconds,
                 "bfd": province.routing.bfd},
        "noc": {"ntp": list(province.noc.ntp), "syslog": list(province.noc.syslog),
                "management": {"ipv4": str(s.management4), "ipv6": str(s.management6)}},
        "aggregates": {"ipv4": [str(s.loopback4), str(s.p2p4), str(s.service4)],
                       "ipv6": [str(s.loopback6), str(s.p2p6), str(s.service6)]},
    }


def _cloud_of(province: Province, link: Link) -> IndustryCloud:
    c = province.industry_cloud(link.b.device) or province.industry_cloud(link.a.device)
    if c is None:
        raise ValueError(f"link {link.name}: an extranet link with no industry cloud at either end")
    return c


def accepted(c: IndustryCloud) -> dict[str, list[dict[str, Any]]]:
    """What the core accepts from cloud ``c``: its prefixes (up to its LAN length) and its router's loopback.

    Every prefix is (cidr, le): a cloud may announce its own space split down to LAN size, never
    anything else — no provincial prefix, no other cloud's, no default route.
    """
    out: dict[str, list[dict[str, Any]]] = {"ipv4": [], "ipv6": []}
    loops = (c.router.loopback.ipv4.network, c.router.loopback.ipv6.network)
    for net in (*c.accepted_prefixes, *loops):
        lan = 26 if net.version == 4 else 64
        out[f"ipv{net.version}"].append({"prefix": str(net), "le": lan if net.prefixlen < lan else None})
    return out


def core_side(province: Province, c: IndustryCloud) -> dict[str, Any]:
    """The provincial core's side of one industry cloud's attachment (vendor-neutral)."""
    return {"cloud": c.slug, "department": c.department, "routing": c.routing, "asn": c.asn, "area": c.area,
            "max_prefix": c.max_prefix, "accept": accepted(c),
            "filter": {"ipv4": filter_name(c.slug, 4), "ipv6": filter_name(c.slug, 6)},
            "interfaces": [link.a.ifname for link in c.wan_links]}


def core_sessions(c: IndustryCloud) -> list[dict[str, Any]]:
    """The core's eBGP sessions towards a BGP-attached cloud: one per plane (none for OSPF)."""
    if c.routing != "bgp":
        return []
    return [{"peer": c.router.name, "asn": c.asn, "ipv4": str(link.b.address.ipv4.ip),
             "ipv6": str(link.b.address.ipv6.ip), "interface": link.a.ifname, "plane": link.plane,
             "industry": c.slug, "max_prefix": c.max_prefix} for link in c.wan_links]


def cloud_side(c: IndustryCloud) -> dict[str, Any]:
    """What the cloud's own router announces (the lab plays the department's router with it)."""
    own = [*c.accepted_prefixes, c.router.loopback.ipv4.network, c.router.loopback.ipv6.network]
    return {"cloud": c.slug, "department": c.department, "routing": c.routing, "area": c.area,
            "own": {"ipv4": [str(n) for n in c.own_prefixes if n.version == 4],
                    "ipv6": [str(n) for n in c.own_prefixes if n.version == 6]},
            "announce": {"ipv4": [str(n) for n in own if n.version == 4], "ipv6": [str(n) for n in own if n.version == 6]}}


def filter_name(cloud: str, version: int) -> str:
    """The core's import filter of one cloud (prefix list and route map share it)."""
    return f"IND-{cloud.upper()}-V{version}"


def render(province: Province) -> dict[str, str]:
    return {f"{r.name}.json": dump_json(province, intent(province, r)) for r in province.routers}
