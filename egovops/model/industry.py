"""Industry clouds (industry.yaml): validation and resolution into :class:`IndustryCloud`.

Why a module of its own: an industry cloud is run by another department (an outside-managed
network), so it is checked against everything the province owns — names, ASNs, address space,
the service catalogue — before the province accepts a route or a flow from it. Every problem names
the file, key and line (through the loader's collector) and nothing is derived from a bad entry.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from egovops.model import addressing as plan
from egovops.model import schema
from egovops.model.province import DualStack, Endpoint, IndustryCloud, Link, Router

FILE = "industry.yaml"
LAB_V4 = ipaddress.ip_network("198.18.0.0/15")
LAB_V6 = ipaddress.ip_network("fd00::/8")
MAX_IFNAME = 15


ADDR = "addressing.yaml"
IndustryNets = tuple[ipaddress.IPv4Network, ipaddress.IPv6Network]


def supernets(col: Any, af: schema.AddressingFile, nets: plan.Supernets | None,
              environment: str) -> IndustryNets | None:
    """The ``industry`` supernets of addressing.yaml, checked like the others (family, lab range, overlap).

    None when absent (both are needed): the inventory's industry clouds are then validated but not
    addressed — a lab inheriting the province's industry.yaml with an older addressing.yaml stays
    exactly the 1+16 lab. One family without the other is an error.
    """
    texts = {4: af.ipv4.industry, 6: af.ipv6.industry}
    if texts[4] is None and texts[6] is None:
        return None
    found: dict[int, Any] = {}
    for version, text in texts.items():
        fam = f"ipv{version}"
        if text is None:
            col.add(ADDR, (fam,), f"{fam} has no industry supernet while ipv{10 - version} has one",
                    "the extranet is dual stack: give both families an industry supernet", "missing-key")
            continue
        try:
            net = ipaddress.ip_network(text, strict=True)
        except ValueError as exc:
            col.add(ADDR, (fam, "industry"), f"bad prefix {text!r}: {exc}", "write a network address, e.g. 198.18.16.0/20", "prefix")
            continue
        if net.version != version:
            col.add(ADDR, (fam, "industry"), f"{text} is not an {fam} prefix", f"put an {fam} prefix under {fam}", "prefix")
            continue
        if environment == "lab" and not net.subnet_of(LAB_V4 if version == 4 else LAB_V6):  # type: ignore[arg-type]
            col.add(ADDR, (fam, "industry"), f"{net} is outside the lab ranges",
                    "lab addresses come only from 198.18.0.0/15 and fd00::/8", "lab-range")
            continue
        for purpose, sup in (nets.by_family(version).items() if nets else ()):
            if sup.overlaps(net):
                col.add(ADDR, (fam, "industry"), f"{net} overlaps {purpose} {sup}",
                        "every purpose needs its own, disjoint supernet", "overlap")
        if net.prefixlen > plan.INDUSTRY_LAN_LEN[version]:
            col.add(ADDR, (fam, "industry"), f"{net} is smaller than one /{plan.INDUSTRY_LAN_LEN[version]} industry LAN",
                    "an industry supernet holds one LAN per cloud id: e.g. a /20 (IPv4) or /56 (IPv6)", "capacity")
        found[version] = net
    if len(found) != 2:
        return None
    return found[4], found[6]


def check(col: Any, f: schema.IndustryFile, *, nf: schema.NodesFile, sf: schema.ServicesFile,
          lf: schema.LinksFile, tiers: set[str], taken_names: set[str], nets: plan.Supernets | None,
          inets: IndustryNets | None, environment: str) -> None:
    """Every rule of the issue's list: department, attach, services, ASN, prefixes, names, DR tier."""
    clouds = f.clouds
    seen: dict[str, dict[Any, int]] = {"slug": {}, "id": {}, "asn": {}}
    services = {s.slug: s for s in sf.services}
    node_ids = {n.id: n.slug for n in nf.nodes}
    city_ids = {n.id for n in nf.nodes if n.kind == "city"}
    reserved_asn = {lf.routing.asn: "the province's own ASN", lf.uplink.asn: "the national node's ASN"}
    own: list[tuple[int, int, ipaddress.IPv4Network | ipaddress.IPv6Network]] = []
    for i, c in enumerate(clouds):
        at = ("clouds", i)
        for key, value, kind in (("slug", c.slug, "duplicate-slug"), ("id", c.id, "duplicate-id")):
            if value in seen[key]:
                col.add(FILE, (*at, key), f"duplicate industry cloud {key} {value!r} (first at index {seen[key][value]})",
                        f"every industry cloud {key} must be unique", kind)
            else:
                seen[key][value] = i
        for derived in (c.slug, f"{c.slug}-rt"):
            if derived in taken_names:
                col.add(FILE, (*at, "slug"), f"industry cloud name {derived!r} collides with a node, router or county",
                        "pick a slug no node, county or router already derives", "name-collision")
        if c.department not in f.departments:
            col.add(FILE, (*at, "department"), f"unknown department {c.department!r}",
                    f"one of the departments: keys: {', '.join(sorted(f.departments))}", "unknown-ref")
        a = c.attach
        if len(set(a.planes)) != len(a.planes):
            col.add(FILE, (*at, "attach", "planes"), "planes must not repeat", "[data], [video] or [data, video]", "topology")
        if a.routing == "bgp":
            if a.asn is None:
                col.add(FILE, (*at, "attach"), "routing: bgp needs the cloud's own asn",
                        "add asn: a private AS (64512..4294967294) no one else uses", "missing-key")
            elif a.asn in reserved_asn:
                col.add(FILE, (*at, "attach", "asn"), f"asn {a.asn} is {reserved_asn[a.asn]}",
                        "an industry cloud peers with its own AS (eBGP)", "duplicate-asn")
            elif a.asn in seen["asn"]:
                col.add(FILE, (*at, "attach", "asn"), f"duplicate asn {a.asn} (first at index {seen['asn'][a.asn]})",
                        "every industry cloud has its own AS", "duplicate-asn")
            else:
                seen["asn"][a.asn] = i
            if a.area is not None:
                col.add(FILE, (*at, "attach", "area"), "area is for routing: ospf", "drop area, or use routing: ospf", "routing")
        else:
            if a.area is None:
                col.add(FILE, (*at, "attach"), "routing: ospf needs the cloud's own area",
                        "add area: an OSPF area no city uses (not 0)", "missing-key")
            elif a.area in city_ids:
                col.add(FILE, (*at, "attach", "area"), f"area {a.area} is city {node_ids[a.area]!r}'s area",
                        "give the industry cloud an area of its own", "routing")
            if a.asn is not None:
                col.add(FILE, (*at, "attach", "asn"), "asn is for routing: bgp", "drop asn, or use routing: bgp", "routing")
        for key, listed in (("hosts", c.hosts), ("consumes", c.consumes)):
            for j, slug in enumerate(listed):
                s = services.get(slug)
                if s is None:
                    col.add(FILE, (*at, key, j), f"unknown service {slug!r}", "use a service slug from services.yaml", "unknown-ref")
                elif key == "hosts" and s.hosting == "P":
                    col.add(FILE, (*at, key, j), f"service {slug!r} is provincial-only (hosting P)",
                            "an industry cloud may not host a provincial-only service: consume it instead", "placement")
                elif key == "consumes" and s.hosting == "C":
                    col.add(FILE, (*at, key, j), f"service {slug!r} does not run at the province (hosting C)",
                            "consume a service the provincial node runs (hosting P or P+C)", "placement")
            if len(set(listed)) != len(listed):
                col.add(FILE, (*at, key), f"{key} lists a service twice", "list each service once", "duplicate-slug")
        if c.dr_tier is not None and c.dr_tier not in tiers:
            col.add(FILE, (*at, "dr_tier"), f"unknown DR tier {c.dr_tier!r}", f"one of: {', '.join(sorted(tiers))}", "unknown-ref")
        for inet in inets or ():
            plen = plan.INDUSTRY_LAN_LEN[inet.version]
            if c.id >= 2 ** (plen - min(plen, inet.prefixlen)):
                col.add(FILE, (*at, "id"), f"industry cloud id {c.id} does not fit in the industry supernet {inet}",
                        "enlarge addressing.yaml's industry supernet (shorter prefix length)", "capacity")
        for j, text in enumerate(c.prefixes):
            try:
                net = ipaddress.ip_network(text, strict=True)
            except ValueError as exc:
                col.add(FILE, (*at, "prefixes", j), f"bad prefix {text!r}: {exc}", "write a network address, e.g. 10.60.0.0/16", "prefix")
                continue
            if environment == "lab" and not net.subnet_of(LAB_V4 if net.version == 4 else LAB_V6):  # type: ignore[arg-type]
                col.add(FILE, (*at, "prefixes", j), f"{net} is outside the lab ranges",
                        "lab addresses come only from 198.18.0.0/15 and fd00::/8", "lab-range")
            for sup in [*(nets.all() if nets else []), *(inets or ())]:
                if sup.version == net.version and sup.overlaps(net):
                    col.add(FILE, (*at, "prefixes", j), f"{net} overlaps the address plan's {sup}",
                            "an industry cloud's own space must be disjoint from the plan (addressing.yaml)", "overlap")
            for oi, oj, other in own:
                if other.version == net.version and other.overlaps(net):
                    col.add(FILE, (*at, "prefixes", j), f"{net} overlaps {other} (clouds[{oi}].prefixes[{oj}])",
                            "every industry cloud's prefixes are its own", "overlap")
            own.append((i, j, net))
        for name in (f"lan-{c.slug}",) + tuple(f"{c.slug}-{p[0]}" for p in a.planes):
            if len(name) > MAX_IFNAME:
                col.add(FILE, (*at, "slug"), f"interface {name!r} exceeds {MAX_IFNAME} characters",
                        "use a shorter slug", "name-length")


