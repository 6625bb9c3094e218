"""Industry clouds' attachment to the provincial core: vendor-neutral intents and route filters.

Why separate from :mod:`egovops.render.intents`: an industry cloud is an outside-managed network
(its department runs the router), so what the province owns is the *core side* of the attachment —
the interfaces toward it, the eBGP session or OSPF area, and the import filter that accepts only
the cloud's own prefixes (its service LANs and declared space, never a provincial prefix) with a
maximum-prefix limit. ``industry/<slug>.json`` describes the attachment of every listed cloud; the
core router's intent (:mod:`egovops.render.intents`) carries the attachments of the *managed*
clouds, and ``egovops.network.render`` renders them for both vendors (``industry_core`` gives one
cloud's lines alone).
"""

from __future__ import annotations

from typing import Any

from egovops.model.province import IndustryCloud, Province
from egovops.render import intents
from egovops.render.files import dump_json


def filter_name(cloud: IndustryCloud, version: int) -> str:
    return intents.filter_name(cloud.slug, version)


def attachment(province: Province, cloud: IndustryCloud) -> dict[str, Any]:
    """The core side and the cloud side of one attachment, every address from the plan."""
    core = province.router("province-rt")
    wan = [link for link in cloud.links if link.kind != "access"]
    lan = next(link for link in cloud.links if link.kind == "access")
    s = province.supernets
    return {
        "cloud": cloud.slug,
        "name_zh": cloud.name_zh,
        "name_en": cloud.name_en,
        "department": {"key": cloud.department, "name_zh": cloud.department_zh, "name_en": cloud.department_en},
        "exists": cloud.exists,
        "zone": cloud.zone,
        "routing": cloud.routing,
        "core": {
            "router": core.name,
            "asn": core.asn,
            "interfaces": [{"name": link.a.ifname, "plane": link.plane, "ipv4": str(link.a.address.ipv4),
                            "ipv6": str(link.a.address.ipv6), "peer_ipv4": str(link.b.address.ipv4.ip),
                            "peer_ipv6": str(link.b.address.ipv6.ip), "bandwidth_mbps": link.bandwidth_mbps,
                            "ospf_area": link.area, "ospf_cost": link.cost, "bfd": link.bfd} for link in wan],
            # the import filter: only the cloud's own prefixes (longer ones down to its LAN length)
            # and its router's loopback; the core's config (net render province-rt) carries it
            "accept": intents.accepted(cloud),
            "max_prefix": cloud.max_prefix,
            # what the province offers it: the extranet aggregates (it reaches the provincial services there)
            "announce": {"ipv4": [str(s.loopback4), str(s.p2p4), str(s.service4)],
                         "ipv6": [str(s.loopback6), str(s.p2p6), str(s.service6)]},
        },
        "cloud_router": {
            "name": cloud.router.name,
            "asn": cloud.asn,
            "area": cloud.area,
            "router_id": str(cloud.router.loopback.ipv4.ip),
            "loopback": cloud.router.loopback.as_dict(),
            "management": cloud.router.management.as_dict(),
            "interfaces": [{"name": link.b.ifname, "plane": link.plane, "ipv4": str(link.b.address.ipv4),
                            "ipv6": str(link.b.address.ipv6)} for link in wan]
            + [{"name": lan.a.ifname, "plane": None, "ipv4": str(lan.a.address.ipv4), "ipv6": str(lan.a.address.ipv6)}],
        },
        "host": {"name": cloud.slug, "ipv4": str(cloud.address.ipv4), "ipv6": str(cloud.address.ipv6),
                 "management": cloud.management.as_dict()},
        "service_cidrs": [str(cloud.service_v4), str(cloud.service_v6)],
        "hosts_services": list(cloud.hosts),
        "consumes": list(cloud.consumes),
        "dr_tier": cloud.dr_tier,
    }


def render(province: Province) -> dict[str, str]:
    out: dict[str, str] = {}
    for c in province.industry:
        out[f"{c.slug}.json"] = dump_json(province, attachment(province, c))
    return out
