"""Router intents: per device, everything a config template needs (interfaces, addresses, IGP, BGP, NOC).

An intent is vendor-neutral data; egovops.network renders it to FRR or Huawei VRP syntax, and
``inventory render`` writes it to ``intents/<router>.json``. The contract between the two layers is
the set of TypedDicts below (:class:`RouterIntent` and its parts): TypedDicts rather than
dataclasses because the intent *is* JSON — the artefact is ``json.dumps`` of it, the Jinja
templates and ``{**i, ...}`` context building read it as a mapping — while mypy (strict on
egovops.render and egovops.network) checks every key a consumer reads or a builder writes.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

from egovops.model.province import (
    DualStack,
    Endpoint,
    IndustryCloud,
    Link,
    LinkKind,
    Province,
    Router,
    RouterRole,
)
from egovops.render.files import dump_json


class Families(TypedDict):
    """One list of strings per address family (prefixes or addresses)."""

    ipv4: list[str]
    ipv6: list[str]


class AddressPair(TypedDict):
    """One value per family: an address with its prefix length, a network, or a filter name."""

    ipv4: str
    ipv6: str


class Interface(TypedDict):
    """One interface of the router: its link, both ends' addresses and its OSPF/BFD settings."""

    name: str
    kind: LinkKind
    plane: str | None
    ipv4: str                   # address/prefix length
    ipv6: str
    peer: str                   # the device at the other end (router name or node slug)
    peer_interface: str
    peer_ipv4: str              # address only
    peer_ipv6: str
    bandwidth_mbps: float
    ospf_area: int | None       # None: not in OSPF (the national uplink)
    ospf_cost: int | None
    ospf_passive: bool          # access LANs
    bfd: bool
    link_id: int                # the link's stable id in the address plan (Link.index): VRP ports are numbered by it
    industry: NotRequired[str]  # extranet links towards a managed industry cloud: its slug


class BgpSession(TypedDict):
    """One eBGP neighbour (both families on one link)."""

    peer: str
    asn: int | None             # None only for a cloud attached by OSPF, which has no session
    ipv4: str                   # the neighbour's addresses
    ipv6: str
    interface: str              # our interface towards it
    plane: str | None
    industry: NotRequired[str]  # a session with (or, on a cloud's router, of) an industry cloud
    max_prefix: NotRequired[int]  # the core's limit towards that cloud


class Prefix(TypedDict):
    """One accepted prefix: ``le`` is the longest length accepted inside it (None: exactly this one)."""

    prefix: str
    le: int | None


class Accepted(TypedDict):
    ipv4: list[Prefix]
    ipv6: list[Prefix]


class CoreSide(TypedDict):
    """The provincial core's side of one industry cloud's attachment."""

    cloud: str
    department: str
    routing: Literal["bgp", "ospf"]
    asn: int | None
    area: int | None
    max_prefix: int
    accept: Accepted
    filter: AddressPair         # the import filter's name per family
    interfaces: list[str]       # the core's interfaces towards the cloud


class CloudSide(TypedDict):
    """What an industry cloud's own router announces (the lab plays the department's router)."""

    cloud: str
    department: str
    routing: Literal["bgp", "ospf"]
    area: int | None
    own: Families               # its declared own space (blackholed so it can be announced)
    announce: Families


class OspfTimers(TypedDict):
    hello: int
    dead: int
    bfd: bool


class NocIntent(TypedDict):
    ntp: list[str]
    syslog: list[str]
    management: AddressPair     # the management supernets (the routers' access lists)


class RouterIntent(TypedDict):
    """Everything one router's configuration is rendered from."""

    name: str
    name_zh: str
    role: RouterRole
    city: str | None
    site: int
    asn: int
    router_id: str
    loopback: AddressPair
    loopback_area: int
    management: AddressPair
    interfaces: list[Interface]
    bgp: list[BgpSession]
    ospf: OspfTimers
    noc: NocIntent
    aggregates: Families        # what the province originates towards the national node
    industry: NotRequired[list[CoreSide]]  # the core: the managed industry clouds attached to it
    cloud: NotRequired[CloudSide]          # an industry cloud's own router: its cloud


def _dual(ds: DualStack) -> AddressPair:
    """Both addresses with their prefix length (what :meth:`DualStack.as_dict` gives, typed)."""
    return {"ipv4": str(ds.ipv4), "ipv6": str(ds.ipv6)}


