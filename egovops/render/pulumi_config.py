"""One Pulumi stack config per node (``Pulumi.<stack>.yaml``): what the stack program deploys there."""

from __future__ import annotations

from typing import Any

from egovops.model.province import IndustryCloud, Node, Province, Service
from egovops.render import seaweed
from egovops.render.files import dump_yaml

PROJECT = "egovops"


def _shared(province: Province) -> dict[str, Any]:
    """The keys every stack's config carries alike: the inventory, the plan's supernets, zones and flows."""
    p, s = PROJECT, province.supernets
    return {
        f"{p}:inventory": province.meta.name,
        f"{p}:inventoryVersion": province.meta.version,
        f"{p}:environment": province.meta.environment,
        f"{p}:extranetCidrs": sorted(str(n) for n in (s.loopback4, s.p2p4, s.service4, s.loopback6, s.p2p6, s.service6)),
        f"{p}:managementCidrs": [str(s.management4), str(s.management6)],
        f"{p}:zones": {k: {"nameZh": z.name_zh, "functions": list(z.functions)} for k, z in province.zones.zones.items()},
        f"{p}:flows": [{"from": f.from_, "to": f.to, "port": f.port, "why": f.why} for f in province.zones.flows],
    }


def stack_config(province: Province, node: Node) -> dict[str, Any]:
    tiers = {t.name: t for t in province.dr_tiers}
    services = []
    for s in province.services:
        role = "active" if node.slug in s.nodes else "standby" if node.slug in s.standby else None
        if role is None:
            continue
        services.append(_service_entry(s, role))
    reps = [
        {"name": r.name, "source": r.source, "target": r.target, "tier": r.tier, "kind": r.kind,
         "rpoSeconds": tiers[r.tier].rpo_seconds, "schedule": tiers[r.tier].schedule}
        for r in province.replications if node.slug in (r.source, r.target)
    ]
    p = PROJECT
    return {"config": {
        **_shared(province),
        f"{p}:node": node.slug,
        f"{p}:nodeId": node.id,
        f"{p}:kind": node.kind,
        f"{p}:city": node.city,
        f"{p}:nameZh": node.name_zh,
        f"{p}:serviceCidrs": [str(node.service_v4), str(node.service_v6)],
        f"{p}:services": services,
        f"{p}:replications": reps,
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
    if province.object_store is None or node.kind not in seaweed.SITE_KINDS:
        return {}
    return {f"{PROJECT}:s3Endpoint": seaweed.s3_url(province, node.slug)}


#: The department tenant of an industry cloud until industry.yaml sizes it per cloud: a namespace
#: for the department's own workloads, capped so one cloud cannot exhaust a shared cluster.
INDUSTRY_TENANT = {"pods": 60, "cpu": "32", "memory": "128Gi"}


def _service_entry(s: Service, role: str) -> dict[str, Any]:
    return {"slug": s.slug, "nameZh": s.name_zh, "nameEn": s.name_en, "zone": s.zone, "image": s.image,
            "replicas": s.replicas if role == "active" else 1, "cpu": s.cpu, "memory": s.memory, "port": s.port,
            "level": s.level, "drTier": s.dr_tier, "role": role}


def industry_calls(province: Province, cloud: IndustryCloud) -> list[dict[str, Any]]:
    """``egovops:industry.calls``: each provincial service the cloud consumes, where it runs (the
    provincial node's service LANs, both families) and on which port. Its only cross-node egress."""
    svc = {s.slug: s for s in province.services}
    out = []
    for slug in cloud.consumes:
        for n in province.nodes:
            if n.kind == "provincial" and n.slug in svc[slug].nodes:
                out.append({"service": slug, "nameZh": svc[slug].name_zh, "peer": f"{n.slug}:{slug}",
                            "cidrs": [str(n.service_v4), str(n.service_v6)], "port": svc[slug].port,
                            "why": f"industry cloud {cloud.slug} consumes {slug}"})
    return out


def industry_stack_config(province: Province, cloud: IndustryCloud) -> dict[str, Any]:
    """The stack config of an industry cloud: the same keys as a node's, ``kind: industry``, and
    ``egovops:industry`` (department, routing, the cluster's kube context, tenant size, the calls)."""
    p = PROJECT
    svc = {s.slug: s for s in province.services}
    return {"config": {
        **_shared(province),
        f"{p}:node": cloud.slug,
        f"{p}:nodeId": cloud.id,
        f"{p}:kind": "industry",
        f"{p}:city": "",
        f"{p}:nameZh": cloud.name_zh,
        f"{p}:serviceCidrs": [str(cloud.service_v4), str(cloud.service_v6)],
        f"{p}:services": [_service_entry(svc[s], "active") for s in cloud.hosts],
        f"{p}:replications": [],
        f"{p}:crossNode": [],
        f"{p}:industry": {
            "department": cloud.department, "departmentZh": cloud.department_zh, "departmentEn": cloud.department_en,
            "nameEn": cloud.name_en, "routing": cloud.routing, "drTier": cloud.dr_tier or "",
            # the department's own cluster: never the operator's current kubectl context
            "kubeContext": f"egov-industry-{cloud.slug}",
            "tenant": dict(INDUSTRY_TENANT),
            "calls": industry_calls(province, cloud),
        },
    }}


def stack_configs(province: Province) -> dict[str, dict[str, Any]]:
    """Every stack's rendered ``Pulumi.<stack>.yaml`` document: one per node, one per managed industry cloud."""
    out = {n.slug: stack_config(province, n) for n in province.nodes}
    out.update({c.slug: industry_stack_config(province, c) for c in province.managed_industry()})
    return out


def render(province: Province) -> dict[str, str]:
    return {f"Pulumi.{slug}.yaml": dump_yaml(province, doc) for slug, doc in stack_configs(province).items()}
