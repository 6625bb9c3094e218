"""CloudNode: what every tenant namespace on a node's cluster gets before any service lands.

Per tenant (each platform service on the node is its own tenant namespace): the namespace with
Pod Security Admission ``restricted`` labels and its zone, a ResourceQuota sized from the
catalogue, a LimitRange, a default-deny NetworkPolicy (ingress and egress) plus DNS egress.
Per node: storage classes, the platform PrometheusRules from ``monitors/platform/`` and, where the
node is the source of a DR replication, a Velero backup Schedule per replication at its tier's
cron and toward the target site.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from egovops.stacks import MONITORS_DIR
from egovops.stacks.config import ServiceSpec, StackConfig
from egovops.stacks.flows import ZONE_LABEL
from egovops.stacks.quantity import scale

PSA_VERSION = "v1.33"
MONITORING_NS = "egov-monitoring"
VELERO_NS = "velero"
#: every pod of the namespace, no rule: nothing in, nothing out
DEFAULT_DENY: Any = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


@dataclass
class CloudNodeArgs:
    """Typed inputs of a CloudNode (built from the node's stack config)."""

    config: StackConfig
    #: folder of Prometheus rule files (``*.rules.yml``) wrapped into PrometheusRule objects
    monitors_dir: Path = MONITORS_DIR
    #: headroom factor of the quota over the catalogue's steady state (rolling updates, HPA)
    quota_headroom: int = 3


def tenant_labels(svc: ServiceSpec, cfg: StackConfig) -> dict[str, str]:
    """Namespace labels: PSA restricted (enforce/audit/warn), zone, 等保 level, node."""
    labels = {}
    for mode in ("enforce", "audit", "warn"):
        labels[f"pod-security.kubernetes.io/{mode}"] = "restricted"
        labels[f"pod-security.kubernetes.io/{mode}-version"] = PSA_VERSION
    labels.update({ZONE_LABEL: svc.zone, "egov.ah/level": str(svc.level), "egov.ah/node": cfg.node,
                   "egov.ah/dr-tier": svc.dr_tier, "app.kubernetes.io/part-of": "egov-platform",
                   "app.kubernetes.io/managed-by": "pulumi"})
    return labels


def backup_namespaces(tier: str, cfg: StackConfig) -> list[str]:
    """Namespaces a replication of ``tier`` protects: the system tier copies the services it
    names (warm standbys); data and cooperation tiers copy the data of every service."""
    active = [s for s in cfg.services if s.role == "active"]
    if tier == "system":
        return [s.namespace for s in active if s.dr_tier == "system"]
    return [s.namespace for s in active]


def isolate(ns_name: str, child: pulumi.ResourceOptions, ns: pulumi.Resource) -> None:
    """Deny by default in a namespace (ingress and egress), then allow DNS to kube-dns only."""
    in_ns = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[ns]))
    k8s.networking.v1.NetworkPolicy(
        f"{ns_name}-default-deny", metadata={"name": "default-deny", "namespace": ns_name}, spec=DEFAULT_DENY, opts=in_ns)
    dns: Any = {"podSelector": {}, "policyTypes": ["Egress"],
                "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
                            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]}
    k8s.networking.v1.NetworkPolicy(
        f"{ns_name}-allow-dns", metadata={"name": "allow-dns", "namespace": ns_name}, spec=dns, opts=in_ns)


def service_tenant(svc: ServiceSpec, cfg: StackConfig, headroom: int,
                   child: pulumi.ResourceOptions) -> k8s.core.v1.Namespace:
    """One service's tenant namespace: PSA/zone labels, quota and limits from the catalogue, isolation.

    ``child`` carries the parent component (and, for an industry cloud, its explicit provider).
    """
    ns_name = svc.namespace
    ns = k8s.core.v1.Namespace(
        ns_name, metadata={"name": ns_name, "labels": tenant_labels(svc, cfg),
                           "annotations": {"egov.ah/name-zh": svc.name_zh}}, opts=child)
    in_ns = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[ns]))
    pods = svc.replicas * headroom
    k8s.core.v1.ResourceQuota(
        f"{ns_name}-quota", metadata={"name": "tenant-quota", "namespace": ns_name},
        spec={"hard": {
            "pods": str(pods),
            "requests.cpu": scale(svc.cpu, pods), "limits.cpu": scale(svc.cpu, pods),
            "requests.memory": scale(svc.memory, pods), "limits.memory": scale(svc.memory, pods),
            "services.loadbalancers": "0", "services.nodeports": "0",
        }}, opts=in_ns)
    limits: Any = {"limits": [{"type": "Container",
                               "default": {"cpu": svc.cpu, "memory": svc.memory},
                               "defaultRequest": {"cpu": svc.cpu, "memory": svc.memory},
                               "max": {"cpu": scale(svc.cpu, 2), "memory": scale(svc.memory, 2)}}]}
    k8s.core.v1.LimitRange(
        f"{ns_name}-limits", metadata={"name": "tenant-limits", "namespace": ns_name}, spec=limits, opts=in_ns)
    isolate(ns_name, child, ns)
    return ns


