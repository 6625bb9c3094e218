"""Industry clouds' attachment to the provincial core: vendor-neutral intents and route filters.

Why separate from :mod:`egovops.render.intents`: an industry cloud is an outside-managed network
(its department runs the router), so what the province owns is the *core side* of the attachment —
the interfaces toward it, the eBGP session or OSPF area, and the import filter that accepts only
the cloud's own prefixes (its service LANs and declared space, never a provincial prefix) with a
maximum-prefix limit. The core router's main intent is left unchanged so the 1+16 lab and its
golden configurations stay exactly as they are; ``industry/<slug>.json`` holds everything a push of
the attachment needs, and ``industry/<slug>.frr.conf`` / ``.vrp.cfg`` the core-side configuration.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from egovops.model.province import IndustryCloud, Province
from egovops.render.files import dump_json, header


def filter_name(cloud: IndustryCloud, version: int) -> str:
    return f"IND-{cloud.slug.upper()}-V{version}"


def attachment(province: Province, cloud: IndustryCloud) -> dict[str, Any]:
    """The core side and the cloud side of one attachment, every address from the plan."""
    core = province.router("province-rt")
    wan = [link for link in cloud.links if link.kind != "access"]
    lan = next(link for link in cloud.links if link.kind == "access")
    accepted = {4: [str(n) for n in cloud.accepted_prefixes if n.version == 4],
                6: [str(n) for n in cloud.accepted_prefixes if n.version == 6]}
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
            # the import filter: only the cloud's own prefixes, exact or longer up to its LAN length
            "accept": {"ipv4": accepted[4], "ipv6": accepted[6]},
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


def _split(cidr: str) -> tuple[str, int, int]:
    net = ipaddress.ip_network(cidr)
    return str(net.network_address), net.prefixlen, net.max_prefixlen


def frr_core(province: Province, cloud: IndustryCloud) -> str:
    """The core router's FRR configuration for this attachment (route filter, max-prefix, session)."""
    a = attachment(province, cloud)
    core = a["core"]
    lines = [f"! industry cloud {cloud.slug} ({cloud.department}): accept only its own prefixes"]
    for version, fam, kw in ((4, "ipv4", "ip"), (6, "ipv6", "ipv6")):
        name = filter_name(cloud, version)
        for n, cidr in enumerate(core["accept"][fam], start=1):
            net, plen, maxlen = _split(cidr)
            le = f" le {max(plen, 26 if version == 4 else 64)}" if plen < (26 if version == 4 else 64) else ""
            lines.append(f"{kw} prefix-list {name} seq {n * 5} permit {cidr}{le}")
        lines.append(f"{kw} prefix-list {name} seq 1000 deny any")
    if cloud.routing == "bgp":
        for version in (4, 6):
            lines += ["!", f"route-map {filter_name(cloud, version)}-IN permit 10",
                      f" match {'ip' if version == 4 else 'ipv6'} address prefix-list {filter_name(cloud, version)}", "exit"]
        lines += ["!", f"router bgp {core['asn']}"]
        for i in core["interfaces"]:
            for fam in ("ipv4", "ipv6"):
                lines += [f" neighbor {i['peer_' + fam]} remote-as {cloud.asn}",
                          f" neighbor {i['peer_' + fam]} description industry {cloud.slug} {i['plane']}",
                          f" neighbor {i['peer_' + fam]} ttl-security hops 1"]
        for version, fam in ((4, "ipv4"), (6, "ipv6")):
            lines.append(f" address-family {fam} unicast")
            for i in core["interfaces"]:
                peer = i["peer_" + fam]
                lines += [f"  neighbor {peer} activate", f"  neighbor {peer} route-map {filter_name(cloud, version)}-IN in",
                          f"  neighbor {peer} route-map BGP-OUT-V{version} out",
                          f"  neighbor {peer} maximum-prefix {cloud.max_prefix}"]
            lines.append(" exit-address-family")
        lines.append("exit")
    else:
        area = str(ipaddress.IPv4Address(cloud.area or 0))
        # OSPF has no per-neighbour prefix limit: the ABR filters what leaves the cloud's area
        lines += ["!", "router ospf", f" area {area} filter-list prefix {filter_name(cloud, 4)} out", "exit",
                  "!", "router ospf6", f" area {area} filter-list prefix {filter_name(cloud, 6)} out", "exit"]
    return "\n".join(lines) + "\n"


def vrp_core(province: Province, cloud: IndustryCloud) -> str:
    """The same attachment filter in Huawei VRP8 syntax (production core router)."""
    a = attachment(province, cloud)
    core = a["core"]
    lines = [f"# industry cloud {cloud.slug} ({cloud.department}): accept only its own prefixes"]
    for version, fam, kw in ((4, "ipv4", "ip ip-prefix"), (6, "ipv6", "ip ipv6-prefix")):
        name = filter_name(cloud, version)
        for n, cidr in enumerate(core["accept"][fam], start=1):
            net, plen, _ = _split(cidr)
            full = 26 if version == 4 else 64
            le = f" less-equal {full}" if plen < full else ""
            lines.append(f"{kw} {name} index {n * 10} permit {net} {plen}{le}")
    if cloud.routing == "bgp":
        lines += [f"bgp {core['asn']}"]
        for i in core["interfaces"]:
            for fam in ("ipv4", "ipv6"):
                lines += [f" peer {i['peer_' + fam]} as-number {cloud.asn}",
                          f" peer {i['peer_' + fam]} description industry-{cloud.slug}-{i['plane']}",
                          f" peer {i['peer_' + fam]} valid-ttl-hops 1"]
        for version, fam, af, kw in ((4, "ipv4", "ipv4-family unicast", "ip-prefix"),
                                     (6, "ipv6", "ipv6-family unicast", "ipv6-prefix")):
            lines.append(f" {af}")
            for i in core["interfaces"]:
                peer = i["peer_" + fam]
                lines += [f"  peer {peer} enable", f"  peer {peer} {kw} {filter_name(cloud, version)} import",
                          f"  peer {peer} route-limit {cloud.max_prefix}"]
    else:
        area = str(ipaddress.IPv4Address(cloud.area or 0))
        lines += ["ospf 1", f" area {area}", f"  filter ip-prefix {filter_name(cloud, 4)} export",
                  "ospfv3 1", f" area {area}", f"  filter ipv6-prefix {filter_name(cloud, 6)} export"]
    return "\n".join(lines) + "\n"


def render(province: Province) -> dict[str, str]:
    out: dict[str, str] = {}
    for c in province.industry:
        out[f"{c.slug}.json"] = dump_json(province, attachment(province, c))
        out[f"{c.slug}.frr.conf"] = f"# {header(province)}\n" + frr_core(province, c)
        out[f"{c.slug}.vrp.cfg"] = f"# {header(province)}\n" + vrp_core(province, c)
    return out
