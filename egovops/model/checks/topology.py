"""nodes.yaml and counties.yaml: slugs, ids and name lengths; then the names the model derives from them.

Why here: routers, interfaces and LANs are named after node and county slugs (``hefei-rt``,
``lan-hefei``, ``feixi-d``), so a slug that is too long, repeated or equal to another derived name
would make the kernel refuse an interface or one device silently hide another.
"""

from __future__ import annotations

from typing import Any

from egovops.model import addressing as plan
from egovops.model import schema
from egovops.model.checks import MAX_IFNAME, Collector, Names, at, dupes
from egovops.model.province import Link, Province, Router


def nodes(col: Collector, nf: schema.NodesFile) -> None:
    """Unique slugs and ids, exactly one provincial node, cities that exist, city ids within the plan."""
    nodes = nf.nodes
    dupes(
        col,
        "nodes.yaml",
        nodes,
        lambda n: n.slug,
        lambda i: ("nodes", i, "slug"),
        "node slug",
        "duplicate-slug",
    )
    dupes(
        col,
        "nodes.yaml",
        nodes,
        lambda n: n.id,
        lambda i: ("nodes", i, "id"),
        "node id",
        "duplicate-id",
    )
    provincial = [i for i, n in enumerate(nodes) if n.kind == "provincial"]
    if len(provincial) != 1:
        col.add(
            "nodes.yaml",
            ("nodes",),
            f"expected exactly one provincial node, found {len(provincial)}",
            "the 1 of 1+16+N: one node with kind: provincial",
            "topology",
        )
    city_slugs = {n.slug for n in nodes if n.kind == "city"}
    for i, n in enumerate(nodes):
        longest = f"lan-{n.slug}"  # the longest router interface named after the node
        if len(longest) > MAX_IFNAME:
            col.add(
                "nodes.yaml",
                ("nodes", i, "slug"),
                f"node slug {n.slug!r} is too long: interface {longest!r} exceeds {MAX_IFNAME} characters",
                f"use at most {MAX_IFNAME - 4} characters",
                "name-length",
            )
        if n.kind == "city" and n.city not in (None, n.slug):
            col.add(
                "nodes.yaml",
                ("nodes", i, "city"),
                "a city node stands in its own city",
                "drop the city: key from city nodes",
                "topology",
            )
        if n.kind != "city" and n.city is not None and n.city not in city_slugs:
            col.add(
                "nodes.yaml",
                ("nodes", i, "city"),
                f"unknown city {n.city!r}",
                f"one of: {', '.join(sorted(city_slugs))}",
                "unknown-ref",
            )
        if n.kind == "city" and not 1 <= n.id < plan.HOST_SITE:  # site 0 is the provincial core's
            col.add(
                "nodes.yaml",
                ("nodes", i, "id"),
                f"city node id {n.id} is beyond the plan's {plan.HOST_SITE - 1} sites",
                "city ids are 1..30",
                "capacity",
            )


def counties(col: Collector, cf: schema.CountiesFile, names: Names) -> None:
    """Counties under known cities, unique per city, short enough for their interface, not shadowing a node;
    every city lists its counties (an empty list when it truly has none)."""
    for city, listed in cf.counties.items():
        if city not in names.city_slugs:
            col.add(
                "counties.yaml",
                ("counties", city),
                f"counties listed under unknown city {city!r}",
                "use the slug of a city node from nodes.yaml",
                "unknown-ref",
            )
            continue
        dupes(
            col,
            "counties.yaml",
            listed,
            lambda c: c.slug,
            at("counties", city, field="slug"),
            "county slug",
            "duplicate-slug",
        )
        dupes(
            col,
            "counties.yaml",
            listed,
            lambda c: c.id,
            at("counties", city, field="id"),
            "county id",
            "duplicate-id",
        )
        for i, c in enumerate(listed):
            ifname = f"{c.slug}-v"
            if len(ifname) > MAX_IFNAME:
                col.add(
                    "counties.yaml",
                    ("counties", city, i, "slug"),
                    f"county slug {c.slug!r} is too long: interface {ifname!r} exceeds {MAX_IFNAME} characters",
                    f"use at most {MAX_IFNAME - 2} characters",
                    "name-length",
                )
            if f"{city}-{c.slug}" in names.node_by_slug:
                col.add(
                    "counties.yaml",
                    ("counties", city, i, "slug"),
                    f"county {city}-{c.slug} collides with a node slug",
                    "pick another slug",
                    "duplicate-slug",
                )
    for city in sorted(names.city_slugs - set(cf.counties)):
        col.add(
            "counties.yaml",
            ("counties",),
            f"city {city!r} has no counties listed",
            "list its county-level divisions (an empty list if it truly has none)",
            "topology",
        )


def derived_names(
    col: Collector,
    p: Province,
    nf: schema.NodesFile,
    cf: schema.CountiesFile,
    lf: schema.LinksFile,
) -> None:
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
            for city, listed in cf.counties.items():
                for i, c in enumerate(listed):
                    if f"{city}-{c.slug}-rt" == name:
                        return "counties.yaml", ("counties", city, i, "slug")
        slug = name.removesuffix("-rt")
        if slug in node_ix:
            return "nodes.yaml", ("nodes", node_ix[slug], "slug")
        return "links.yaml", ()

    def link_origin(link: Link) -> tuple[str, tuple[Any, ...]]:
        if link.kind == "extra":
            ids = [x.id for x in lf.extra_links]
            return "links.yaml", (
                "extra_links",
                ids.index(int(link.name.removeprefix("extra-"))),
                "id",
            )
        if link.kind == "uplink":
            return "links.yaml", ("uplink", "peer")
        if link.kind == "access":
            return "nodes.yaml", ("nodes", node_ix[link.b.device], "slug")
        return router_origin(link.b.device, "county" if link.kind == "county" else "city")

    first: dict[str, Router] = {}
    for r in p.routers:
        if r.name in first:
            # the national peer is the odd one out: name it there rather than at a county or city
            fname, keys = router_origin(
                r.name,
                "external" if "external" in (r.role, first[r.name].role) else r.role,
            )
            col.add(
                fname,
                keys,
                f"router name {r.name!r} is derived twice (roles {first[r.name].role} and {r.role})",
                "rename the slug so the derived router names differ",
                "name-collision",
            )
        else:
            first[r.name] = r
    seen: dict[tuple[str, str], str] = {}
    for link in p.links:
        for end in (link.a, link.b):
            key = (end.device, end.ifname)
            if key in seen:
                fname, keys = link_origin(link)
                col.add(
                    fname,
                    keys,
                    f"interface {end.ifname!r} on {end.device} is derived twice (links {seen[key]} and {link.name})",
                    "a county or city slug may not equal an interface name such as up, lan or x<N>",
                    "name-collision",
                )
            else:
                seen[key] = link.name