def check_lab(col: Any, meta: schema.InventoryMeta, f: schema.IndustryFile, inets: IndustryNets | None) -> None:
    """inventory.yaml ``lab_industry``: a lab's own choice of clouds, each one of industry.yaml, addressed."""
    slugs = {c.slug for c in f.clouds}
    seen: set[str] = set()
    for j, slug in enumerate(meta.lab_industry):
        at = ("lab_industry", j)
        if meta.environment != "lab":
            col.add("inventory.yaml", at, "lab_industry is for lab inventories",
                    "production manages the industry clouds that exist (industry.yaml exists: true): drop lab_industry",
                    "environment")
            return
        if slug not in slugs:
            col.add("inventory.yaml", at, f"unknown industry cloud {slug!r}",
                    f"one of industry.yaml's clouds: {', '.join(sorted(slugs)) or '(none)'}", "unknown-ref")
        elif slug in seen:
            col.add("inventory.yaml", at, f"industry cloud {slug!r} listed twice", "list each cloud once", "duplicate-slug")
        elif inets is None:
            col.add("inventory.yaml", at, f"industry cloud {slug!r} has no addresses: addressing.yaml has no industry supernets",
                    "add ipv4.industry and ipv6.industry to addressing.yaml (as inventories/lab has)", "missing-key")
        seen.add(slug)


