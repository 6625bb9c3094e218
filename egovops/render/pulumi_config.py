"""One Pulumi stack config per node (``Pulumi.<stack>.yaml``): what the stack program deploys there."""

from __future__ import annotations

from typing import Any

from egovops.model.province import Node, Province
from egovops.render.files import dump_yaml

PROJECT = "egovops"


def stack_config(province: Province, node: Node) -> dict[str, Any]:
    tiers = {t.name: t for t in province.dr_tiers}
    services = []
    for s in province.services:
        role = "active" if node.slug in s.nodes else "standby" if node.slug in s.standby else None
        if role is None:
            continue
        services.append({
            "slug": s.slug, "nameZh": s.name_zh, "nameEn": s.name_en, "zone": s.zone, "image": s.image,
            "replicas": s.replicas if role == "active" else 1, "cpu": s.cpu, "memory": s.memory, "port": s.port,
            "level": s.level, "drTier": s.dr_tier, "role": role,
        })
    reps = [
        {"name": r.name, "source": r.source, "target": r.target, "tier": r.tier, "kind": r.kind,
         "rpoSeconds": tiers[r.tier].rpo_seconds, "schedule": tiers[r.tier].schedule}
        for r in province.replications if node.slug in (r.source, r.target)
    ]
    p = PROJECT
    return {"config": {
        f"{p}:inventory": province.meta.name,
        f"{p}:inventoryVersion": province.meta.version,
        f"{p}:environment": province.meta.environment,
        f"{p}:node": node.slug,
        f"{p}:nodeId": node.id,
        f"{p}:kind": node.kind,
        f"{p}:city": node.city,
        f"{p}:nameZh": node.name_zh,
        f"{p}:serviceCidrs": [str(node.service_v4), str(node.service_v6)],
        f"{p}:extranetCidrs": sorted(str(n) for n in (province.supernets.loopback4, province.supernets.p2p4,
                                                        province.supernets.service4, province.supernets.loopback6,
                                                        province.supernets.p2p6, province.supernets.service6)),
        f"{p}:managementCidrs": [str(province.supernets.management4), str(province.supernets.management6)],
        f"{p}:services": services,
        f"{p}:replications": reps,
        f"{p}:zones": {k: {"nameZh": z.name_zh, "functions": list(z.functions)} for k, z in province.zones.zones.items()},
        f"{p}:flows": [{"from": f.from_, "to": f.to, "port": f.port, "why": f.why} for f in province.zones.flows],
        f"{p}:crossNode": cross_node(province, node),
        **_s3_endpoint(province, node),
    }}


def _level_nodes(province: Province, level: str) -> list[Node]:
    return [n for n in province.nodes if n.kind == ("provincial" if level == "province" else "city")]


def cross_node(province: Province, node: Node) -> list[dict[str, Any]]:
    """``egovops:crossNode``: the calls (zones.yaml ``calls``, industry ``consumes``) this node takes part in.

    One entry per (local service, other node): ``ingress`` into a local service from the other
    node's service LANs, ``egress`` from a local service to them, both families, on the port of the
    called service. egovops.stacks.flows turns each into a NetworkPolicy ``ipBlock`` rule; every
    cross-node call not listed here stays denied by the namespace's default-deny policy.
    """
    svc = {s.slug: s for s in province.services}
    out: list[dict[str, Any]] = []

    def add(direction: str, local: str, peer_node: str, peer_svc: str, cidrs: list[str], port: int, why: str) -> None:
        out.append({"direction": direction, "service": local, "peer": f"{peer_node}:{peer_svc}", "cidrs": cidrs,
                    "port": port, "why": why})

    for call in province.calls:
        (src_level, _, src), (dst_level, _, dst) = call.from_.partition(":"), call.to.partition(":")
        if node in _level_nodes(province, dst_level) and node.slug in svc[dst].nodes:
            for other in _level_nodes(province, src_level):
                if other.slug != node.slug and other.slug in svc[src].nodes:
                    add("ingress", dst, other.slug, src, [str(other.service_v4), str(other.service_v6)], svc[dst].port, call.why)
        if node in _level_nodes(province, src_level) and node.slug in svc[src].nodes:
            for other in _level_nodes(province, dst_level):
                if other.slug != node.slug and other.slug in svc[dst].nodes:
                    add("egress", src, other.slug, dst, [str(other.service_v4), str(other.service_v6)], svc[dst].port, call.why)
    if node.kind == "provincial":
        for cloud in province.managed_industry():
            for slug in cloud.consumes:
                if node.slug in svc[slug].nodes:
                    add("ingress", slug, cloud.slug, "*", [str(cloud.service_v4), str(cloud.service_v6)], svc[slug].port,
                        f"industry cloud {cloud.slug} consumes {slug}")
    return sorted(out, key=lambda e: (e["direction"], e["service"], e["peer"]))


def _s3_endpoint(province: Province, node: Node) -> dict[str, str]:
    """``egovops:s3Endpoint``: the node's object store, by the same function the DR tier uses."""
    from egovops.dr import seaweed

    if province.object_store is None or node.kind not in seaweed.SITE_KINDS:
        return {}
    return {f"{PROJECT}:s3Endpoint": seaweed.s3_url(province, node.slug)}


def render(province: Province) -> dict[str, str]:
    return {f"Pulumi.{n.slug}.yaml": dump_yaml(province, stack_config(province, n)) for n in province.nodes}
