"""Chart values for one platform service, derived from the catalogue entry and the node.

This is the only place the catalogue becomes Helm values, so the chart's defaults
(charts/egov-service/values.yaml) hold the secure baseline and this module holds what differs per
service and node: identity, image, replicas, resources, zone, flows.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

from egovops.stacks import flows
from egovops.stacks.config import ServiceSpec, StackConfig


def split_image(image: str) -> dict[str, str]:
    """``repo/name:tag``, ``repo/name@sha256:…`` or ``repo/name:tag@sha256:…`` -> chart ``image`` values."""
    if "@" in image:
        ref, digest = image.split("@", 1)
        return {**split_image(ref), "digest": digest}
    head, sep, tag = image.rpartition(":")
    if not sep or "/" in tag:           # no tag at all (a registry port is not a tag)
        return {"repository": image, "tag": "", "digest": ""}
    return {"repository": head, "tag": tag, "digest": ""}


IMAGE_DIGESTS = Path(__file__).resolve().parents[2] / "charts" / "image-digests.yaml"


@functools.lru_cache(maxsize=4)
def image_digests(path: Path = IMAGE_DIGESTS) -> dict[str, str]:
    """The image lock (charts/image-digests.yaml): inventory image reference -> manifest digest."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise ValueError(f"{path}: expected 'repository:version: sha256:<digest>' lines")
    return data


def pinned_image(image: str) -> dict[str, str]:
    """Chart image values with the digest: from the reference itself, else from the image lock.

    A reference with no digest anywhere keeps ``digest: ""``, which the chart's values schema and
    the images-pinned policy refuse (named), so an unpinned image never reaches a cluster.
    """
    out = split_image(image)
    if not out["digest"]:
        out["digest"] = image_digests().get(image, "")
    return out


def service_values(svc: ServiceSpec, cfg: StackConfig) -> dict[str, Any]:
    """Values for ``charts/egov-service`` deploying ``svc`` on node ``cfg.node``."""
    active = svc.role == "active"
    return {
        "fullnameOverride": svc.slug,
        "service": {"slug": svc.slug, "nameZh": svc.name_zh, "level": svc.level, "zone": svc.zone,
                    "drTier": svc.dr_tier, "role": svc.role, "node": cfg.node, "port": svc.port,
                    "type": "ClusterIP"},
        "image": pinned_image(svc.image),
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
