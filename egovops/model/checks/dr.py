"""dr.yaml: the tiers' schedules, provincial replication, the city backup-cooperation pairs, the object store.

Why checked before anything is derived: the DR timers run a tier's schedule as a cron expression
as is, replication runs from the provincial node to DR sites only, every city needs exactly one
partner (备份合作机制), and the object store's ports must be free and open in the host firewall —
each mistake would otherwise surface only when a drill or a replication fails.
"""

from __future__ import annotations

from egovops.model import schema
from egovops.model.checks import Collector, Names

CRON_FIELDS = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 7),
)


def cron_problem(expr: str) -> str:
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


def schedules(col: Collector, df: schema.DrFile) -> None:
    """Every tier's schedule is a 5-field cron expression the DR timers can run."""
    for name, t in df.tiers.items():
        bad = cron_problem(t.schedule)
        if bad:
            col.add(
                "dr.yaml",
                ("tiers", name, "schedule"),
                f"schedule {t.schedule!r} is not a 5-field cron expression: {bad}",
                "minute hour day-of-month month day-of-week, e.g. '*/15 * * * *'",
                "schedule",
            )


def provincial(col: Collector, df: schema.DrFile, names: Names) -> None:
    """Same-city and remote replication: from the provincial node to a DR site, on a known tier."""
    tiers = set(df.tiers)
    for kind in ("same_city", "remote"):
        r = getattr(df.provincial, kind)
        for end in ("source", "target"):
            ref = getattr(r, end)
            if ref not in names.node_by_slug:
                col.add(
                    "dr.yaml",
                    ("provincial", kind, end),
                    f"unknown node {ref!r}",
                    "use a node slug from nodes.yaml",
                    "unknown-ref",
                )
        if r.source == r.target:
            col.add(
                "dr.yaml",
                ("provincial", kind),
                "DR source and target are the same node",
                "replicate to a DR site",
                "self-pair",
            )
        if r.source in names.node_by_slug and names.node_by_slug[r.source].kind != "provincial":
            col.add(
                "dr.yaml",
                ("provincial", kind, "source"),
                f"{r.source!r} is not the provincial node",
                "provincial DR replicates from the node with kind: provincial",
                "dr",
            )
        if r.target in names.node_by_slug and names.node_by_slug[r.target].kind != "dr":
            col.add(
                "dr.yaml",
                ("provincial", kind, "target"),
                f"{r.target!r} is not a DR site (kind: dr)",
                "replicate to a node with kind: dr in nodes.yaml",
                "dr",
            )
        if r.tier not in tiers:
            col.add(
                "dr.yaml",
                ("provincial", kind, "tier"),
                f"unknown DR tier {r.tier!r}",
                f"one of: {', '.join(sorted(tiers))}",
                "unknown-ref",
            )


def city_pairs(col: Collector, df: schema.DrFile, names: Names) -> None:
    """Backup-cooperation pairs: two known, different cities each, every city in exactly one pair,
    and the 'cooperation' tier they replicate on."""
    tiers = set(df.tiers)
    paired: dict[str, int] = {}
    for i, pair in enumerate(df.city_pairs):
        if len(pair) != 2:
            col.add(
                "dr.yaml",
                ("city_pairs", i),
                f"a pair has two cities, this has {len(pair)}",
                "write [city_a, city_b]",
                "dr",
            )
            continue
        a, b = pair
        if a == b:
            col.add(
                "dr.yaml",
                ("city_pairs", i),
                f"city {a!r} paired with itself",
                "pair it with another city",
                "self-pair",
            )
        for j, member in enumerate(pair):
            if member not in names.city_slugs:
                col.add(
                    "dr.yaml",
                    ("city_pairs", i, j),
                    f"unknown city {member!r} in DR pair",
                    "use a city slug from nodes.yaml",
                    "unknown-ref",
                )
            elif member in paired and not (a == b and j == 1):
                col.add(
                    "dr.yaml",
                    ("city_pairs", i, j),
                    f"city {member!r} is already in pair {paired[member]}",
                    "each city belongs to exactly one backup-cooperation pair",
                    "dr",
                )
            else:
                paired.setdefault(member, i)
    for lone in sorted(names.city_slugs - set(paired)):
        col.add(
            "dr.yaml",
            ("city_pairs",),
            f"city {lone!r} has no backup-cooperation partner",
            "add it to a pair (备份合作机制)",
            "unpaired",
        )
    if "cooperation" not in tiers:
        col.add(
            "dr.yaml",
            ("tiers",),
            "no 'cooperation' tier for the city pairs",
            "add tiers.cooperation",
            "dr",
        )


def object_store(col: Collector, df: schema.DrFile, services: set[str], zf: schema.ZonesFile) -> None:
    """dr.yaml object_store: distinct ports, unique buckets, each bucket for a known service, and the
    host firewall (zones.yaml) open for what the tier needs: S3 from the controller, the filer (HTTP
    and gRPC) from the extranet for replication between sites."""
    os_ = df.object_store
    if os_ is None:
        return
    ports = {
        "s3_port": os_.s3_port,
        "filer_port": os_.filer_port,
        "master_port": os_.master_port,
        "volume_port": os_.volume_port,
    }
    taken = {p for v in ports.values() for p in (v, v + 10000)}  # SeaweedFS gRPC = port + 10000
    if len(taken) != 2 * len(ports):
        col.add(
            "dr.yaml",
            ("object_store",),
            f"object store ports clash: {ports} (gRPC listens on port+10000)",
            "give s3, filer, master and volume distinct ports whose +10000 do not collide",
            "object-store",
        )
    opened = {(h.port, h.from_) for h in zf.host_firewall if h.proto == "tcp"}
    for port, src, why in (
        (os_.s3_port, "management", "S3 from the controller"),
        (os_.filer_port, "extranet", "filer reads by the partner's filer.sync"),
        (os_.filer_port + 10000, "extranet", "filer gRPC for the partner's filer.sync"),
    ):
        if (port, src) not in opened and (port, "any") not in opened:
            col.add(
                "zones.yaml",
                ("host_firewall",),
                f"the object store needs tcp/{port} from {src} ({why})",
                f"add {{port: {port}, proto: tcp, from: {src}, why: ...}} to host_firewall",
                "object-store",
            )
    seen: set[str] = set()
    for i, b in enumerate(os_.buckets):
        if b.name in seen or b.name == os_.pgbackrest_bucket:
            col.add(
                "dr.yaml",
                ("object_store", "buckets", i, "name"),
                f"bucket {b.name!r} listed twice",
                "each bucket once (and not the pgBackRest bucket)",
                "duplicate-slug",
            )
        seen.add(b.name)
        if b.service not in services:
            col.add(
                "dr.yaml",
                ("object_store", "buckets", i, "service"),
                f"unknown service {b.service!r}",
                "use a service slug from services.yaml",
                "unknown-ref",
            )
