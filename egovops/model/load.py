"""Load an inventory folder, validate it completely, and build the resolved :class:`Province`.

Every problem is collected before anything is reported (``InventoryError.problems``); callers
write nothing when loading fails. An inventory may name a ``base`` folder in inventory.yaml:
files it lacks are taken from the base (the lab inherits the province and overrides addressing).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from egovops.model import addressing as plan
from egovops.model import calls, industry, schema
from egovops.model.checks import Names, dr, links, ports, services, supernets, topology, zones
from egovops.model.problems import InventoryError, Problem
from egovops.model.province import (
    County,
    DrTier,
    DualStack,
    Endpoint,
    Link,
    LinkKind,
    Noc,
    Node,
    Province,
    Replication,
    Router,
    RouterRole,
    Service,
)
from egovops.model.yamlsrc import YamlSource, YamlSyntaxError, format_path, read_yaml


class _Collector:
    """Gathers problems with their file/line while the loader runs on."""

    def __init__(self, root: Path):
        self.root = root
        self.problems: list[Problem] = []
        self.sources: dict[str, YamlSource] = {}

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)

    def add(self, fname: str, keys: tuple[Any, ...], message: str, hint: str = "", kind: str = "invalid") -> None:
        src = self.sources.get(fname)
        file = self.rel(src.path) if src else fname
        line = src.line_of(keys) if src else None
        self.problems.append(Problem(file, format_path(keys), message, hint, line, kind))


def _resolve_files(root: Path, col: _Collector) -> dict[str, Path]:
    """Map each inventory file name to the folder that provides it (own folder first, then bases)."""
    found: dict[str, Path] = {}
    chain: list[Path] = []
    referrer: YamlSource | None = None  # the inventory.yaml whose base: led to ``folder``

    def at_base(message: str, hint: str, kind: str) -> None:
        """Report a base problem in the inventory.yaml that wrote the offending ``base:``."""
        assert referrer is not None
        col.problems.append(Problem(col.rel(referrer.path), "base", message, hint, referrer.line_of(("base",)), kind))

    def unreadable(where: Path, exc: BaseException) -> None:
        reason = getattr(exc, "strerror", None) or str(exc)
        message = f"cannot read {where}: {reason}"
        if referrer is None:
            col.problems.append(Problem(col.rel(where), "", message, "check the path and its permissions", kind="unreadable"))
        else:
            at_base(message, "base must name a readable inventory folder", "unreadable")

    folder = root
    while True:
        try:
            folder = folder.resolve()
        except (OSError, RuntimeError, ValueError) as exc:  # a symlink loop, a NUL byte, a name too long
            unreadable(folder, exc)
            break
        if folder in chain:
            at_base("base chain loops back on itself", "point base at a different inventory folder", "base")
            break
        chain.append(folder)
        try:
            if not folder.is_dir():
                if referrer is None:
                    col.problems.append(Problem(col.rel(folder), "", "inventory folder not found",
                                                "pass --inventory with a folder holding inventory.yaml", kind="missing-file"))
                else:
                    at_base(f"base inventory folder {folder} not found",
                            "base is a folder path relative to this file's folder", "missing-file")
                break
            for fname in schema.FILES:
                path = folder / fname
                if fname in found or not (path.is_symlink() or path.exists()):
                    continue
                found[fname] = path  # a folder or a dangling link is reported by read_yaml, never skipped for the base's
            meta_path = folder / "inventory.yaml"
            if not meta_path.is_file():
                break
        except (OSError, ValueError) as exc:  # a folder the process may not list
            unreadable(folder, exc)
            break
        try:
            referrer = read_yaml(meta_path)
        except YamlSyntaxError:
            break  # reported when the file is parsed below
        meta = referrer.data
        base = meta.get("base") if isinstance(meta, dict) else None
        if not base or not isinstance(base, str):
            break  # a non-string base is reported by the schema check of inventory.yaml
        folder = folder / base
    # inventory.yaml always comes from the root folder itself
    try:
        if (root / "inventory.yaml").is_symlink() or (root / "inventory.yaml").exists():
            found["inventory.yaml"] = root / "inventory.yaml"
        else:
            found.pop("inventory.yaml", None)
    except (OSError, ValueError):
        pass  # reported as unreadable above
    return found


def _parse(col: _Collector, files: dict[str, Path]) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for fname, model in schema.FILES.items():
        path = files.get(fname)
        if path is None and fname in schema.OPTIONAL_FILES:
            continue
        if path is None:
            col.problems.append(Problem(col.rel(col.root / fname), "", f"missing file {fname}",
                                        "create it, or set base: in inventory.yaml to inherit it", kind="missing-file"))
            continue
        try:
            src = read_yaml(path)
        except YamlSyntaxError as exc:
            message, hint = {
                "yaml": (f"malformed YAML: {exc.message}", "fix the YAML syntax at that line"),
                "unreadable": (exc.message, "make it a readable regular file (or remove it to inherit the base's)"),
                "too-large": (exc.message, "an inventory file is a few KB: check that this is the right file"),
            }[exc.kind]
            col.problems.append(Problem(col.rel(path), "", message, hint, exc.line, kind=exc.kind))
            continue
        col.sources[fname] = src
        if not isinstance(src.data, dict):
            col.add(fname, (), "expected a mapping at the top of the file", "see the format in README", "type")
            continue
        try:
            parsed[fname] = model.model_validate(src.data)
        except ValidationError as exc:
            found: dict[tuple[Any, ...], tuple[str, str, str]] = {}
            for err in exc.errors():
                keys = _data_keys(src.data, err)
                kind, hint = _kind_and_hint(err, fname, keys)
                if err["type"] == "extra_forbidden":
                    msg = f"unknown key {keys[-1]!r}"
                elif err["type"] == "missing":
                    msg = f"required key {keys[-1]!r} is missing"
                else:
                    msg = err["msg"].removeprefix("Value error, ")
                if keys in found:  # the alternatives of a union (e.g. a port number or "service")
                    msg = f"{found[keys][0]}, or {msg[0].lower()}{msg[1:]}"
                    kind, hint = found[keys][1], found[keys][2]
                found[keys] = (msg, kind, hint)
            for keys, (msg, kind, hint) in found.items():
                col.add(fname, keys, msg, hint, kind)
    return parsed


def _data_keys(data: Any, err: Any) -> tuple[Any, ...]:
    """The part of a pydantic error location that names keys in the file.

    pydantic adds its own steps to ``loc`` (union members such as ``constrained-int``,
    ``function-after[...]`` validators, ``[key]``); only keys that exist in the data, plus the
    missing key itself, belong in a problem's key path.
    """
    keys: list[Any] = []
    cur = data
    loc = err["loc"]
    for i, k in enumerate(loc):
        if isinstance(cur, dict) and k in cur:
            keys.append(k)
            cur = cur[k]
        elif isinstance(cur, list) and isinstance(k, int) and 0 <= k < len(cur):
            keys.append(k)
            cur = cur[k]
        elif i == len(loc) - 1 and err["type"] == "missing":
            keys.append(k)
    return tuple(keys)


def _kind_and_hint(err: Any, fname: str, keys: tuple[Any, ...]) -> tuple[str, str]:
    """Classify a schema error and say how to fix it: every problem carries a hint."""
    etype, msg, last = err["type"], err["msg"], (keys[-1] if keys else "")
    if etype == "extra_forbidden":
        return "unknown-key", f"unknown key {last!r}: check the spelling against README (Inventory format)"
    if etype == "missing":
        if fname == "addressing.yaml" and keys and keys[0] == "ipv6":
            return "missing-key", "the extranet is dual stack: every node needs IPv6 supernets"
        return "missing-key", f"add {last!r} here (README, Inventory format, lists the keys of {fname})"
    if "bandwidth" in msg:
        return "bandwidth", "write a number and Kbps, Mbps or Gbps, e.g. '1Gbps' or '100Mbps'"
    if "duration" in msg:
        return "duration", "write a number and s, m, h or d, e.g. '15m' or '24h'"
    if etype == "literal_error":
        return "choice", "use one of the listed values"
    if etype.endswith("_type") or etype.endswith("_parsing"):
        return "type", f"{msg.lower()}; see README (Inventory format) for {fname}"
    return "invalid", f"{msg[0].lower() + msg[1:] if msg else 'fix the value'}; see README (Inventory format)"


def load_inventory(path: str | Path) -> Province:
    """Load, validate and resolve the inventory in ``path``. Raises InventoryError with every problem."""
    root = Path(path)
    col = _Collector(root)
    files = _resolve_files(root, col)
    try:
        root_ok = root.is_dir()
    except (OSError, ValueError):
        root_ok = False
    if not root_ok or any(p.kind == "unreadable" and p.path == "" for p in col.problems):
        raise InventoryError(col.problems)  # one problem, not one "missing file" per file as well
    parsed = _parse(col, files)
    if any(p.path == "base" and p.kind in ("base", "missing-file", "unreadable") for p in col.problems):
        # a broken base: the files it would have provided are that one problem, not eight more
        col.problems = [p for p in col.problems if not (p.kind == "missing-file" and p.path == "")]
    if any(f not in parsed for f in schema.FILES if f not in schema.OPTIONAL_FILES) or col.problems:
        # Semantic checks need every file; still report every per-file problem at once.
        _semantic_checks_partial(col, parsed)
        raise InventoryError(col.problems)
    province = _build(col, root, parsed)
    if col.problems or province is None:
        raise InventoryError(col.problems)
    return province


def _semantic_checks_partial(col: _Collector, parsed: dict[str, Any]) -> None:
    """Run the checks whose inputs did parse, so one run still shows as much as possible."""
    if "nodes.yaml" in parsed:
        topology.nodes(col, parsed["nodes.yaml"])


def _build(col: _Collector, root: Path, p: dict[str, Any]) -> Province | None:
    """Run every cross-file validator, then resolve the province (None when anything was reported).

    The validators (:mod:`egovops.model.checks`, :mod:`egovops.model.calls`,
    :mod:`egovops.model.industry`) run in this order, which is the order their problems are
    reported in; each reports through ``col`` and changes nothing.
    """
    meta: schema.InventoryMeta = p["inventory.yaml"]
    nf: schema.NodesFile = p["nodes.yaml"]
    cf: schema.CountiesFile = p["counties.yaml"]
    lf: schema.LinksFile = p["links.yaml"]
    af: schema.AddressingFile = p["addressing.yaml"]
    df: schema.DrFile = p["dr.yaml"]
    sf: schema.ServicesFile = p["services.yaml"]
    zf: schema.ZonesFile = p["zones.yaml"]
    ind: schema.IndustryFile = p.get("industry.yaml") or schema.IndustryFile(departments={}, clouds=[])

    topology.nodes(col, nf)
    nets = supernets.networks(col, af, meta.environment)
    names = Names.of(nf, cf, lf)
    topology.counties(col, cf, names)
    links.routing(col, lf, names)
    links.extra_links(col, lf, names)
    dr.schedules(col, df)
    dr.provincial(col, df, names)
    dr.city_pairs(col, df, names)
    dr.object_store(col, df, {s.slug for s in sf.services}, zf)
    services.services(col, sf, zf, df, names)
    zones.flows(col, zf, sf)
    calls.check(col, sf, zf)
    inets = industry.supernets(col, af, nets, meta.environment)
    taken = set(names.node_by_slug) | names.router_names | {lf.uplink.peer}
    taken |= {f"{city}-{c.slug}" for city, cs in cf.counties.items() for c in cs}
    industry.check(col, ind, nf=nf, sf=sf, lf=lf, tiers=set(df.tiers), taken_names=taken,
                   nets=nets, inets=inets, environment=meta.environment)
    industry.check_lab(col, meta, ind, inets)
    ports.vrp_ports(col, nf, cf, lf, ind)

    if col.problems or nets is None or names.provincial is None:
        return None
    return _resolve_checked(col, root, p, ind, nets, inets)


def _resolve_checked(col: _Collector, root: Path, p: dict[str, Any], ind: schema.IndustryFile,
                     nets: plan.Supernets, inets: industry.IndustryNets | None) -> Province | None:
    """Resolve the validated files; report what only the result shows (a plan that does not fit its
    supernets, names derived twice) and return None then."""
    meta: schema.InventoryMeta = p["inventory.yaml"]
    lf: schema.LinksFile = p["links.yaml"]
    zf: schema.ZonesFile = p["zones.yaml"]
    try:
        province = _resolve(meta, root, p["nodes.yaml"], p["counties.yaml"], lf, p["addressing.yaml"], p["dr.yaml"],
                            p["services.yaml"], zf, nets)
        topology.derived_names(col, province, p["nodes.yaml"], p["counties.yaml"], lf)
        province = dataclasses.replace(province, industry=industry.resolve(ind, nets, inets, lf), calls=tuple(zf.calls),
                                       _index={})  # lookups indexed afresh: router()/node() find industry devices too
        return province
    except plan.PlanCapacityError as exc:
        keys: tuple[Any, ...] = ()
        for fam, version in (("ipv4", 4), ("ipv6", 6)):
            for purpose, net in nets.by_family(version).items():
                if str(net) in str(exc):
                    keys = (fam, purpose)
        col.add("addressing.yaml", keys, f"the address plan does not fit: {exc}",
                "enlarge the supernet (shorter prefix length)", "capacity")
        return None


def _resolve(meta: schema.InventoryMeta, root: Path, nf: schema.NodesFile, cf: schema.CountiesFile, lf: schema.LinksFile,
             af: schema.AddressingFile, df: schema.DrFile, sf: schema.ServicesFile, zf: schema.ZonesFile,
             nets: plan.Supernets) -> Province:
    """Compute every object and address. Inputs are valid here; only capacity can still fail."""
    asn = lf.routing.asn
    routers: list[Router] = []
    links: list[Link] = []

    def ds(net4: plan.IPNetwork, net6: plan.IPNetwork, index: int,
           fn: Callable[[plan.IPNetwork, int], plan.IPInterface] = plan.address) -> DualStack:
        return DualStack(fn(net4, index), fn(net6, index))

    def mk_router(name: str, role: RouterRole, site: int, slot: int, name_zh: str, city: str | None, area: int,
                  r_asn: int = asn) -> Router:
        i = plan.device_index(site, slot)
        return Router(name, role, site, slot, name_zh, city, area, r_asn,
                      ds(nets.loopback4, nets.loopback6, i), ds(nets.management4, nets.management6, i, plan.in_net))

    def mk_link(name: str, kind: LinkKind, plane: str | None, a_dev: str, a_if: str, b_dev: str, b_if: str, index: int,
                bw: float, area: int | None, cost: int | None, bfd: bool) -> Link:
        a4, b4 = plan.p2p_pair(nets.p2p4, index)
        a6, b6 = plan.p2p_pair(nets.p2p6, index)
        return Link(name, kind, plane, Endpoint(a_dev, a_if, DualStack(a4, a6)), Endpoint(b_dev, b_if, DualStack(b4, b6)),
                    bw, area, cost, bfd, index)

    seg = lf.segments
    bfd = lf.routing.bfd
    cost = lf.routing.plane_cost
    up = lf.uplink
    nat = f"{up.peer}-rt"
    routers.append(mk_router("province-rt", "core", 0, 1, "省级核心路由器", None, 0))
    routers.append(mk_router(nat, "external", 0, plan.EXTERNAL_SLOT, up.name_zh, None, 0, up.asn))
    for plane in up.planes:
        links.append(mk_link(f"{nat}:anhui-{plane[0]}", "uplink", plane, nat, f"anhui-{plane[0]}", "province-rt", f"up-{plane[0]}",
                             plan.link_index(0, plan.uplink_slot(plane)), schema.bandwidth_mbps(up.bandwidth), None, None, False))

    counties: list[County] = []
    cities = sorted((n for n in nf.nodes if n.kind == "city"), key=lambda n: n.id)
    for c in cities:
        rt = f"{c.slug}-rt"
        routers.append(mk_router(rt, "city", c.id, 1, f"{c.name_zh}市级汇聚路由器", c.slug, 0))
        for plane in seg.province_city.planes:
            links.append(mk_link(f"province-rt:{c.slug}-{plane[0]}", "backbone", plane, "province-rt", f"{c.slug}-{plane[0]}",
                                 rt, f"up-{plane[0]}", plan.link_index(c.id, plan.uplink_slot(plane)),
                                 schema.bandwidth_mbps(seg.province_city.bandwidth), 0, cost.get(plane, 10), bfd))
        for k in sorted(cf.counties.get(c.slug, []), key=lambda k: k.id):
            slug = f"{c.slug}-{k.slug}"
            krt = f"{slug}-rt"
            counties.append(County(k.id, slug, k.slug, k.name_zh, c.slug, krt))
            routers.append(mk_router(krt, "county", c.id, 1 + k.id, k.name_zh, c.slug, c.id))
            for plane in seg.city_county.planes:
                links.append(mk_link(f"{rt}:{k.slug}-{plane[0]}", "county", plane, rt, f"{k.slug}-{plane[0]}", krt, f"up-{plane[0]}",
                                     plan.link_index(c.id, plan.county_link_slot(k.id, plane)),
                                     schema.bandwidth_mbps(seg.city_county.bandwidth), c.id, cost.get(plane, 10), bfd))
    for x in lf.extra_links:
        links.append(mk_link(f"extra-{x.id}", "extra", x.plane, x.a, f"x{x.id}-{x.plane[0]}", x.b, f"x{x.id}-{x.plane[0]}",
                             plan.link_index(plan.EXTRA_LINK_SITE, x.id), schema.bandwidth_mbps(x.bandwidth), x.area,
                             cost.get(x.plane, 10), bfd))

    nodes: list[Node] = []
    for n in sorted(nf.nodes, key=lambda n: n.id):
        router = f"{n.slug}-rt" if n.kind == "city" else "province-rt"
        lan4, lan6 = plan.service_lan(nets.service4, n.id), plan.service_lan(nets.service6, n.id)
        gw = DualStack(plan.lan_address(lan4, 1), plan.lan_address(lan6, 1))
        host = DualStack(plan.lan_address(lan4, plan.HOST_OFFSET_IN_LAN), plan.lan_address(lan6, plan.HOST_OFFSET_IN_LAN))
        mgmt = ds(nets.management4, nets.management6, plan.host_index(n.id), plan.in_net)
        city = n.slug if n.kind == "city" else (n.city or "")
        nodes.append(Node(n.id, n.slug, n.name_zh, n.name_en, n.kind, n.code, city, router, lan4, lan6, host, gw, mgmt))
        area = n.id if n.kind == "city" else 0
        links.append(Link(f"{router}:lan-{n.slug}", "access", None, Endpoint(router, f"lan-{n.slug}", gw),
                          Endpoint(n.slug, "ext0", host), 10000.0, area, 1, False, n.id))

    controller = ds(nets.management4, nets.management6, plan.CONTROLLER_INDEX, plan.in_net)
    ntp = tuple([str(controller.ipv4.ip), str(controller.ipv6.ip)] if af.noc.ntp == "controller" else [af.noc.ntp])
    syslog = tuple([str(controller.ipv4.ip), str(controller.ipv6.ip)] if af.noc.syslog == "controller" else [af.noc.syslog])
    noc = Noc(controller, ntp, syslog, nets.management4, nets.management6)

    d = sf.defaults
    provincial_slug = next(n.slug for n in nf.nodes if n.kind == "provincial")
    city_order = [c.slug for c in cities]
    same_city = df.provincial.same_city
    services: list[Service] = []
    for s in sf.services:
        placed = {"P": [provincial_slug], "P+C": [provincial_slug, *city_order], "C": city_order}[s.hosting]
        if s.only is not None:
            placed = [n for n in placed if n in s.only]
        tier = s.dr_tier or d.dr_tier
        standby = (same_city.target,) if provincial_slug in placed and tier == same_city.tier else ()
        services.append(Service(s.slug, s.name_zh, s.name_en, s.hosting, s.zone, s.image, s.replicas or d.replicas,
                                s.cpu or d.cpu, s.memory or d.memory, s.port or d.port, s.level or d.level, tier,
                                tuple(placed), standby))

    dr_tiers = tuple(DrTier(k, schema.duration_seconds(t.rpo), schema.duration_seconds(t.rto), t.mode, t.schedule)
                     for k, t in sorted(df.tiers.items()))
    provincial_reps: tuple[tuple[Literal["same_city", "remote"], schema.DrReplication], ...] = (
        ("same_city", df.provincial.same_city), ("remote", df.provincial.remote))
    reps = [Replication(f"{r.source}->{r.target}", r.source, r.target, r.tier, kind) for kind, r in provincial_reps]
    for a, b in df.city_pairs:
        reps.append(Replication(f"{a}<->{b}", a, b, "cooperation", "cooperation"))

    return Province(meta=meta, source=str(root), supernets=nets, nodes=tuple(nodes), counties=tuple(counties),
                    routers=tuple(routers), links=tuple(links), services=tuple(services), dr_tiers=dr_tiers,
                    replications=tuple(reps), noc=noc, routing=lf.routing, uplink=up, zones=zf, segments=seg,
                    object_store=df.object_store)
