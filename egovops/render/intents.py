"""Router intents: per device, everything a config template needs (interfaces, addresses, IGP, BGP, NOC).

An intent is vendor-neutral data; egovops.network renders it to FRR or Huawei VRP syntax.
"""

from __future__ import annotations

from typing import Any

from egovops.model.province import Province, Router
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
        })
    interfaces.sort(key=lambda i: i["name"])
    bgp = []
    if r.role in ("core", "external"):
        for i in interfaces:
            if i["kind"] == "uplink":
                peer = province.router(i["peer"])
                bgp.append({"peer": i["peer"], "asn": peer.asn, "ipv4": i["peer_ipv4"], "ipv6": i["peer_ipv6"],
                            "interface": i["name"], "plane": i["plane"]})
    s = province.supernets
    return {
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


def render(province: Province) -> dict[str, str]:
    return {f"{r.name}.json": dump_json(province, intent(province, r)) for r in province.routers}
