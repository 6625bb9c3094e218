"""The resolved province: typed objects with every address computed.

This is what every capability reads (through derived artefacts or directly in-process). It is
built only from a validated inventory by :func:`egovops.model.load.load_inventory`.
"""

from __future__ import annotations

import fnmatch
import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from egovops.model import schema
from egovops.model.addressing import IPInterface, IPNetwork, Supernets

_T = TypeVar("_T")

RouterRole = Literal["core", "city", "county", "external", "industry"]
LinkKind = Literal["backbone", "county", "uplink", "access", "extra"]


@dataclass(frozen=True)
class DualStack:
    ipv4: IPInterface
    ipv6: IPInterface

    def as_dict(self) -> dict[str, str]:
        return {"ipv4": str(self.ipv4), "ipv6": str(self.ipv6)}


@dataclass(frozen=True)
class Node:
    """A cloud node (provincial, city) or DR site: one host in the lab, a Kubernetes cluster in production."""

    id: int
    slug: str
    name_zh: str
    name_en: str
    kind: Literal["provincial", "city", "dr", "industry"]   # industry: only from Province.node() (an industry cloud's host)
    code: str | None
    city: str                      # city slug where it stands (itself for city nodes)
    router: str                    # the router its service LAN hangs off
    service_v4: ipaddress.IPv4Network
    service_v6: ipaddress.IPv6Network
    address: DualStack             # the host's address on its service LAN
    gateway: DualStack             # the router's address on that LAN
    management: DualStack

    @property
    def hostname(self) -> str:
        return self.slug


@dataclass(frozen=True)
class County:
    id: int
    slug: str                      # <city>-<short>
    short: str
    name_zh: str
    city: str
    router: str


@dataclass(frozen=True)
class Router:
    name: str
    role: RouterRole
    site: int
    slot: int
    name_zh: str
    city: str | None            # city slug (None for core/external)
    area: int                      # OSPF area of its loopback
    asn: int
    loopback: DualStack
    management: DualStack

    @property
    def is_ours(self) -> bool:
        return self.role != "external"


@dataclass(frozen=True)
class Endpoint:
    device: str                    # router name or node slug (access links)
    ifname: str
    address: DualStack


@dataclass(frozen=True)
class Link:
    name: str                      # stable, e.g. "province-rt:hefei-d"
    kind: LinkKind
    plane: str | None
    a: Endpoint                    # upstream end
    b: Endpoint
    bandwidth_mbps: float
    area: int | None            # OSPF area (None: not in OSPF, e.g. eBGP uplink)
    cost: int | None
    bfd: bool
    # its stable id in the address plan, from which its addresses derive: the p2p pair index
    # (addressing.link_index / industry_link_index) of a WAN link, the LAN index (node or cloud id)
    # of an access link. Adding a county, node or cloud never changes an existing link's index, so
    # everything numbered by it (VRP ports, network.render.vrp_ports) stays put too.
    index: int


@dataclass(frozen=True)
class Service:
    slug: str
    name_zh: str
    name_en: str
    hosting: Literal["P", "P+C", "C"]
    zone: str
    image: str
    replicas: int
    cpu: str
    memory: str
    port: int
    level: int
    dr_tier: str
    nodes: tuple[str, ...]         # where it runs
    standby: tuple[str, ...]       # DR sites holding a warm standby (same-city system tier)


@dataclass(frozen=True)
class DrTier:
    name: str
    rpo_seconds: int
    rto_seconds: int
    mode: str
    schedule: str


@dataclass(frozen=True)
class Replication:
    name: str
    source: str
    target: str
    tier: str
    kind: Literal["same_city", "remote", "cooperation"]


