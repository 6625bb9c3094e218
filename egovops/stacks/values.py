"""Chart values for one platform service, derived from the catalogue entry and the node.

This is the only place the catalogue becomes Helm values, so the chart's defaults
(charts/egov-service/values.yaml) hold the secure baseline and this module holds what differs per
service and node: identity, image, replicas, resources, zone, flows.
"""

from __future__ import annotations

from typing import Any

from egovops.stacks import flows
from egovops.stacks.config import ServiceSpec, StackConfig


def split_image(image: str) -> dict[str, str]:
    """``repo/name:tag`` or ``repo/name@sha256:…`` -> chart ``image`` values."""
    if "@" in image:
        repo, digest = image.split("@", 1)
        return {"repository": repo, "tag": "", "digest": digest}
    head, sep, tag = image.rpartition(":")
    if not sep or "/" in tag:           # no tag at all (a registry port is not a tag)
        return {"repository": image, "tag": "", "digest": ""}
    return {"repository": head, "tag": tag, "digest": ""}


def service_values(svc: ServiceSpec, cfg: StackConfig) -> dict[str, Any]:
    """Values for ``charts/egov-service`` deploying ``svc`` on node ``cfg.node``."""
    active = svc.role == "active"
    return {
        "fullnameOverride": svc.slug,
        "service": {"slug": svc.slug, "nameZh": svc.name_zh, "level": svc.level, "zone": svc.zone,
                    "drTier": svc.dr_tier, "role": svc.role, "node": cfg.node, "port": svc.port,
                    "type": "ClusterIP"},
        "image": split_image(svc.image),
        "replicaCount": svc.replicas,
        "resources": {"requests": {"cpu": svc.cpu, "memory": svc.memory},
                      "limits": {"cpu": svc.cpu, "memory": svc.memory}},
        # a warm standby keeps one replica and does not autoscale until failover
        "autoscaling": {"enabled": active, "maxReplicas": svc.replicas * 2},
        "podDisruptionBudget": {"enabled": svc.replicas > 1,
                                "minAvailable": max(1, svc.replicas - 1)},
        "networkPolicy": {"enabled": True, "ingress": flows.ingress_rules(svc, cfg),
                          "egress": flows.egress_rules(svc, cfg)},
    }
