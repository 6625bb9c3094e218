"""IndustryCloud: an industry cloud's cluster under the province's unified management (统一纳管).

Why a component of its own: the cluster belongs to another department, so everything goes through
an explicit Kubernetes provider for that cluster (never the operator's current kubectl context),
and what the province manages there is the tenancy and the boundary, not the department's workloads:

- the department tenant namespace ``<cloud>-tenant`` (PSA ``restricted``, zone, department labels)
  with a ResourceQuota and a LimitRange from the stack config, and one tenant namespace per
  catalogue service the cloud hosts (sized from the catalogue, exactly as on a node);
- in every tenant: default-deny ingress and egress, DNS, the NOC's metrics scrape (the zone flows
  from the management network), and egress to the provincial services the cloud consumes — the
  provincial node's service LANs as ``ipBlock``s in both families on each service's port. Nothing
  else leaves the cloud's namespaces; the province's side admits the same calls
  (``egovops:crossNode`` of the provincial stack).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from egovops.stacks.components.cloud_node import PSA_VERSION, isolate, service_tenant
from egovops.stacks.config import IndustrySpec, StackConfig
from egovops.stacks.flows import ZONE_LABEL

TYPE = "egovops:industry:IndustryCloud"
#: Per-container defaults in the department tenant (a pod without requests still fits the quota).
CONTAINER_DEFAULT = {"cpu": "500m", "memory": "512Mi"}
CONTAINER_MAX = {"cpu": "4", "memory": "16Gi"}
ZONE = "extranet"   # an industry cloud is extranet only (industry.yaml), never a path to classified systems


@dataclass
class IndustryCloudArgs:
    """Typed inputs of an IndustryCloud (built from the cloud's stack config)."""

    config: StackConfig
    #: the Kubernetes provider of the cloud's own cluster; every child uses it explicitly
    provider: k8s.Provider
    #: headroom of a hosted service's quota over the catalogue's steady state (as CloudNode)
    quota_headroom: int = 3


def tenant_namespace(cloud: str) -> str:
    return f"{cloud}-tenant"


def industry_labels(cfg: StackConfig, ind: IndustrySpec) -> dict[str, str]:
    labels = {}
    for mode in ("enforce", "audit", "warn"):
        labels[f"pod-security.kubernetes.io/{mode}"] = "restricted"
        labels[f"pod-security.kubernetes.io/{mode}-version"] = PSA_VERSION
    labels.update({ZONE_LABEL: ZONE, "egov.ah/node": cfg.node, "egov.ah/industry": cfg.node,
                   "egov.ah/department": ind.department, "egov.ah/dr-tier": ind.dr_tier or "none",
                   "app.kubernetes.io/part-of": "egov-industry", "app.kubernetes.io/managed-by": "pulumi"})
    return labels


def call_rules(ind: IndustrySpec) -> list[dict[str, Any]]:
    """One egress rule per consumed provincial service: its node's LANs (v4, v6) on its port."""
    return [{"to": [{"ipBlock": {"cidr": c}} for c in call.cidrs], "ports": [{"protocol": "TCP", "port": call.port}]}
            for call in ind.calls]


def scrape_rules(cfg: StackConfig, zone: str) -> list[dict[str, Any]]:
    """Ingress from the management network on the ports the zone flows open to it (metrics)."""
    return [{"from": [{"ipBlock": {"cidr": c}} for c in cfg.management_cidrs],
             "ports": [{"protocol": "TCP", "port": int(f.port)}]}
            for f in cfg.flows if f.source == "management" and f.target == f"zone:{zone}" and str(f.port).isdigit()]


class IndustryCloud(pulumi.ComponentResource):
    """Tenants, quotas and the boundary of one industry cloud's cluster, through its own provider."""

    namespaces: dict[str, k8s.core.v1.Namespace]

    def __init__(self, name: str, args: IndustryCloudArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        cfg = args.config
        ind = cfg.industry
        if cfg.kind != "industry" or ind is None:
            raise ValueError(f"stack {cfg.node!r} is kind {cfg.kind!r}: an IndustryCloud needs an industry stack config")
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        self.namespaces = {}
        tenant = tenant_namespace(cfg.node)
        self.namespaces[tenant] = self._department_tenant(tenant, cfg, ind, child)
        for svc in cfg.services:
            self.namespaces[svc.namespace] = service_tenant(svc, cfg, args.quota_headroom, child)
        self.policies = {ns: self._boundary(ns, obj, cfg, ind, child) for ns, obj in self.namespaces.items()}
        self.register_outputs({
            "node": cfg.node,
            "department": ind.department,
            "kube_context": ind.kube_context,
            "namespaces": list(self.namespaces),
            "calls": [c.peer for c in ind.calls],
        })

    def _department_tenant(self, ns_name: str, cfg: StackConfig, ind: IndustrySpec,
                           child: pulumi.ResourceOptions) -> k8s.core.v1.Namespace:
        """The department's own namespace: labels, quota, limits, default deny."""
        ns = k8s.core.v1.Namespace(
            ns_name, metadata={"name": ns_name, "labels": industry_labels(cfg, ind),
                               "annotations": {"egov.ah/name-zh": cfg.name_zh, "egov.ah/department-zh": ind.department_zh,
                                               "egov.ah/department-en": ind.department_en}}, opts=child)
        in_ns = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[ns]))
        q = ind.tenant
        k8s.core.v1.ResourceQuota(
            f"{ns_name}-quota", metadata={"name": "tenant-quota", "namespace": ns_name},
            spec={"hard": {"pods": str(q.pods), "requests.cpu": q.cpu, "limits.cpu": q.cpu,
                           "requests.memory": q.memory, "limits.memory": q.memory,
                           "services.loadbalancers": "0", "services.nodeports": "0"}}, opts=in_ns)
        limits: Any = {"limits": [{"type": "Container", "default": dict(CONTAINER_DEFAULT),
                                   "defaultRequest": dict(CONTAINER_DEFAULT), "max": dict(CONTAINER_MAX)}]}
        k8s.core.v1.LimitRange(
            f"{ns_name}-limits", metadata={"name": "tenant-limits", "namespace": ns_name}, spec=limits, opts=in_ns)
        isolate(ns_name, child, ns)
        return ns

    def _boundary(self, ns_name: str, ns: k8s.core.v1.Namespace, cfg: StackConfig, ind: IndustrySpec,
                  child: pulumi.ResourceOptions) -> list[k8s.networking.v1.NetworkPolicy]:
        """What may cross the namespace's default deny: the provincial calls out, the NOC's scrape in."""
        in_ns = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[ns]))
        out = []
        zone = next((s.zone for s in cfg.services if s.namespace == ns_name), ZONE)
        if ind.calls:
            calls: Any = {"podSelector": {}, "policyTypes": ["Egress"], "egress": call_rules(ind)}
            meta: Any = {"name": "allow-provincial-services", "namespace": ns_name,
                         "annotations": {"egov.ah/calls": ",".join(c.peer for c in ind.calls)}}
            out.append(k8s.networking.v1.NetworkPolicy(f"{ns_name}-allow-provincial-services", metadata=meta,
                                                       spec=calls, opts=in_ns))
        scrape = scrape_rules(cfg, zone)
        if scrape:
            ingress: Any = {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": scrape}
            out.append(k8s.networking.v1.NetworkPolicy(
                f"{ns_name}-allow-noc-scrape", metadata={"name": "allow-noc-scrape", "namespace": ns_name},
                spec=ingress, opts=in_ns))
        return out
