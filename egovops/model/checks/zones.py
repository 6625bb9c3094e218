"""zones.yaml flows: every endpoint names a zone or service that exists.

Why: the rendered network policies open exactly these flows; an endpoint naming nothing would
render a policy that opens a path to nothing — or, after a later rename, to something unintended.
The cross-node ``calls`` of the same file are checked by :mod:`egovops.model.calls`.
"""

from __future__ import annotations

from egovops.model import schema
from egovops.model.checks import Collector


def flows(col: Collector, zf: schema.ZonesFile, sf: schema.ServicesFile) -> None:
    """``from``: public, extranet, management, zone:<name> or service:<slug>; ``to``: a zone or service."""
    zone_names = set(zf.zones)
    svc_slugs = [s.slug for s in sf.services]
    for i, f in enumerate(zf.flows):
        for end, allowed_plain in (
            ("from_", {"public", "extranet", "management"}),
            ("to", set()),
        ):
            ref = getattr(f, end)
            key = "from" if end == "from_" else "to"
            if ref in allowed_plain:
                continue
            kind_, _, name = ref.partition(":")
            if kind_ == "zone" and name in zone_names or kind_ == "service" and name in svc_slugs:
                continue
            col.add(
                "zones.yaml",
                ("flows", i, key),
                f"unknown flow endpoint {ref!r}",
                "use zone:<name>, service:<slug>" + (", public, extranet or management" if end == "from_" else ""),
                "unknown-ref",
            )
