"""PlatformService: one platform service from ``charts/egov-service`` on one node.

The chart is deployed with ``pulumi_kubernetes.helm.v3.Chart``, which renders the chart on the
client (the ``kubernetes:helm:template`` invoke) and registers every rendered object as a Pulumi
resource parented to this component — so each Deployment, Service, PodDisruptionBudget and
NetworkPolicy is visible to the policy pack and, offline, to the mock runtime. Values come from
the catalogue through :func:`egovops.stacks.values.service_values`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from egovops.stacks import SERVICE_CHART
from egovops.stacks.config import ServiceSpec, StackConfig
from egovops.stacks.values import service_values


@dataclass
class PlatformServiceArgs:
    """Typed inputs of a PlatformService."""

    service: ServiceSpec
    config: StackConfig
    chart: Path = SERVICE_CHART
    #: the tenant namespace resource (from CloudNode), so the chart waits for it
    namespace: pulumi.Resource | None = None


class PlatformService(pulumi.ComponentResource):
    """A platform service: Deployment, dual-stack Service, PDB, HPA, NetworkPolicy, monitoring."""

    values: dict[str, Any]

    def __init__(self, name: str, args: PlatformServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("egovops:platform:PlatformService", name, None, opts)
        svc, cfg = args.service, args.config
        self.values = service_values(svc, cfg)
        deps = [args.namespace] if args.namespace is not None else []
        self.chart = k8s.helm.v3.Chart(
            svc.slug,
            k8s.helm.v3.LocalChartOpts(path=str(args.chart), namespace=svc.namespace, values=self.values),
            opts=pulumi.ResourceOptions(parent=self, depends_on=deps))
        self.register_outputs({
            "service": svc.slug,
            "namespace": svc.namespace,
            "role": svc.role,
            "zone": svc.zone,
            "replicas": svc.replicas,
            "image": svc.image,
            "endpoint": f"{svc.slug}.{svc.namespace}.svc:{svc.port}",
        })
