"""links.yaml: routing timers, the national uplink, the planes of each segment, the extra links.

Why checked together: these are the settings every router's IGP and BGP configuration is rendered
from; a dead interval not above the hello flaps every adjacency, an iBGP "uplink" or a repeated
plane renders a configuration no router would run.
"""

from __future__ import annotations

from egovops.model import schema
from egovops.model.checks import Collector, Names, dupes


def routing(col: Collector, lf: schema.LinksFile, names: Names) -> None:
    """OSPF timers, the national uplink (eBGP, its own name) and non-empty plane lists without repeats."""
    if lf.routing.ospf_dead_seconds <= lf.routing.ospf_hello_seconds:
        col.add(
            "links.yaml",
            ("routing", "ospf_dead_seconds"),
            "OSPF dead interval must exceed the hello interval",
            "use dead = 4 x hello",
            "routing",
        )
    if lf.uplink.peer in names.node_by_slug:
        col.add(
            "links.yaml",
            ("uplink", "peer"),
            f"uplink peer {lf.uplink.peer!r} collides with a node slug",
            "name the national node differently",
            "duplicate-slug",
        )
    if lf.uplink.asn == lf.routing.asn:
        col.add(
            "links.yaml",
            ("uplink", "asn"),
            "the national uplink must be eBGP: its ASN equals the province's",
            "use the national node's ASN",
            "routing",
        )
    for seg in ("province_city", "city_county"):
        planes = getattr(lf.segments, seg).planes
        if len(set(planes)) != len(planes) or not planes:
            col.add(
                "links.yaml",
                ("segments", seg, "planes"),
                "planes must be a non-empty list without repeats",
                "one network, two planes: [data, video]",
                "topology",
            )
    if len(set(lf.uplink.planes)) != len(lf.uplink.planes) or not lf.uplink.planes:
        col.add(
            "links.yaml",
            ("uplink", "planes"),
            "planes must be a non-empty list without repeats",
            "the national uplink carries [data, video]",
            "topology",
        )


def extra_links(col: Collector, lf: schema.LinksFile, names: Names) -> None:
    """Extra links: unique ids, both ends routers the model derives, never a router to itself."""
    dupes(
        col,
        "links.yaml",
        lf.extra_links,
        lambda x: x.id,
        lambda i: ("extra_links", i, "id"),
        "extra link id",
        "duplicate-id",
    )
    for i, x in enumerate(lf.extra_links):
        for end in ("a", "b"):
            if getattr(x, end) not in names.router_names:
                col.add(
                    "links.yaml",
                    ("extra_links", i, end),
                    f"unknown router {getattr(x, end)!r} in link",
                    "use a router name such as hefei-rt or chuzhou-fengyang-rt",
                    "unknown-ref",
                )
        if x.a == x.b:
            col.add(
                "links.yaml",
                ("extra_links", i),
                f"link from {x.a} to itself",
                "a link joins two different routers",
                "self-link",
            )
