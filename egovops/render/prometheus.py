"""Prometheus file_sd targets, one folder per NOC (1 provincial + 16 city NOCs).

``<noc>/nodes.yaml`` and ``<noc>/routers.yaml`` are file_sd documents (a list of
``{targets, labels}`` groups); ``federation.json`` names the NOCs the provincial one federates.

A city NOC watches its city node, its city router and its county routers; the provincial NOC
watches the provincial node, the DR sites and the core router, and federates the city NOCs.
"""

from __future__ import annotations

from typing import Any

from egovops.model.province import Province
from egovops.render.files import dump_json, dump_yaml

NODE_EXPORTER_PORT = 9100


def noc_of_node(province: Province, slug: str) -> str:
    node = province.node(slug)
    return node.slug if node.kind == "city" else "province"


def noc_of_router(r) -> str:
    return r.city if r.role in ("city", "county") else "province"


def render(province: Province) -> dict[str, str]:
    nodes: dict[str, list[dict[str, Any]]] = {}
    routers: dict[str, list[dict[str, Any]]] = {}
    for n in province.nodes:
        noc = noc_of_node(province, n.slug)
        labels = {"node": n.slug, "kind": n.kind, "city": n.city, "noc": noc, "name_zh": n.name_zh}
        nodes.setdefault(noc, []).append({
            "targets": [f"{n.management.ipv4.ip}:{NODE_EXPORTER_PORT}", f"[{n.management.ipv6.ip}]:{NODE_EXPORTER_PORT}"],
            "labels": {**labels, "family": "dual"},
        })
    for r in province.routers:
        if not r.is_ours:
            continue
        noc = noc_of_router(r)
        routers.setdefault(noc, []).append({
            "targets": [str(r.management.ipv4.ip), f"[{r.management.ipv6.ip}]"],
            "labels": {"router": r.name, "role": r.role, "city": r.city or "", "noc": noc,
                       "loopback_ipv4": str(r.loopback.ipv4.ip), "loopback_ipv6": str(r.loopback.ipv6.ip)},
        })
    out: dict[str, str] = {}
    for noc in sorted(set(nodes) | set(routers)):
        # file_sd wants a bare list of target groups; YAML (which Prometheus reads like JSON) keeps
        # the "generated" header as a comment, which a JSON file_sd document has no room for.
        out[f"{noc}/nodes.yaml"] = dump_yaml(province, nodes.get(noc, []))
        out[f"{noc}/routers.yaml"] = dump_yaml(province, routers.get(noc, []))
    out["federation.json"] = dump_json(province, {"province": "province", "cities": sorted(c.slug for c in province.cities)})
    return out