@dataclass(frozen=True)
class IndustryCloud:
    """An industry cloud (the N of 1+16+N) as the province manages it: every address from the plan.

    Kept apart from :attr:`Province.nodes`, :attr:`Province.routers` and :attr:`Province.links` on
    purpose: the 1+16 lab and deploy stay exactly as they are, and each consumer opts in (see
    :meth:`Province.managed_industry`).
    """

    id: int
    slug: str
    name_zh: str
    name_en: str
    department: str
    department_zh: str
    department_en: str
    exists: bool
    zone: str
    routing: Literal["bgp", "ospf"]
    asn: int | None             # its own AS (routing: bgp)
    area: int | None            # its OSPF area (routing: ospf)
    max_prefix: int
    hosts: tuple[str, ...]         # catalogue services it runs itself
    consumes: tuple[str, ...]      # provincial services it calls
    dr_tier: str | None
    service_v4: ipaddress.IPv4Network
    service_v6: ipaddress.IPv6Network
    own_prefixes: tuple[IPNetwork, ...]   # its pre-existing address space (prefixes: in industry.yaml)
    router: Router                 # <slug>-rt, outside-managed, homed on the provincial core
    links: tuple[Link, ...]        # core <-> its router (one per plane) and its access LAN
    address: DualStack             # its host on the service LAN
    gateway: DualStack
    management: DualStack

    def host_node(self) -> Node:
        """Its host as a :class:`Node` (kind ``industry``), so the lab and SSH code address it like any host."""
        return Node(self.id, self.slug, self.name_zh, self.name_en, "industry", None, "", self.router.name,
                    self.service_v4, self.service_v6, self.address, self.gateway, self.management)

    @property
    def wan_links(self) -> tuple[Link, ...]:
        """Its attachment to the provincial core (one link per plane), without the service LAN."""
        return tuple(link for link in self.links if link.kind != "access")

    @property
    def accepted_prefixes(self) -> tuple[IPNetwork, ...]:
        """The only prefixes the province accepts from it: its service LANs and its own space."""
        return (self.service_v4, self.service_v6, *self.own_prefixes)


@dataclass(frozen=True)
class Noc:
    controller: DualStack          # the provincial NOC on the management network
    ntp: tuple[str, ...]
    syslog: tuple[str, ...]
    management_v4: ipaddress.IPv4Network
    management_v6: ipaddress.IPv6Network