def _interface(province: Province, link: Link, local: Endpoint, remote: Endpoint) -> Interface:
    """The interface at the ``local`` end of ``link``."""
    out: Interface = {
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
        "link_id": link.index,
    }
    if link.kind == "extra":
        out["industry"] = _cloud_of(province, link).slug
    return out


def intent(province: Province, r: Router) -> RouterIntent:
    interfaces = [_interface(province, link, local, remote) for link, local, remote in province.links_of(r.name)]
    interfaces.sort(key=lambda i: i["name"])
    bgp: list[BgpSession] = []
    if r.role in ("core", "external"):
        for i in interfaces:
            if i["kind"] == "uplink":
                peer = province.router(i["peer"])
                bgp.append({"peer": i["peer"], "asn": peer.asn, "ipv4": i["peer_ipv4"], "ipv6": i["peer_ipv6"],
                            "interface": i["name"], "plane": i["plane"]})
    core_sides: list[CoreSide] | None = None
    cloud: CloudSide | None = None
    if r.role == "core" and province.managed_industry():
        core_sides = [core_side(province, c) for c in province.managed_industry()]
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
        cloud = cloud_side(own)
    s = province.supernets
    out: RouterIntent = {
        "name": r.name,
        "name_zh": r.name_zh,
        "role": r.role,
        "city": r.city,
        "site": r.site,
        "asn": r.asn,
        "router_id": str(r.loopback.ipv4.ip),
        "loopback": _dual(r.loopback),
        "loopback_area": r.area,
        "management": _dual(r.management),
        "interfaces": interfaces,
        "bgp": bgp,
        "ospf": {"hello": province.routing.ospf_hello_seconds, "dead": province.routing.ospf_dead_seconds,
                 "bfd": province.routing.bfd},
        "noc": {"ntp": list(province.noc.ntp), "syslog": list(province.noc.syslog),
                "management": {"ipv4": str(s.management4), "ipv6": str(s.management6)}},
        "aggregates": {"ipv4": [str(s.loopback4), str(s.p2p4), str(s.service4)],
                       "ipv6": [str(s.loopback6), str(s.p2p6), str(s.service6)]},
    }
    if core_sides is not None:
        out["industry"] = core_sides
    if cloud is not None:
        out["cloud"] = cloud
    return out


def _cloud_of(province: Province, link: Link) -> IndustryCloud:
    c = province.industry_cloud(link.b.device) or province.industry_cloud(link.a.device)
    if c is None:
        raise ValueError(f"link {link.name}: an extranet link with no industry cloud at either end")
    return c


def accepted(c: IndustryCloud) -> Accepted:
    """What the core accepts from cloud ``c``: its prefixes (up to its LAN length) and its router's loopback.

    Every prefix is (cidr, le): a cloud may announce its own space split down to LAN size, never
    anything else — no provincial prefix, no other cloud's, no default route.
    """
    out: Accepted = {"ipv4": [], "ipv6": []}
    loops = (c.router.loopback.ipv4.network, c.router.loopback.ipv6.network)
    for net in (*c.accepted_prefixes, *loops):
        lan = 26 if net.version == 4 else 64
        prefix: Prefix = {"prefix": str(net), "le": lan if net.prefixlen < lan else None}
        (out["ipv4"] if net.version == 4 else out["ipv6"]).append(prefix)
    return out


def core_side(province: Province, c: IndustryCloud) -> CoreSide:
    """The provincial core's side of one industry cloud's attachment (vendor-neutral)."""
    return {"cloud": c.slug, "department": c.department, "routing": c.routing, "asn": c.asn, "area": c.area,
            "max_prefix": c.max_prefix, "accept": accepted(c),
            "filter": {"ipv4": filter_name(c.slug, 4), "ipv6": filter_name(c.slug, 6)},
            "interfaces": [link.a.ifname for link in c.wan_links]}


def core_sessions(c: IndustryCloud) -> list[BgpSession]:
    """The core's eBGP sessions towards a BGP-attached cloud: one per plane (none for OSPF)."""
    if c.routing != "bgp":
        return []
    return [{"peer": c.router.name, "asn": c.asn, "ipv4": str(link.b.address.ipv4.ip),
             "ipv6": str(link.b.address.ipv6.ip), "interface": link.a.ifname, "plane": link.plane,
             "industry": c.slug, "max_prefix": c.max_prefix} for link in c.wan_links]


def cloud_side(c: IndustryCloud) -> CloudSide:
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
