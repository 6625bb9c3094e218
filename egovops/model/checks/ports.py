"""Ids that number Huawei VRP ports: each must give a port that exists on the 48-port card.

Why at validation: production routers are VRP, and their ports are numbered by the stable ids of
the inventory (:mod:`egovops.model.ports`): county k's links are ports 3+2k / 4+2k of its city
router, industry cloud k's are the same ports of the provincial core, a node's service LAN is port
id+1, an extra link's port is its id. An id beyond the card used to pass ``inventory validate`` and
fail only at ``net render`` / ``net push``; here it is refused at the id, in its file, with the
range of ids that fit the card (not a free one: duplicate ids are the duplicate-id check's).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from pydantic import BaseModel

from egovops.model import addressing as plan
from egovops.model import ports, schema
from egovops.model.checks import Collector

Ports = Callable[[int], Iterable[tuple[str, int, int]]]  # id -> (what, card, port) of each port it numbers


def county_ports(planes: Sequence[str], city: str) -> Ports:
    """County k's links on its city router (and, the same numbers, on the county router)."""
    return lambda k: [
        (f"its {p} link on {city}-rt", ports.WAN_CARD, ports.wan_port(plan.county_link_slot(k, p))) for p in planes
    ]


def cloud_ports(planes: Sequence[str]) -> Ports:
    """Industry cloud k's links on the provincial core, and its service LAN on its own router."""
    return lambda k: (
        [
            (
                f"its {p} link on province-rt",
                ports.WAN_CARD,
                ports.wan_port(plan.industry_link_index(k, p) % plan.LINK_SLOTS_PER_SITE),
            )
            for p in planes
        ]
        + [("its service LAN", ports.LAN_CARD, ports.lan_port(k))]
    )


def node_ports(k: int) -> list[tuple[str, int, int]]:
    """Node k's service LAN on its router."""
    return [("its service LAN", ports.LAN_CARD, ports.lan_port(k))]


def extra_ports(k: int) -> list[tuple[str, int, int]]:
    """Extra link k of links.yaml on both its routers."""
    return [("the link", ports.EXTRA_CARD, ports.extra_port(k))]


def ids_of(spec: type[BaseModel]) -> range:
    """The ids the schema allows for ``spec`` (its ``id`` field's ge/le bounds)."""
    meta = spec.model_fields["id"].metadata
    return range(next(m.ge for m in meta if hasattr(m, "ge")), next(m.le for m in meta if hasattr(m, "le")) + 1)


def largest_id(ports_of: Ports, ids: range) -> int:
    """The largest id of ``ids`` whose every port is on the card (``ids.start - 1`` if none is)."""
    return max((k for k in ids if all(ports.on_card(p) for _, _, p in ports_of(k))), default=ids.start - 1)


def _check(
    col: Collector, fname: str, keys: tuple[Any, ...], what: str, ident: int, ports_of: Ports, ids: range
) -> None:
    """Report ``what`` at ``keys`` if one of the ports its id gives is off the card."""
    for label, card, port in ports_of(ident):
        if not ports.on_card(port):
            col.add(
                fname,
                keys,
                f"{what} {ident} does not fit a Huawei VRP card: {label} would be port "
                f"{ports.name(card, port)} (the card has ports 1..{ports.VRP_CARD_PORTS})",
                f"ids that fit the {ports.VRP_CARD_PORTS}-port card: {ids.start}..{largest_id(ports_of, ids)} "
                "(VRP ports are numbered by this id; it must also be unused)",
                "capacity",
            )
            return


def vrp_ports(
    col: Collector, nf: schema.NodesFile, cf: schema.CountiesFile, lf: schema.LinksFile, ind: schema.IndustryFile
) -> None:
    """County, industry cloud, node and extra link ids give VRP ports on the card (model.ports)."""
    for city, listed in cf.counties.items():
        of_county = county_ports(lf.segments.city_county.planes, city)
        for i, c in enumerate(listed):
            _check(
                col,
                "counties.yaml",
                ("counties", city, i, "id"),
                f"county {c.slug!r}: id",
                c.id,
                of_county,
                ids_of(schema.CountySpec),
            )
    for i, cloud in enumerate(ind.clouds):
        _check(
            col,
            "industry.yaml",
            ("clouds", i, "id"),
            f"industry cloud {cloud.slug!r}: id",
            cloud.id,
            cloud_ports(cloud.attach.planes),
            ids_of(schema.IndustryCloudSpec),
        )
    for i, n in enumerate(nf.nodes):
        _check(col, "nodes.yaml", ("nodes", i, "id"), f"node {n.slug!r}: id", n.id, node_ports, ids_of(schema.NodeSpec))
    for i, x in enumerate(lf.extra_links):
        _check(
            col, "links.yaml", ("extra_links", i, "id"), "extra link id", x.id, extra_ports, ids_of(schema.ExtraLink)
        )