@dataclass(frozen=True)
class Province:
    meta: schema.InventoryMeta
    source: str                    # the inventory folder as given
    supernets: Supernets
    nodes: tuple[Node, ...]
    counties: tuple[County, ...]
    routers: tuple[Router, ...]
    links: tuple[Link, ...]
    services: tuple[Service, ...]
    dr_tiers: tuple[DrTier, ...]
    replications: tuple[Replication, ...]
    noc: Noc
    routing: schema.Routing
    uplink: schema.Uplink
    zones: schema.ZonesFile
    segments: schema.Segments
    object_store: schema.ObjectStoreSpec | None = None   # dr.yaml object_store (None: no object tier)
    industry: tuple[IndustryCloud, ...] = ()                 # industry.yaml (validated, addressed)
    calls: tuple[schema.ServiceCall, ...] = ()               # zones.yaml calls: cross-node flows
    _index: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False, repr=False)

    # ---- lookups
    def node(self, slug: str) -> Node:
        """A node by slug; an industry cloud's host too (kind ``industry``: never in :attr:`nodes`)."""
        return self._lookup("node", lambda: [*self.nodes, *(c.host_node() for c in self.industry)], "slug", slug)

    def router(self, name: str) -> Router:
        """A router by name; an industry cloud's router too (role ``industry``: never in :attr:`routers`)."""
        return self._lookup("router", lambda: [*self.routers, *(c.router for c in self.industry)], "name", name)

    def industry_cloud(self, name: str) -> IndustryCloud | None:
        """The industry cloud whose slug, host or router is ``name`` (None: not an industry device)."""
        return next((c for c in self.industry if name in (c.slug, c.router.name)), None)

    def _lookup(self, what: str, items: Callable[[], Iterable[_T]], attr: str, key: str) -> _T:
        idx: dict[str, _T] | None = self._index.get(what)
        if idx is None:
            idx = self._index[what] = {getattr(i, attr): i for i in items()}
        try:
            return idx[key]
        except KeyError:
            raise KeyError(f"no {what} named {key!r}") from None

    @property
    def cities(self) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if n.kind == "city")

    @property
    def cloud_nodes(self) -> tuple[Node, ...]:
        """The 1+16: provincial node and city nodes (DR sites excluded)."""
        return tuple(n for n in self.nodes if n.kind in ("provincial", "city"))

    def managed_industry(self) -> tuple[IndustryCloud, ...]:
        """Industry clouds the derived artefacts (Ansible, NOC targets, stacks) include.

        Production: those that exist today (``exists: true``). A lab: those its inventory.yaml lists
        under ``lab_industry`` (none in the fixture labs); ``lab up --industry`` brings them up.
        """
        if self.meta.environment != "production":
            return tuple(c for c in self.industry if c.slug in self.meta.lab_industry)
        return tuple(c for c in self.industry if c.exists)

    @property
    def managed_links(self) -> tuple[Link, ...]:
        """The links of the estate the province manages: its own and its managed industry clouds'."""
        return self.links + tuple(link for c in self.managed_industry() for link in c.links)

    def links_of(self, device: str) -> list[tuple[Link, Endpoint, Endpoint]]:
        """(link, local end, remote end) for every link touching ``device``."""
        out = []
        for link in self.managed_links:
            if link.a.device == device:
                out.append((link, link.a, link.b))
            elif link.b.device == device:
                out.append((link, link.b, link.a))
        return out

    def routers_for(self, *, counties: bool = True, external: bool = True) -> list[Router]:
        return [
            r for r in self.routers
            if (counties or r.role != "county") and (external or r.role != "external")
        ]

    def prefixes(self) -> dict[str, int]:
        """Count of allocated prefixes per family (loopbacks, p2p links, LANs)."""
        v4 = len(self.routers) + len([line for line in self.links if line.kind != "access"]) + len(self.nodes)
        return {"ipv4": v4, "ipv6": v4}


# ---- selection: --limit GLOB -------------------------------------------------------------
def device_tags(province: Province, name: str) -> set[str]:
    """The selectors a device answers to: its name, ``role:<role>``, ``city:<slug>``, ``kind:<kind>``."""
    tags = {name}
    for r in province.routers:
        if r.name == name:
            tags |= {f"role:{r.role}", "type:router"}
            if r.city:
                tags.add(f"city:{r.city}")
    for n in province.nodes:
        if n.slug == name:
            tags |= {f"kind:{n.kind}", f"city:{n.city}", "type:host", f"role:{n.kind}"}
    for c in province.industry:
        if name == c.slug:
            tags |= {"kind:industry", "type:host", "role:industry"}
        elif name == c.router.name:
            tags |= {"kind:industry", "type:router", "role:industry"}
    # the core carries the managed clouds' attachments (filters, sessions): onboarding a cloud
    # (`deploy --limit kind:industry`) pushes and verifies it too
    if province.managed_industry() and any(name == link.a.device for c in province.managed_industry()
                                           for link in c.wan_links):
        tags.add("kind:industry")
    return tags


def matches(province: Province, name: str, limit: str | None) -> bool:
    """True when ``name`` matches a ``--limit`` expression: comma-separated globs, ``!`` negates."""
    if not limit:
        return True
    tags = device_tags(province, name)
    positive = [p.strip() for p in limit.split(",") if p.strip() and not p.strip().startswith("!")]
    negative = [p.strip()[1:] for p in limit.split(",") if p.strip().startswith("!")]

    def hit(pats: list[str]) -> bool:
        return any(fnmatch.fnmatchcase(t, p) for p in pats for t in tags)

    return (not positive or hit(positive)) and not hit(negative)


def network_of(iface: IPInterface) -> IPNetwork:
    return iface.network
