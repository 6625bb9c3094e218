"""Typed view of one node's stack config (the ``egovops:*`` keys of ``Pulumi.<stack>.yaml``).

The config is rendered from the inventory by :mod:`egovops.render.pulumi_config`; this module only
parses it, so the service list is never typed twice. The same parser reads it from
``pulumi.Config`` inside a running program and from the rendered dict in tests and previews.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

NS = "egovops"


@dataclass(frozen=True)
class ServiceSpec:
    """One platform service placed on this node (active, or a warm standby at a DR site)."""

    slug: str
    name_zh: str
    name_en: str
    zone: str
    image: str
    replicas: int
    cpu: str
    memory: str
    port: int
    level: int
    dr_tier: str
    role: Literal["active", "standby"]

    @property
    def namespace(self) -> str:
        """Each service is its own tenant namespace (the catalogue's unit of ownership)."""
        return self.slug


@dataclass(frozen=True)
class ReplicationSpec:
    name: str
    source: str
    target: str
    tier: str
    kind: str
    rpo_seconds: int
    schedule: str


@dataclass(frozen=True)
class FlowSpec:
    source: str      # public | extranet | management | zone:<z> | service:<s>
    target: str      # zone:<z> | service:<s>
    port: int | str  # a number or "service"
    why: str


@dataclass(frozen=True)
class CrossNodeSpec:
    """A call between this node and another (zones.yaml ``calls``, industry ``consumes``)."""

    direction: Literal["ingress", "egress"]
    service: str                 # the local service (its namespace)
    peer: str                    # <node>:<service> on the other side (for reports)
    cidrs: tuple[str, ...]       # the other node's service LANs, IPv4 and IPv6
    port: int                    # the called service's port
    why: str


@dataclass(frozen=True)
class IndustryCall:
    """A provincial service an industry cloud consumes: where it runs and on which port."""

    service: str
    name_zh: str
    peer: str                    # <node>:<service> at the province
    cidrs: tuple[str, ...]       # the provincial node's service LANs, IPv4 and IPv6
    port: int
    why: str


@dataclass(frozen=True)
class TenantQuota:
    """The department tenant's ceiling: pods, CPU and memory (Kubernetes quantities)."""

    pods: int
    cpu: str
    memory: str


@dataclass(frozen=True)
class IndustrySpec:
    """``egovops:industry``: what an industry cloud's stack adds to a node's config."""

    department: str
    department_zh: str
    department_en: str
    name_en: str
    routing: str
    dr_tier: str
    kube_context: str
    tenant: TenantQuota
    calls: tuple[IndustryCall, ...]


@dataclass(frozen=True)
class StackConfig:
    """What one node's stack deploys."""

    node: str
    node_id: int
    kind: Literal["provincial", "city", "dr", "industry"]
    city: str
    name_zh: str
    environment: str
    inventory: str
    service_cidrs: tuple[str, ...]
    extranet_cidrs: tuple[str, ...]
    management_cidrs: tuple[str, ...]
    services: tuple[ServiceSpec, ...]
    replications: tuple[ReplicationSpec, ...]
    zones: Mapping[str, Mapping[str, Any]]
    flows: tuple[FlowSpec, ...]
    # optional settings (not rendered by the foundation; defaults fit the reference design)
    storage_provisioner: str = "rbd.csi.ceph.com"
    registry: str = "registry.egov.ah/"
    s3_endpoint: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    cross_node: tuple[CrossNodeSpec, ...] = ()
    industry: IndustrySpec | None = None     # set exactly when kind is industry

    def directed(self) -> tuple[ReplicationSpec, ...]:
        """Replications as one-way copies named ``<source>-to-<target>`` (DNS-safe).

        A city cooperation pair (``hefei<->anqing``) is mutual: each city keeps the other's data,
        so it yields both directions.
        """
        out = []
        for r in self.replications:
            pairs = [(r.source, r.target)] + ([(r.target, r.source)] if r.kind == "cooperation" else [])
            out += [replace(r, name=f"{a}-to-{b}", source=a, target=b) for a, b in pairs]
        return tuple(out)

    @property
    def outgoing(self) -> tuple[ReplicationSpec, ...]:
        """Copies this node is the source of (it schedules backups toward the target)."""
        return tuple(r for r in self.directed() if r.source == self.node)

    @property
    def incoming(self) -> tuple[ReplicationSpec, ...]:
        """Copies this node receives (it holds buckets for the source's copies)."""
        return tuple(r for r in self.directed() if r.target == self.node)


class ConfigError(ValueError):
    """A stack config is missing a key or has a wrong value; the message names the key."""


def _req(cfg: Mapping[str, Any], key: str) -> Any:
    full = f"{NS}:{key}"
    if full not in cfg:
        raise ConfigError(f"stack config lacks {full!r} (render it from the inventory: egovops stacks config)")
    return cfg[full]


def parse(cfg: Mapping[str, Any]) -> StackConfig:
    """Parse the ``config:`` mapping of a rendered ``Pulumi.<stack>.yaml`` (keys ``egovops:*``)."""
    try:
        services = tuple(ServiceSpec(
            slug=s["slug"], name_zh=s["nameZh"], name_en=s["nameEn"], zone=s["zone"], image=s["image"],
            replicas=int(s["replicas"]), cpu=str(s["cpu"]), memory=str(s["memory"]), port=int(s["port"]),
            level=int(s["level"]), dr_tier=s["drTier"], role=s["role"]) for s in _req(cfg, "services"))
        reps = tuple(ReplicationSpec(
            name=r["name"], source=r["source"], target=r["target"], tier=r["tier"], kind=r["kind"],
            rpo_seconds=int(r["rpoSeconds"]), schedule=r["schedule"]) for r in _req(cfg, "replications"))
        flows = tuple(FlowSpec(source=f["from"], target=f["to"], port=f["port"], why=f.get("why", ""))
                      for f in _req(cfg, "flows"))
        cross = tuple(CrossNodeSpec(direction=c["direction"], service=c["service"], peer=c["peer"],
                                    cidrs=tuple(c["cidrs"]), port=int(c["port"]), why=c.get("why", ""))
                      for c in cfg.get(f"{NS}:crossNode", []))
        if any(c.direction not in ("ingress", "egress") for c in cross):
            raise ValueError("crossNode direction must be ingress or egress")
        industry = _industry(cfg.get(f"{NS}:industry"))
        if (industry is None) != (cfg.get(f"{NS}:kind") != "industry"):
            raise ValueError("egovops:industry is required for kind industry and only for it")
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"stack config for {cfg.get(NS + ':node', '?')!r} is malformed: {exc!r}") from None
    return StackConfig(
        node=_req(cfg, "node"), node_id=int(_req(cfg, "nodeId")), kind=_req(cfg, "kind"), city=_req(cfg, "city"),
        name_zh=_req(cfg, "nameZh"), environment=_req(cfg, "environment"), inventory=_req(cfg, "inventory"),
        service_cidrs=tuple(_req(cfg, "serviceCidrs")), extranet_cidrs=tuple(_req(cfg, "extranetCidrs")),
        management_cidrs=tuple(_req(cfg, "managementCidrs")), services=services, replications=reps,
        zones=_req(cfg, "zones"), flows=flows,
        storage_provisioner=cfg.get(f"{NS}:storageProvisioner", StackConfig.storage_provisioner),
        registry=cfg.get(f"{NS}:registry", StackConfig.registry),
        s3_endpoint=cfg.get(f"{NS}:s3Endpoint"),
        cross_node=cross,
        industry=industry,
    )


