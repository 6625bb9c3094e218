"""The inventory's validators, one module per concern; :func:`egovops.model.load._build` runs them in order.

Why split by concern: each file of an inventory is valid alone by its schema (``schema.py``); what
remains are rules that join files (a county under an unknown city, a DR target that is not a DR
site, a service on an unknown zone). Each module holds the rules of one concern, so a reviewer
finds "what makes a DR pair valid" in one place:

- :mod:`.supernets`  addressing.yaml: the eight supernets (family, lab range, overlap)
- :mod:`.topology`   nodes.yaml and counties.yaml: slugs, ids, name lengths; names the model derives
- :mod:`.links`      links.yaml: routing timers, the national uplink, planes, extra links
- :mod:`.dr`         dr.yaml: tiers' schedules, provincial replication, city pairs, the object store
- :mod:`.services`   services.yaml: the catalogue against zones, DR tiers and nodes
- :mod:`.zones`      zones.yaml: flow endpoints
- :mod:`.ports`      ids that number Huawei VRP ports (counties, industry clouds, nodes, extra links) fit the card

:mod:`egovops.model.calls` (zones.yaml ``calls``) and :mod:`egovops.model.industry` (industry.yaml)
are checks of the same kind that predate this package. Every validator only reports through the
loader's collector (file, key path, hint, kind; the collector adds the line) and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from egovops.model import schema

MAX_IFNAME = 15  # Linux's interface name limit (IFNAMSIZ - 1): every derived interface name must fit


class Collector(Protocol):
    """Where a validator reports a problem (:class:`egovops.model.load._Collector`)."""

    def add(
        self,
        fname: str,
        keys: tuple[Any, ...],
        message: str,
        hint: str = "",
        kind: str = "invalid",
    ) -> None: ...


@dataclass(frozen=True)
class Names:
    """The names the cross-file checks look things up by, derived once from nodes, counties and links."""

    node_by_slug: dict[str, schema.NodeSpec]
    city_slugs: set[str]
    provincial: schema.NodeSpec | None  # None when nodes.yaml has none (reported by topology.nodes)
    router_names: set[str]  # every router the model will derive: core, national, cities, counties

    @classmethod
    def of(cls, nf: schema.NodesFile, cf: schema.CountiesFile, lf: schema.LinksFile) -> Names:
        city_slugs = {n.slug for n in nf.nodes if n.kind == "city"}
        routers = {"province-rt", f"{lf.uplink.peer}-rt"} | {f"{c}-rt" for c in city_slugs}
        routers |= {f"{city}-{c.slug}-rt" for city, cs in cf.counties.items() for c in cs}
        return cls(
            node_by_slug={n.slug: n for n in nf.nodes},
            city_slugs=city_slugs,
            provincial=next((n for n in nf.nodes if n.kind == "provincial"), None),
            router_names=routers,
        )


def at(*prefix: Any, field: str) -> Callable[[int], tuple[Any, ...]]:
    """``where`` for :func:`dupes`: the key path of item ``i`` under ``prefix``, ending in ``field``."""
    return lambda i: (*prefix, i, field)


def dupes(
    col: Collector,
    fname: str,
    items: list[Any],
    key: Callable[[Any], Any],
    where: Callable[[int], tuple[Any, ...]],
    what: str,
    kind: str,
) -> None:
    """Report every item whose ``key`` an earlier item already has, naming the first one's index."""
    seen: dict[Any, int] = {}
    for i, item in enumerate(items):
        k = key(item)
        if k in seen:
            col.add(
                fname,
                where(i),
                f"duplicate {what} {k!r} (first at index {seen[k]})",
                f"every {what} must be unique",
                kind,
            )
        else:
            seen[k] = i
