"""zones.yaml ``calls``: the cross-node service calls the plans require, checked against the catalogue.

Why checked here: a call names a service at a level (``city:bigdata-sub``); if that service does not
run at that level the rendered policy would open a path to nothing — or, worse, a path nobody meant.
"""

from __future__ import annotations

from typing import Any

from egovops.model import schema

FILE = "zones.yaml"
RUNS_AT = {"province": {"P", "P+C"}, "city": {"P+C", "C"}}


def check(col: Any, sf: schema.ServicesFile, zf: schema.ZonesFile) -> None:
    hosting = {s.slug: s.hosting for s in sf.services}
    seen: dict[tuple[str, str], int] = {}
    for i, c in enumerate(zf.calls):
        for key, end in (("from", c.from_), ("to", c.to)):
            level, _, slug = end.partition(":")
            if slug not in hosting:
                col.add(FILE, ("calls", i, key), f"unknown service {slug!r}", "use a service slug from services.yaml", "unknown-ref")
            elif hosting[slug] not in RUNS_AT[level]:
                col.add(FILE, ("calls", i, key), f"service {slug!r} (hosting {hosting[slug]}) does not run at the {level} level",
                        "province: hosting P or P+C; city: hosting P+C or C", "placement")
        if c.from_.partition(":")[0] == c.to.partition(":")[0]:
            col.add(FILE, ("calls", i), "a call joins two levels (city -> province or province -> city)",
                    "calls within a node are zones.yaml flows; city-to-city calls are not in the plans", "topology")
        if (c.from_, c.to) in seen:
            col.add(FILE, ("calls", i), f"duplicate call {c.from_} -> {c.to} (first at index {seen[(c.from_, c.to)]})",
                    "list each call once", "duplicate-slug")
        seen.setdefault((c.from_, c.to), i)
    _check_firewall(col, sf, zf)


def _check_firewall(col: Any, sf: schema.ServicesFile, zf: schema.ZonesFile) -> None:
    """A called service's port must not be open to the whole extranet (or anyone) on the callee's hosts.

    Why: the host firewall admits a call only from the callers' service LANs; a host_firewall entry
    opening that port wider on those hosts would let every non-catalogue flow through as well, and
    ``egovops net flows`` could never show one denied. Narrow such an entry with ``kinds``.
    """
    port = {s.slug: s.port or sf.defaults.port for s in sf.services}
    kind = {"province": "provincial", "city": "city"}
    for j, h in enumerate(zf.host_firewall):
        if h.proto != "tcp" or h.from_ not in ("extranet", "any"):
            continue
        for i, c in enumerate(zf.calls):
            level, _, slug = c.to.partition(":")
            if port.get(slug) == h.port and (h.kinds is None or kind[level] in h.kinds):
                col.add(FILE, ("host_firewall", j),
                        f"tcp/{h.port} is open from {h.from_} on {kind[level]} hosts, but it is the port of "
                        f"{slug}, which only calls[{i}] ({c.from_} -> {c.to}) may reach",
                        "limit the entry to the node kinds that serve it (kinds: [dr]) or move the service's port",
                        "overlap")
                break