class CloudNode(pulumi.ComponentResource):
    """The baseline of one node's cluster: tenants, isolation, storage, monitoring, backups."""

    namespaces: dict[str, k8s.core.v1.Namespace]

    def __init__(self, name: str, args: CloudNodeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("egovops:cloud:CloudNode", name, None, opts)
        cfg = args.config
        child = pulumi.ResourceOptions(parent=self)
        self.namespaces = {}
        for svc in cfg.services:
            self.namespaces[svc.slug] = service_tenant(svc, cfg, args.quota_headroom, child)
        self.storage_classes = self._storage(cfg, child)
        self.monitoring_ns, self.rules = self._monitoring(cfg, args.monitors_dir, child)
        self.schedules = self._backups(cfg, child)
        self.register_outputs({
            "node": cfg.node,
            "namespaces": [n for n in self.namespaces],
            "storage_classes": [s for s in self.storage_classes],
            "backup_schedules": [s for s in self.schedules],
            "prometheus_rules": [r for r in self.rules],
        })

    # ---- storage
    def _storage(self, cfg: StackConfig, child: pulumi.ResourceOptions) -> dict[str, k8s.storage.v1.StorageClass]:
        """Two classes: the default (Delete) and ``egov-retain`` for DR-protected data (Retain)."""
        params = {"clusterID": f"egov-{cfg.node}", "pool": "egov", "imageFeatures": "layering",
                  "csi.storage.k8s.io/fstype": "ext4"}
        out = {}
        for name, reclaim, default in (("egov-block", "Delete", "true"), ("egov-retain", "Retain", "false")):
            out[name] = k8s.storage.v1.StorageClass(
                name, metadata={"name": name, "annotations": {"storageclass.kubernetes.io/is-default-class": default}},
                provisioner=cfg.storage_provisioner, reclaim_policy=reclaim, allow_volume_expansion=True,
                volume_binding_mode="WaitForFirstConsumer", parameters=params, opts=child)
        return out

    # ---- monitoring hooks
    def _monitoring(self, cfg: StackConfig, folder: Path, child: pulumi.ResourceOptions):
        labels = {"pod-security.kubernetes.io/enforce": "restricted",
                  "pod-security.kubernetes.io/enforce-version": PSA_VERSION,
                  "egov.ah/node": cfg.node, "app.kubernetes.io/part-of": "egov-platform"}
        ns = k8s.core.v1.Namespace(MONITORING_NS, metadata={"name": MONITORING_NS, "labels": labels}, opts=child)
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[ns])
        k8s.networking.v1.NetworkPolicy(
            f"{MONITORING_NS}-default-deny", metadata={"name": "default-deny", "namespace": MONITORING_NS},
            spec=DEFAULT_DENY, opts=in_ns)
        rules = {}
        for path in sorted(Path(folder).glob("*.rules.yml")) if Path(folder).is_dir() else []:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            name = path.name.removesuffix(".rules.yml")
            rules[name] = k8s.apiextensions.CustomResource(
                f"{cfg.node}-{name}", api_version="monitoring.coreos.com/v1", kind="PrometheusRule",
                metadata={"name": name, "namespace": MONITORING_NS,
                          "labels": {"app.kubernetes.io/part-of": "egov-platform", "egov.ah/node": cfg.node}},
                spec={"groups": doc.get("groups", [])}, opts=in_ns)
        return ns, rules

    # ---- DR backups
    def _backups(self, cfg: StackConfig, child: pulumi.ResourceOptions) -> dict[str, k8s.apiextensions.CustomResource]:
        """A Velero Schedule per outgoing replication: the tier's cron, its namespaces, the target's
        backup storage location, retention a week beyond the RPO."""
        out = {}
        for rep in cfg.outgoing:
            namespaces = backup_namespaces(rep.tier, cfg)
            if not namespaces:
                continue
            ttl_hours = max(24, rep.rpo_seconds // 3600) + 7 * 24
            out[rep.name] = k8s.apiextensions.CustomResource(
                f"backup-{rep.name}", api_version="velero.io/v1", kind="Schedule",
                metadata={"name": f"dr-{rep.name}", "namespace": VELERO_NS,
                          "labels": {"egov.ah/dr-tier": rep.tier, "egov.ah/dr-target": rep.target}},
                spec={"schedule": rep.schedule, "useOwnerReferencesInBackup": False,
                      "template": {"includedNamespaces": namespaces, "storageLocation": f"dr-{rep.target}",
                                   "snapshotVolumes": True, "ttl": f"{ttl_hours}h0m0s"}},
                opts=child)
        return out
