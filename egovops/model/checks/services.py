"""services.yaml: the catalogue against the zones, the DR tiers and the nodes.

Why: a service is deployed by what this file says — its zone's network policy, its image, its
protection level (等保), its DR tier and the nodes it runs on — so each must name something that
exists and meet the platform's floor: no classified (涉密) system, pinned images, level 3 or higher.
"""

from __future__ import annotations

from egovops.model import schema
from egovops.model.checks import Collector, Names, dupes


def services(
    col: Collector,
    sf: schema.ServicesFile,
    zf: schema.ZonesFile,
    df: schema.DrFile,
    names: Names,
) -> None:
    """Unique slugs; per service: not classified, a known zone, a pinned image, level >= 3, a known DR
    tier, and an ``only`` list that places it on known nodes its hosting allows (every city for P+C/C)."""
    zone_names = set(zf.zones)
    tiers = set(df.tiers)
    provincial, city_slugs, node_by_slug = (
        names.provincial,
        names.city_slugs,
        names.node_by_slug,
    )
    dupes(
        col,
        "services.yaml",
        sf.services,
        lambda s: s.slug,
        lambda i: ("services", i, "slug"),
        "service slug",
        "duplicate-slug",
    )
    for i, s in enumerate(sf.services):
        if s.classified:
            col.add(
                "services.yaml",
                ("services", i, "classified"),
                f"classified (涉密) system {s.slug!r} placed on the cloud",
                "classified systems never go on the cloud or the extranet: remove the entry",
                "classified",
            )
        if s.zone not in zone_names:
            col.add(
                "services.yaml",
                ("services", i, "zone"),
                f"unknown zone {s.zone!r}",
                f"one of: {', '.join(sorted(zone_names))}",
                "unknown-ref",
            )
        tag = s.image.rsplit("/", 1)[-1]
        if "@sha256:" not in s.image and (":" not in tag or tag.endswith(":latest")):
            col.add(
                "services.yaml",
                ("services", i, "image"),
                f"image {s.image!r} is not pinned",
                "pin a version tag or digest, never latest",
                "image",
            )
        level = s.level or sf.defaults.level
        if level < 3:
            where = ("services", i, "level") if s.level is not None else ("defaults", "level")
            col.add(
                "services.yaml",
                where,
                f"protection level {level} is below 3",
                "core platform systems are protected at 等保 level 3 or higher",
                "level",
            )
        tier = s.dr_tier or sf.defaults.dr_tier
        if tier not in tiers:
            where = ("services", i, "dr_tier") if s.dr_tier is not None else ("defaults", "dr_tier")
            col.add(
                "services.yaml",
                where,
                f"unknown DR tier {tier!r}",
                f"one of: {', '.join(sorted(tiers))}",
                "unknown-ref",
            )
        if s.only is not None:
            home = {
                "P": {provincial.slug} if provincial else set(),
                "P+C": city_slugs | ({provincial.slug} if provincial else set()),
                "C": city_slugs,
            }[s.hosting]
            if not home & set(s.only):
                col.add(
                    "services.yaml",
                    ("services", i, "only"),
                    f"service {s.slug!r} is placed on no node",
                    f"'only' must name nodes its hosting {s.hosting} allows",
                    "placement",
                )
            for j, n in enumerate(s.only):
                if n not in node_by_slug:
                    col.add(
                        "services.yaml",
                        ("services", i, "only", j),
                        f"unknown node {n!r}",
                        "use a node slug",
                        "unknown-ref",
                    )
            if s.hosting in ("P+C", "C"):
                for missing in sorted(city_slugs - set(s.only)):
                    col.add(
                        "services.yaml",
                        ("services", i, "only"),
                        f"{s.hosting} service {s.slug!r} is missing from city {missing!r}",
                        "a P+C/C service runs on every city node: drop 'only' or change hosting",
                        "placement",
                    )
