"""Load an inventory folder, validate it completely, and build the resolved :class:`Province`.

Every problem is collected before anything is reported (``InventoryError.problems``); callers
write nothing when loading fails. An inventory may name a ``base`` folder in inventory.yaml:
files it lacks are taken from the base (the lab inherits the province and overrides addressing).
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from egovops.model import addressing as plan
from egovops.model import calls, industry, schema
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

LAB_V4 = ipaddress.IPv4Network("198.18.0.0/15")
LAB_V6 = ipaddress.IPv6Network("fd00::/8")
MAX_IFNAME = 15


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


def _in_lab_range(net: plan.IPNetwork) -> bool:
    """Whether ``net`` lies in the lab ranges of its family (198.18.0.0/15, fd00::/8)."""
    return net.subnet_of(LAB_V4) if isinstance(net, ipaddress.IPv4Network) else net.subnet_of(LAB_V6)


def _networks(col: _Collector, a: schema.AddressingFile, env: str) -> plan.Supernets | None:
    nets: dict[str, Any] = {}
    ok = True
    for fam, version in (("ipv4", 4), ("ipv6", 6)):
        for purpose in ("loopback", "p2p", "service", "management"):
            text = getattr(getattr(a, fam), purpose)
            keys = (fam, purpose)
            try:
                net = ipaddress.ip_network(text, strict=True)
            except ValueError as exc:
                col.add("addressing.yaml", keys, f"bad prefix {text!r}: {exc}", "write a network address, e.g. 198.18.0.0/20", "prefix")
                ok = False
                continue
            if net.version != version:
                col.add("addressing.yaml", keys, f"{text} is not an {fam} prefix", f"put an {fam} prefix under {fam}", "prefix")
                ok = False
                continue
            if env == "lab" and not _in_lab_range(net):
                col.add("addressing.yaml", keys, f"{net} is outside the lab ranges",
                        "lab addresses come only from 198.18.0.0/15 and fd00::/8", "lab-range")
                ok = False
            nets[purpose + str(version)] = net
    items = list(nets.items())  # check overlaps among the prefixes that parsed, even if others did not
    for i, (ka, na) in enumerate(items):
        for kb, nb in items[i + 1:]:
            if na.version == nb.version and na.overlaps(nb):
                fam = "ipv4" if na.version == 4 else "ipv6"
                col.add("addressing.yaml", (fam, kb[:-1]), f"{nb} overlaps {ka[:-1]} {na}",
                        "every purpose needs its own, disjoint supernet", "overlap")
    if not ok:
        return None
    return plan.Supernets(**nets)


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
        _check_nodes(col, parsed["nodes.yaml"])


def _at(*prefix: Any, field: str) -> Callable[[int], tuple[Any, ...]]:
    """``where`` for :func:`_dupes`: the key path of item ``i`` under ``prefix``, ending in ``field``."""
    return lambda i: (*prefix, i, field)


def _dupes(col: _Collector, fname: str, items: list[Any], key: Callable[[Any], Any], where: Callable[[int], tuple[Any, ...]],
           what: str, kind: str) -> None:
    seen: dict[Any, int] = {}
    for i, item in enumerate(items):
        k = key(item)
        if k in seen:
            col.add(fname, where(i), f"duplicate {what} {k!r} (first at index {seen[k]})",
                    f"every {what} must be unique", kind)
        else:
            seen[k] = i


def _check_nodes(col: _Collector, nf: schema.NodesFile) -> None:
    nodes = nf.nodes
    _dupes(col, "nodes.yaml", nodes, lambda n: n.slug, lambda i: ("nodes", i, "slug"), "node slug", "duplicate-slug")
    _dupes(col, "nodes.yaml", nodes, lambda n: n.id, lambda i: ("nodes", i, "id"), "node id", "duplicate-id")
    provincial = [i for i, n in enumerate(nodes) if n.kind == "provincial"]
    if len(provincial) != 1:
        col.add("nodes.yaml", ("nodes",), f"expected exactly one provincial node, found {len(provincial)}",
                "the 1 of 1+16+N: one node with kind: provincial", "topology")
    city_slugs = {n.slug for n in nodes if n.kind == "city"}
    for i, n in enumerate(nodes):
        longest = f"lan-{n.slug}"  # the longest router interface named after the node
        if len(longest) > MAX_IFNAME:
            col.add("nodes.yaml", ("nodes", i, "slug"),
                    f"node slug {n.slug!r} is too long: interface {longest!r} exceeds {MAX_IFNAME} characters",
                    f"use at most {MAX_IFNAME - 4} characters", "name-length")
        if n.kind == "city" and n.city not in (None, n.slug):
            col.add("nodes.yaml", ("nodes", i, "city"), "a city node stands in its own city",
                    "drop the city: key from city nodes", "topology")
        if n.kind != "city" and n.city is not None and n.city not in city_slugs:
            col.add("nodes.yaml", ("nodes", i, "city"), f"unknown city {n.city!r}",
                    f"one of: {', '.join(sorted(city_slugs))}", "unknown-ref")
        if n.kind == "city" and not 1 <= n.id < plan.HOST_SITE:  # site 0 is the provincial core's
            col.add("nodes.yaml", ("nodes", i, "id"), f"city node id {n.id} is beyond the plan's {plan.HOST_SITE - 1} sites",
                    "city ids are 1..30", "capacity")


CRON_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 7))


def _cron_problem(expr: str) -> str:
    """What is wrong with a 5-field cron expression ('' when nothing): the DR timers run it as is."""
    fields = expr.split()
    if len(fields) != 5:
        return f"{len(fields)} fields"
    for text, (what, lo, hi) in zip(fields, CRON_FIELDS, strict=True):
        for part in text.split(","):
            rng, _, step = part.partition("/")
            if step and not step.isdigit():
                return f"bad step in {what} {text!r}"
            if step and not 1 <= int(step) <= hi:  # */0 never fires (cron refuses it)
                return f"step in {what} {text!r} outside 1-{hi}"
            if rng == "*":
                continue
            ends = rng.split("-")
            if len(ends) > 2 or not all(e.isdigit() for e in ends):
                return f"bad {what} {text!r}"
            if not all(lo <= int(e) <= hi for e in ends):
                return f"{what} {text!r} outside {lo}-{hi}"
    return ""


def _check_object_store(col: _Collector, df: schema.DrFile, services: set[str], zf: schema.ZonesFile) -> None:
    """dr.yaml object_store: distinct ports, unique buckets, each bucket for a known service, and the
    host firewall (zones.yaml) open for what the tier needs: S3 from the controller, the filer (HTTP
    and gRPC) from the extranet for replication between sites."""
    os_ = df.object_store
    if os_ is None:
        return
    ports = {"s3_port": os_.s3_port, "filer_port": os_.filer_port, "master_port": os_.master_port,
             "volume_port": os_.volume_port}
    taken = {p for v in ports.values() for p in (v, v + 10000)}  # SeaweedFS gRPC = port + 10000
    if len(taken) != 2 * len(ports):
        col.add("dr.yaml", ("object_store",), f"object store ports clash: {ports} (gRPC listens on port+10000)",
                "give s3, filer, master and volume distinct ports whose +10000 do not collide", "object-store")
    opened = {(h.port, h.from_) for h in zf.host_firewall if h.proto == "tcp"}
    for port, src, why in ((os_.s3_port, "management", "S3 from the controller"),
                           (os_.filer_port, "extranet", "filer reads by the partner's filer.sync"),
                           (os_.filer_port + 10000, "extranet", "filer gRPC for the partner's filer.sync")):
        if (port, src) not in opened and (port, "any") not in opened:
            col.add("zones.yaml", ("host_firewall",), f"the object store needs tcp/{port} from {src} ({why})",
                    f"add {{port: {port}, proto: tcp, from: {src}, why: ...}} to host_firewall", "object-store")
    seen: set[str] = set()
    for i, b in enumerate(os_.buckets):
        if b.name in seen or b.name == os_.pgbackrest_bucket:
            col.add("dr.yaml", ("object_store", "buckets", i, "name"), f"bucket {b.name!r} listed twice",
                    "each bucket once (and not the pgBackRest bucket)", "duplicate-slug")
        seen.add(b.name)
        if b.service not in services:
            col.add("dr.yaml", ("object_store", "buckets", i, "service"), f"unknown service {b.service!r}",
                    "use a service slug from services.yaml", "unknown-ref")


def _build(col: _Collector, root: Path, p: dict[str, Any]) -> Province | None:
    meta: schema.InventoryMeta = p["inventory.yaml"]
    nf: schema.NodesFile = p["nodes.yaml"]
    cf: schema.CountiesFile = p["counties.yaml"]
    lf: schema.LinksFile = p["links.yaml"]
    af: schema.AddressingFile = p["addressing.yaml"]
    df: schema.DrFile = p["dr.yaml"]
    sf: schema.ServicesFile = p["services.yaml"]
    zf: schema.ZonesFile = p["zones.yaml"]
    ind: schema.IndustryFile = p.get("industry.yaml") or schema.IndustryFile(departments={}, clouds=[])

    _check_nodes(col, nf)
    nets = _networks(col, af, meta.environment)
    node_by_slug = {n.slug: n for n in nf.nodes}
    cities = [n for n in nf.nodes if n.kind == "city"]
    city_slugs = {n.slug for n in cities}
    provincial = next((n for n in nf.nodes if n.kind == "provincial"), None)

    # ---- counties
    for city, counties in cf.counties.items():
        if city not in city_slugs:
            col.add("counties.yaml", ("counties", city), f"counties listed under unknown city {city!r}",
                    "use the slug of a city node from nodes.yaml", "unknown-ref")
            continue
        _dupes(col, "counties.yaml", counties, lambda c: c.slug, _at("counties", city, field="slug"),
               "county slug", "duplicate-slug")
        _dupes(col, "counties.yaml", counties, lambda c: c.id, _at("counties", city, field="id"),
               "county id", "duplicate-id")
        for i, c in enumerate(counties):
            ifname = f"{c.slug}-v"
            if len(ifname) > MAX_IFNAME:
                col.add("counties.yaml", ("counties", city, i, "slug"),
                        f"county slug {c.slug!r} is too long: interface {ifname!r} exceeds {MAX_IFNAME} characters",
                        f"use at most {MAX_IFNAME - 2} characters", "name-length")
            if f"{city}-{c.slug}" in node_by_slug:
                col.add("counties.yaml", ("counties", city, i, "slug"), f"county {city}-{c.slug} collides with a node slug",
                        "pick another slug", "duplicate-slug")
    for city in sorted(city_slugs - set(cf.counties)):
        col.add("counties.yaml", ("counties",), f"city {city!r} has no counties listed",
                "list its county-level divisions (an empty list if it truly has none)", "topology")

    # ---- routing / links
    if lf.routing.ospf_dead_seconds <= lf.routing.ospf_hello_seconds:
        col.add("links.yaml", ("routing", "ospf_dead_seconds"), "OSPF dead interval must exceed the hello interval",
                "use dead = 4 x hello", "routing")
    if lf.uplink.peer in node_by_slug:
        col.add("links.yaml", ("uplink", "peer"), f"uplink peer {lf.uplink.peer!r} collides with a node slug",
                "name the national node differently", "duplicate-slug")
    if lf.uplink.asn == lf.routing.asn:
        col.add("links.yaml", ("uplink", "asn"), "the national uplink must be eBGP: its ASN equals the province's",
                "use the national node's ASN", "routing")
    for seg in ("province_city", "city_county"):
        planes = getattr(lf.segments, seg).planes
        if len(set(planes)) != len(planes) or not planes:
            col.add("links.yaml", ("segments", seg, "planes"), "planes must be a non-empty list without repeats",
                    "one network, two planes: [data, video]", "topology")
    if len(set(lf.uplink.planes)) != len(lf.uplink.planes) or not lf.uplink.planes:
        col.add("links.yaml", ("uplink", "planes"), "planes must be a non-empty list without repeats",
                "the national uplink carries [data, video]", "topology")

    router_names = {"province-rt", f"{lf.uplink.peer}-rt"} | {f"{c}-rt" for c in city_slugs}
    router_names |= {f"{city}-{c.slug}-rt" for city, cs in cf.counties.items() for c in cs}
    _dupes(col, "links.yaml", lf.extra_links, lambda x: x.id, lambda i: ("extra_links", i, "id"), "extra link id", "duplicate-id")
    for i, x in enumerate(lf.extra_links):
        for end in ("a", "b"):
            if getattr(x, end) not in router_names:
                col.add("links.yaml", ("extra_links", i, end), f"unknown router {getattr(x, end)!r} in link",
                        "use a router name such as hefei-rt or chuzhou-fengyang-rt", "unknown-ref")
        if x.a == x.b:
            col.add("links.yaml", ("extra_links", i), f"link from {x.a} to itself", "a link joins two different routers", "self-link")

    # ---- DR
    tiers = set(df.tiers)
    for name, t in df.tiers.items():
        bad = _cron_problem(t.schedule)
        if bad:
            col.add("dr.yaml", ("tiers", name, "schedule"), f"schedule {t.schedule!r} is not a 5-field cron expression: {bad}",
                    "minute hour day-of-month month day-of-week, e.g. '*/15 * * * *'", "schedule")
    for kind in ("same_city", "remote"):
        r = getattr(df.provincial, kind)
        for end in ("source", "target"):
            ref = getattr(r, end)
            if ref not in node_by_slug:
                col.add("dr.yaml", ("provincial", kind, end), f"unknown node {ref!r}", "use a node slug from nodes.yaml", "unknown-ref")
        if r.source == r.target:
            col.add("dr.yaml", ("provincial", kind), "DR source and target are the same node", "replicate to a DR site", "self-pair")
        if r.source in node_by_slug and node_by_slug[r.source].kind != "provincial":
            col.add("dr.yaml", ("provincial", kind, "source"), f"{r.source!r} is not the provincial node",
                    "provincial DR replicates from the node with kind: provincial", "dr")
        if r.target in node_by_slug and node_by_slug[r.target].kind != "dr":
            col.add("dr.yaml", ("provincial", kind, "target"), f"{r.target!r} is not a DR site (kind: dr)",
                    "replicate to a node with kind: dr in nodes.yaml", "dr")
        if r.tier not in tiers:
            col.add("dr.yaml", ("provincial", kind, "tier"), f"unknown DR tier {r.tier!r}",
                    f"one of: {', '.join(sorted(tiers))}", "unknown-ref")
    paired: dict[str, int] = {}
    for i, pair in enumerate(df.city_pairs):
        if len(pair) != 2:
            col.add("dr.yaml", ("city_pairs", i), f"a pair has two cities, this has {len(pair)}", "write [city_a, city_b]", "dr")
            continue
        a, b = pair
        if a == b:
            col.add("dr.yaml", ("city_pairs", i), f"city {a!r} paired with itself", "pair it with another city", "self-pair")
        for j, member in enumerate(pair):
            if member not in city_slugs:
                col.add("dr.yaml", ("city_pairs", i, j), f"unknown city {member!r} in DR pair", "use a city slug from nodes.yaml",
                        "unknown-ref")
            elif member in paired and not (a == b and j == 1):
                col.add("dr.yaml", ("city_pairs", i, j), f"city {member!r} is already in pair {paired[member]}",
                        "each city belongs to exactly one backup-cooperation pair", "dr")
            else:
                paired.setdefault(member, i)
    for lone in sorted(city_slugs - set(paired)):
        col.add("dr.yaml", ("city_pairs",), f"city {lone!r} has no backup-cooperation partner",
                "add it to a pair (备份合作机制)", "unpaired")
    if "cooperation" not in tiers:
        col.add("dr.yaml", ("tiers",), "no 'cooperation' tier for the city pairs", "add tiers.cooperation", "dr")
    _check_object_store(col, df, {s.slug for s in sf.services}, zf)

    # ---- zones and services
    zone_names = set(zf.zones)
    svc_slugs = [s.slug for s in sf.services]
    _dupes(col, "services.yaml", sf.services, lambda s: s.slug, lambda i: ("services", i, "slug"), "service slug", "duplicate-slug")
    for i, s in enumerate(sf.services):
        if s.classified:
            col.add("services.yaml", ("services", i, "classified"),
                    f"classified (涉密) system {s.slug!r} placed on the cloud",
                    "classified systems never go on the cloud or the extranet: remove the entry", "classified")
        if s.zone not in zone_names:
            col.add("services.yaml", ("services", i, "zone"), f"unknown zone {s.zone!r}",
                    f"one of: {', '.join(sorted(zone_names))}", "unknown-ref")
        tag = s.image.rsplit("/", 1)[-1]
        if "@sha256:" not in s.image and (":" not in tag or tag.endswith(":latest")):
            col.add("services.yaml", ("services", i, "image"), f"image {s.image!r} is not pinned",
                    "pin a version tag or digest, never latest", "image")
        level = s.level or sf.defaults.level
        if level < 3:
            where = ("services", i, "level") if s.level is not None else ("defaults", "level")
            col.add("services.yaml", where, f"protection level {level} is below 3",
                    "core platform systems are protected at 等保 level 3 or higher", "level")
        tier = s.dr_tier or sf.defaults.dr_tier
        if tier not in tiers:
            where = ("services", i, "dr_tier") if s.dr_tier is not None else ("defaults", "dr_tier")
            col.add("services.yaml", where, f"unknown DR tier {tier!r}", f"one of: {', '.join(sorted(tiers))}", "unknown-ref")
        if s.only is not None:
            home = {"P": {provincial.slug} if provincial else set(), "P+C": city_slugs | ({provincial.slug} if provincial else set()),
                    "C": city_slugs}[s.hosting]
            if not home & set(s.only):
                col.add("services.yaml", ("services", i, "only"), f"service {s.slug!r} is placed on no node",
                        f"'only' must name nodes its hosting {s.hosting} allows", "placement")
            for j, n in enumerate(s.only):
                if n not in node_by_slug:
                    col.add("services.yaml", ("services", i, "only", j), f"unknown node {n!r}", "use a node slug", "unknown-ref")
            if s.hosting in ("P+C", "C"):
                for missing in sorted(city_slugs - set(s.only)):
                    col.add("services.yaml", ("services", i, "only"), f"{s.hosting} service {s.slug!r} is missing from city {missing!r}",
                            "a P+C/C service runs on every city node: drop 'only' or change hosting", "placement")
    for i, f in enumerate(zf.flows):
        for end, allowed_plain in (("from_", {"public", "extranet", "management"}), ("to", set())):
            ref = getattr(f, end)
            key = "from" if end == "from_" else "to"
            if ref in allowed_plain:
                continue
            kind_, _, name = ref.partition(":")
            if kind_ == "zone" and name in zone_names or kind_ == "service" and name in svc_slugs:
                continue
            col.add("zones.yaml", ("flows", i, key), f"unknown flow endpoint {ref!r}",
                    "use zone:<name>, service:<slug>" + (", public, extranet or management" if end == "from_" else ""), "unknown-ref")

    # ---- cross-node calls (zones.yaml) and industry clouds (egovops.model.calls, egovops.model.industry)
    calls.check(col, sf, zf)
    inets = industry.supernets(col, af, nets, meta.environment)
    industry.check(col, ind, nf=nf, sf=sf, lf=lf, tiers=tiers, taken_names=set(node_by_slug) | router_names
                   | {f"{city}-{c.slug}" for city, cs in cf.counties.items() for c in cs} | {lf.uplink.peer},
                   nets=nets, inets=inets, environment=meta.environment)
    industry.check_lab(col, meta, ind, inets)

    if col.problems or nets is None or provincial is None:
        return None
    try:
        province = _resolve(meta, root, nf, cf, lf, af, df, sf, zf, nets)
        _check_derived_names(col, province, nf, cf, lf)
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


def _check_derived_names(col: _Collector, p: Province, nf: schema.NodesFile, cf: schema.CountiesFile,
                         lf: schema.LinksFile) -> None:
    """Names the model derives (routers, their interfaces) must be unique, or one silently hides another.

    Each input is valid alone; together they can collide: a county slug ``up`` gives its city router
    a second ``up-d``, an uplink peer ``hefei-feixi`` a second router ``hefei-feixi-rt``. The problem
    is reported at the input that made the second name.
    """
    node_ix = {n.slug: i for i, n in enumerate(nf.nodes)}

    def router_origin(name: str, role: str) -> tuple[str, tuple[Any, ...]]:
        if role == "external":
            return "links.yaml", ("uplink", "peer")
        if role == "county":
            for city, counties in cf.counties.items():
                for i, c in enumerate(counties):
                    if f"{city}-{c.slug}-rt" == name:
                        return "counties.yaml", ("counties", city, i, "slug")
        slug = name.removesuffix("-rt")
        if slug in node_ix:
            return "nodes.yaml", ("nodes", node_ix[slug], "slug")
        return "links.yaml", ()

    def link_origin(link: Link) -> tuple[str, tuple[Any, ...]]:
        if link.kind == "extra":
            ids = [x.id for x in lf.extra_links]
            return "links.yaml", ("extra_links", ids.index(int(link.name.removeprefix("extra-"))), "id")
        if link.kind == "uplink":
            return "links.yaml", ("uplink", "peer")
        if link.kind == "access":
            return "nodes.yaml", ("nodes", node_ix[link.b.device], "slug")
        return router_origin(link.b.device, "county" if link.kind == "county" else "city")

    first: dict[str, Router] = {}
    for r in p.routers:
        if r.name in first:
            # the national peer is the odd one out: name it there rather than at a county or city
            fname, keys = router_origin(r.name, "external" if "external" in (r.role, first[r.name].role) else r.role)
            col.add(fname, keys, f"router name {r.name!r} is derived twice (roles {first[r.name].role} and {r.role})",
                    "rename the slug so the derived router names differ", "name-collision")
        else:
            first[r.name] = r
    seen: dict[tuple[str, str], str] = {}
    for link in p.links:
        for end in (link.a, link.b):
            key = (end.device, end.ifname)
            if key in seen:
                fname, keys = link_origin(link)
                col.add(fname, keys, f"interface {end.ifname!r} on {end.device} is derived twice "
                                     f"(links {seen[key]} and {link.name})",
                        "a county or city slug may not equal an interface name such as up, lan or x<N>", "name-collision")
            else:
                seen[key] = link.name


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
                    bw, area, cost, bfd)

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
                          Endpoint(n.slug, "ext0", host), 10000.0, area, 1, False))

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
