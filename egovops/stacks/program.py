"""The stack program: thin, as in Pulumi's examples — read the config, call the components.

``stacks/__main__.py`` calls :func:`program` under the Pulumi CLI / Automation API; the offline
preview calls it under the mock runtime with the config rendered from the inventory.
"""

from __future__ import annotations

import pulumi

from egovops.stacks import config as stack_config
from egovops.stacks.components import (
    CloudNode,
    CloudNodeArgs,
    IndustryCloud,
    IndustryCloudArgs,
    ObjectStore,
    ObjectStoreArgs,
    PlatformService,
    PlatformServiceArgs,
)


def program(cfg: stack_config.StackConfig | None = None) -> None:
    """Deploy one node: its CloudNode baseline, its platform services, its object store."""
    cfg = cfg or stack_config.from_pulumi()
    if cfg.kind == "industry":
        industry_program(cfg)
        return
    node = CloudNode(cfg.node, CloudNodeArgs(config=cfg))
    services = {
        s.slug: PlatformService(s.slug, PlatformServiceArgs(service=s, config=cfg, namespace=node.namespaces[s.slug]))
        for s in cfg.services
    }
    store = ObjectStore(f"{cfg.node}-store", ObjectStoreArgs(config=cfg, endpoint=cfg.s3_endpoint))
    pulumi.export("node", cfg.node)
    pulumi.export("kind", cfg.kind)
    pulumi.export("services", {slug: s.values["service"]["role"] for slug, s in services.items()})
    pulumi.export("namespaces", list(node.namespaces))
    pulumi.export("buckets", list(store.buckets))


def industry_program(cfg: stack_config.StackConfig) -> None:
    """Deploy one industry cloud: its IndustryCloud tenancy and the catalogue services it hosts, all
    through an explicit provider for the department's own cluster (its kube context, from the config)."""
    import pulumi_kubernetes as k8s

    assert cfg.industry is not None  # parse() guarantees it for kind industry
    provider = k8s.Provider(f"{cfg.node}-cluster", context=cfg.industry.kube_context)
    cloud = IndustryCloud(cfg.node, IndustryCloudArgs(config=cfg, provider=provider),
                          opts=pulumi.ResourceOptions(providers=[provider]))
    services = {
        s.slug: PlatformService(s.slug, PlatformServiceArgs(service=s, config=cfg, namespace=cloud.namespaces[s.namespace]),
                                opts=pulumi.ResourceOptions(providers=[provider]))
        for s in cfg.services
    }
    pulumi.export("node", cfg.node)
    pulumi.export("kind", cfg.kind)
    pulumi.export("department", cfg.industry.department)
    pulumi.export("services", {slug: s.values["service"]["role"] for slug, s in services.items()})
    pulumi.export("namespaces", list(cloud.namespaces))
    pulumi.export("calls", [c.peer for c in cfg.industry.calls])
