"""Zone flows (zones.yaml) -> Kubernetes NetworkPolicy rules for one service.

Pure functions: the inventory's flows are the allow-list; everything else is dropped by the
namespace's default-deny policy. Sources map to peers as follows:

- ``public``      any address (the Internet arrives through the province's single exit),
- ``extranet``    the extranet's supernets (``extranetCidrs``),
- ``management``  the NOC's management network (``managementCidrs``),
- ``zone:<z>``    every namespace labelled ``egov.ah/zone=<z>``,
- ``service:<s>`` the namespace of service ``<s>``.

Cross-node calls (issue 13) come from ``egovops:crossNode``: a service on another node is no
namespace here, so its peer is an ``ipBlock`` per family of that node's service LAN (from the
address plan), on the called service's port. Calls between nodes that are not listed match no
rule and stay denied.
"""

from __future__ import annotations

from typing import Any

from egovops.stacks.config import FlowSpec, ServiceSpec, StackConfig

ZONE_LABEL = "egov.ah/zone"
NAME_LABEL = "kubernetes.io/metadata.name"
ANY = ("0.0.0.0/0", "::/0")


def _targets(flow: FlowSpec, svc: ServiceSpec) -> bool:
    return flow.target in (f"zone:{svc.zone}", f"service:{svc.slug}")


def _sources(flow: FlowSpec, svc: ServiceSpec) -> bool:
    return flow.source in (f"zone:{svc.zone}", f"service:{svc.slug}")


def _peers(spec: str, cfg: StackConfig) -> list[dict[str, Any]]:
    if spec == "public":
        return [{"ipBlock": {"cidr": c}} for c in ANY]
    if spec == "extranet":
        return [{"ipBlock": {"cidr": c}} for c in cfg.extranet_cidrs]
    if spec == "management":
        return [{"ipBlock": {"cidr": c}} for c in cfg.management_cidrs]
    kind, _, name = spec.partition(":")
    if kind == "zone":
        return [{"namespaceSelector": {"matchLabels": {ZONE_LABEL: name}}}]
    if kind == "service":
        return [{"namespaceSelector": {"matchLabels": {NAME_LABEL: name}}}]
    raise ValueError(f"unknown flow endpoint {spec!r} (zones.yaml)")


def _ports(port: int | str, services: list[ServiceSpec]) -> list[dict[str, Any]]:
    nums = sorted({s.port for s in services}) if port == "service" else [int(port)]
    return [{"protocol": "TCP", "port": n} for n in nums]


def _cross(svc: ServiceSpec, cfg: StackConfig, direction: str) -> list[dict[str, Any]]:
    """One rule per cross-node call of ``svc`` in ``direction``: the other node's LANs as ipBlocks."""
    key = "from" if direction == "ingress" else "to"
    return [{key: [{"ipBlock": {"cidr": c}} for c in x.cidrs], "ports": [{"protocol": "TCP", "port": x.port}]}
            for x in cfg.cross_node if x.direction == direction and x.service == svc.slug]


def ingress_rules(svc: ServiceSpec, cfg: StackConfig) -> list[dict[str, Any]]:
    """Ingress allowed to ``svc`` on this node, one rule per flow that targets it, then cross-node calls."""
    return [{"from": _peers(f.source, cfg), "ports": _ports(f.port, [svc])}
            for f in cfg.flows if _targets(f, svc)] + _cross(svc, cfg, "ingress")


def egress_rules(svc: ServiceSpec, cfg: StackConfig) -> list[dict[str, Any]]:
    """Egress allowed from ``svc``: toward the targets of flows whose source is its zone or itself.

    Ports are those of the target services present on this node (a zone target means every service
    of the zone). Flows toward services absent from the node are dropped (nothing to reach).
    """
    rules = []
    for f in cfg.flows:
        if not _sources(f, svc):
            continue
        kind, _, name = f.target.partition(":")
        reached = [s for s in cfg.services if (s.zone == name if kind == "zone" else s.slug == name)]
        if not reached:
            continue
        rules.append({"to": _peers(f.target, cfg), "ports": _ports(f.port, reached)})
    return rules + _cross(svc, cfg, "egress")