def resolve(f: schema.IndustryFile, nets: plan.Supernets, inets: IndustryNets | None,
            lf: schema.LinksFile) -> tuple[IndustryCloud, ...]:
    """Addresses, router and links of every industry cloud; inputs are valid here (none without supernets)."""
    out: list[IndustryCloud] = []
    if inets is None:
        return ()
    cost = lf.routing.plane_cost
    for c in sorted(f.clouds, key=lambda c: c.id):
        a = c.attach
        ri = plan.industry_router_index(c.id)
        name = f"{c.slug}-rt"
        asn = a.asn if a.routing == "bgp" and a.asn is not None else lf.routing.asn
        area = a.area if a.routing == "ospf" else None
        router = Router(name, "industry", 0, 1 + c.id, c.name_zh, None,
                        area or 0, asn, DualStack(plan.address(nets.loopback4, ri), plan.address(nets.loopback6, ri)),
                        DualStack(plan.in_net(nets.management4, ri), plan.in_net(nets.management6, ri)))
        links = []
        for plane in a.planes:
            idx = plan.industry_link_index(c.id, plane)
            a4, b4 = plan.p2p_pair(nets.p2p4, idx)
            a6, b6 = plan.p2p_pair(nets.p2p6, idx)
            links.append(Link(f"province-rt:{c.slug}-{plane[0]}", "extra", plane,
                              Endpoint("province-rt", f"{c.slug}-{plane[0]}", DualStack(a4, a6)),
                              Endpoint(name, f"up-{plane[0]}", DualStack(b4, b6)),
                              schema.bandwidth_mbps(a.bandwidth), area, cost.get(plane, 10) if area else None,
                              lf.routing.bfd and area is not None, idx))
        lan4 = plan.industry_lan(inets[0], c.id)
        lan6 = plan.industry_lan(inets[1], c.id)
        gw = DualStack(plan.lan_address(lan4, 1), plan.lan_address(lan6, 1))
        host = DualStack(plan.lan_address(lan4, plan.HOST_OFFSET_IN_LAN), plan.lan_address(lan6, plan.HOST_OFFSET_IN_LAN))
        links.append(Link(f"{name}:lan-{c.slug}", "access", None, Endpoint(name, f"lan-{c.slug}", gw),
                          Endpoint(c.slug, "ext0", host), 10000.0, area, 1, False, c.id))
        hi = plan.industry_host_index(c.id)
        dept = f.departments[c.department]
        out.append(IndustryCloud(
            c.id, c.slug, c.name_zh, c.name_en, c.department, dept.name_zh, dept.name_en, c.exists, c.zone, a.routing,
            a.asn, area, a.max_prefix, tuple(c.hosts), tuple(c.consumes), c.dr_tier, lan4, lan6,  # type: ignore[arg-type]
            tuple(ipaddress.ip_network(p) for p in c.prefixes), router, tuple(links), host, gw,
            DualStack(plan.in_net(nets.management4, hi), plan.in_net(nets.management6, hi))))
    return tuple(out)