def _industry(raw: Any) -> IndustrySpec | None:
    """Parse ``egovops:industry`` (None when absent); a bad value raises KeyError/TypeError/ValueError."""
    if raw is None:
        return None
    t = raw["tenant"]
    tenant = TenantQuota(pods=int(t["pods"]), cpu=str(t["cpu"]), memory=str(t["memory"]))
    if tenant.pods < 1:
        raise ValueError("egovops:industry.tenant.pods must be at least 1")
    calls = tuple(IndustryCall(service=c["service"], name_zh=c["nameZh"], peer=c["peer"], cidrs=tuple(c["cidrs"]),
                               port=int(c["port"]), why=c.get("why", "")) for c in raw["calls"])
    return IndustrySpec(department=raw["department"], department_zh=raw["departmentZh"],
                        department_en=raw["departmentEn"], name_en=raw["nameEn"], routing=raw["routing"],
                        dr_tier=raw.get("drTier", ""), kube_context=raw["kubeContext"], tenant=tenant, calls=calls)


def from_pulumi() -> StackConfig:
    """Read the running stack's config through ``pulumi.Config`` (inside a Pulumi program)."""
    import json

    import pulumi

    c = pulumi.Config(NS)
    keys = ["inventory", "inventoryVersion", "environment", "node", "nodeId", "kind", "city", "nameZh",
            "serviceCidrs", "extranetCidrs", "managementCidrs", "services", "replications", "zones", "flows",
            "storageProvisioner", "registry", "s3Endpoint", "crossNode", "industry"]
    raw: dict[str, Any] = {}
    for k in keys:
        v = c.get(k)
        if v is None:
            continue
        try:
            raw[f"{NS}:{k}"] = json.loads(v) if v[:1] in "[{" else v
        except json.JSONDecodeError:
            raw[f"{NS}:{k}"] = v
    return parse(raw)


def to_pulumi_config(rendered: Mapping[str, Any]) -> dict[str, str]:
    """A rendered config mapping as Pulumi's runtime holds it: strings, objects as JSON."""
    import json

    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in rendered.items()}


STACKS_MANIFEST = ".egovops-stacks"
"""The stack configs this tool wrote into a folder, with their sha256 (``sha256sum -c`` format)."""


def _is_stack_file(rel: str) -> bool:
    """The files ``stacks config`` answers for in the Pulumi project: ``Pulumi.<stack>.yaml``, top level."""
    import fnmatch

    return "/" not in rel and fnmatch.fnmatchcase(rel, "Pulumi.?*.yaml")


@dataclass(frozen=True)
class ConfigWrite:
    """What ``stacks config`` did: file names per outcome."""

    out: Any
    files: tuple[str, ...]
    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...]
    foreign: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"out": str(self.out), "written": list(self.written), "unchanged": list(self.unchanged),
                "removed": list(self.removed), "foreign": list(self.foreign)}


def write_stack_configs(province: Any, out: Any = None, force: bool = False) -> ConfigWrite:
    """Render every node's ``Pulumi.<node>.yaml`` into ``out`` (default: the Pulumi project).

    Only stack files recorded in the folder's own manifest with their current hash are ever
    deleted (a node removed from the inventory); a user's ``Pulumi.dev.yaml`` is refused
    (:class:`egovops.render.files.OutputFolderError`) unless ``force``, and never deleted.
    """
    from pathlib import Path

    from egovops.render.files import write_owned
    from egovops.render.pulumi_config import render
    from egovops.stacks import PROJECT_DIR

    folder = Path(out) if out else PROJECT_DIR
    files = render(province)
    res = write_owned(files, folder, force, STACKS_MANIFEST, _is_stack_file)
    return ConfigWrite(folder, tuple(sorted(files)), tuple(res.written), tuple(res.unchanged), tuple(res.removed),
                       tuple(res.foreign))
