"""The 等保 (GB/T 22239-2019 level 3) policy set for the stacks, written once.

Each :class:`Policy` is a pure function over resources as Pulumi's policy engine presents them
(``resource_type``, ``name``, ``urn``, ``props`` in the engine's camelCase wire format). The same
functions serve

- the Pulumi policy pack in ``stacks/policy/`` (``pulumi preview|up --policy-pack stacks/policy``,
  for production runs with the CLI), through :func:`egovops.stacks.policypack.build_pack`, and
- the offline preview, which evaluates them over the resources recorded under the mock runtime.

Control ids follow the compliance catalogue's scheme (``egovops/compliance/catalogue.yaml``):
``L3-<area><k>-<nn>`` where area is CES 安全计算环境 (§8.1.4), ABS 安全区域边界 (§8.1.3) or CNS 安全通信网络
(§8.1.2), ``k`` the control point and ``nn`` the item. The catalogue's host controls use items
01-19; these platform policies use items from 20 so the two never collide.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

K8S = "kubernetes:"
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"}
SECRET_KEY = re.compile(r"(passw(or)?d|secret|token|private[-_.]?key|access[-_.]?key|secret[-_.]?key|credential|apikey|api[-_.]key)", re.I)
SECRET_VALUE = re.compile(r"(-----BEGIN [A-Z ]*PRIVATE KEY-----|AKIA[0-9A-Z]{16}|(?i:password\s*[=:]\s*\S+))")
REGISTRY = "registry.egov.ah/"
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


@dataclass(frozen=True)
class Subject:
    """One resource under evaluation (the shape of pulumi_policy's PolicyResource)."""

    resource_type: str
    name: str
    urn: str
    props: dict[str, Any]

    @property
    def kind(self) -> str:
        return self.props.get("kind", "") if self.resource_type.startswith(K8S) else ""

    @property
    def namespace(self) -> str:
        return (self.props.get("metadata") or {}).get("namespace", "")

    @property
    def label(self) -> str:
        """How violations name the resource: ``Kind/namespace/name`` for Kubernetes objects."""
        if self.kind:
            md = self.props.get("metadata") or {}
            ns = f"{md['namespace']}/" if md.get("namespace") else ""
            return f"{self.kind}/{ns}{md.get('name', self.name)}"
        return f"{self.resource_type}::{self.name}"


@dataclass(frozen=True)
class Violation:
    policy: str
    control: str
    resource: str
    urn: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"policy": self.policy, "control": self.control, "resource": self.resource,
                "urn": self.urn, "message": self.message}


ResourceCheck = Callable[[Subject], list[str]]
StackCheck = Callable[[list[Subject]], list[tuple[Subject, str]]]


@dataclass(frozen=True)
class Policy:
    """A policy: its name, 等保 control id, the clause it serves, and one check function."""

    name: str
    control: str
    clause: str
    description: str
    scope: Literal["resource", "stack"]
    check: Callable[..., Any]

    def evaluate(self, subjects: list[Subject]) -> list[Violation]:
        if self.scope == "resource":
            return [Violation(self.name, self.control, s.label, s.urn, m) for s in subjects for m in self.check(s)]
        return [Violation(self.name, self.control, s.label, s.urn, m) for s, m in self.check(subjects)]


# ---- helpers over pod specs -------------------------------------------------------------
def pod_spec(s: Subject) -> dict[str, Any] | None:
    """The pod spec inside a workload (Pod, Deployment…, CronJob), or None."""
    if s.kind not in WORKLOAD_KINDS:
        return None
    spec = s.props.get("spec") or {}
    if s.kind == "Pod":
        return spec
    if s.kind == "CronJob":
        return (((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec") or {}
    return (spec.get("template") or {}).get("spec") or {}


def containers(ps: dict[str, Any]) -> list[dict[str, Any]]:
    return list(ps.get("initContainers") or []) + list(ps.get("containers") or [])


def _workload_checks(fn: Callable[[dict[str, Any], dict[str, Any]], list[str]]) -> ResourceCheck:
    """Lift a check over (pod spec, container) to a resource check."""
    def check(s: Subject) -> list[str]:
        ps = pod_spec(s)
        if ps is None:
            return []
        return [m for c in containers(ps) for m in fn(ps, c)]
    return check


# ---- resource policies ------------------------------------------------------------------
@_workload_checks
def _no_privilege(ps: dict[str, Any], c: dict[str, Any]) -> list[str]:
    sc = c.get("securityContext") or {}
    name = c.get("name", "?")
    out = []
    if sc.get("privileged"):
        out.append(f"container {name} is privileged")
    if sc.get("allowPrivilegeEscalation") is not False:
        out.append(f"container {name} does not set allowPrivilegeEscalation: false")
    caps = sc.get("capabilities") or {}
    if "ALL" not in (caps.get("drop") or []):
        out.append(f"container {name} does not drop ALL capabilities")
    if caps.get("add"):
        out.append(f"container {name} adds capabilities {caps['add']}")
    return out


def no_privilege(s: Subject) -> list[str]:
    out = _no_privilege(s)
    ps = pod_spec(s)
    if ps is not None:
        for flag in ("hostNetwork", "hostPID", "hostIPC"):
            if ps.get(flag):
                out.append(f"pod uses {flag}")
        for v in ps.get("volumes") or []:
            if "hostPath" in v:
                out.append(f"pod mounts hostPath volume {v.get('name')}")
    return out


@_workload_checks
def non_root(ps: dict[str, Any], c: dict[str, Any]) -> list[str]:
    pod = ps.get("securityContext") or {}
    sc = c.get("securityContext") or {}
    run_as_non_root = sc.get("runAsNonRoot", pod.get("runAsNonRoot"))
    uid = sc.get("runAsUser", pod.get("runAsUser"))
    out = []
    if run_as_non_root is not True:
        out.append(f"container {c.get('name', '?')} does not set runAsNonRoot: true")
    if uid == 0:
        out.append(f"container {c.get('name', '?')} runs as UID 0")
    return out


@_workload_checks
def read_only_root(ps: dict[str, Any], c: dict[str, Any]) -> list[str]:
    if (c.get("securityContext") or {}).get("readOnlyRootFilesystem") is not True:
        return [f"container {c.get('name', '?')} has a writable root filesystem"]
    return []


@_workload_checks
def resources_limited(ps: dict[str, Any], c: dict[str, Any]) -> list[str]:
    r = c.get("resources") or {}
    missing = [f"{kind}.{res}" for kind in ("requests", "limits") for res in ("cpu", "memory")
               if not (r.get(kind) or {}).get(res)]
    return [f"container {c.get('name', '?')} lacks resources {', '.join(missing)}"] if missing else []


@_workload_checks
def image_pinned(ps: dict[str, Any], c: dict[str, Any]) -> list[str]:
    image = c.get("image") or ""
    name = c.get("name", "?")
    out = []
    ref, _, digest = image.partition("@")
    last = ref.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else ""
    if tag == "latest":
        out.append(f"container {name} image {image!r} uses 'latest'")
    if not DIGEST.fullmatch(digest):   # supply chain: a tag can be moved, a digest cannot
        out.append(f"container {name} image {image!r} is not pinned by digest (repository[:tag]@sha256:<64 hex>)")
    if not image.startswith(REGISTRY):
        out.append(f"container {name} image {image!r} is not from the provincial registry {REGISTRY}")
    return out


def psa_restricted(s: Subject) -> list[str]:
    if s.kind != "Namespace":
        return []
    labels = (s.props.get("metadata") or {}).get("labels") or {}
    if labels.get("pod-security.kubernetes.io/enforce") != "restricted":
        return [f"namespace lacks pod-security.kubernetes.io/enforce=restricted "
                f"(has {labels.get('pod-security.kubernetes.io/enforce')!r})"]
    return []


def service_dual_stack(s: Subject) -> list[str]:
    if s.kind != "Service":
        return []
    spec = s.props.get("spec") or {}
    if spec.get("type") == "ExternalName":
        return []
    out = []
    if spec.get("ipFamilyPolicy") != "RequireDualStack":
        out.append(f"ipFamilyPolicy is {spec.get('ipFamilyPolicy')!r}, not RequireDualStack")
    if sorted(spec.get("ipFamilies") or []) != ["IPv4", "IPv6"]:
        out.append(f"ipFamilies is {spec.get('ipFamilies')!r}, not [IPv4, IPv6]")
    return out


def no_secrets_in_configmaps(s: Subject) -> list[str]:
    if s.kind != "ConfigMap":
        return []
    out = []
    for key, value in ((s.props.get("data") or {}) | (s.props.get("binaryData") or {})).items():
        if SECRET_KEY.search(key):
            out.append(f"key {key!r} looks like a secret (use a Secret or the vault)")
        elif isinstance(value, str) and SECRET_VALUE.search(value):
            out.append(f"value of key {key!r} contains secret material (private key, access key or password)")
    return out


def _bucket(s: Subject) -> bool:
    return s.resource_type == "pulumi-python:dynamic:Resource" and s.props.get("kind") == "egovops:s3:Bucket"


def bucket_versioned(s: Subject) -> list[str]:
    if _bucket(s) and s.props.get("versioning") is not True:
        return [f"bucket {s.props.get('bucket')} is not versioned"]
    return []


def bucket_encrypted(s: Subject) -> list[str]:
    if _bucket(s) and s.props.get("encryption") is not True:
        return [f"bucket {s.props.get('bucket')} does not request server-side encryption"]
    return []


# ---- stack policies (need the whole stack) ----------------------------------------------
def _namespaces(subjects: list[Subject]) -> dict[str, Subject]:
    return {(s.props.get("metadata") or {}).get("name", ""): s for s in subjects if s.kind == "Namespace"}


def default_deny(subjects: list[Subject]) -> list[tuple[Subject, str]]:
    """Every namespace has a NetworkPolicy selecting all pods that denies ingress and egress."""
    covered: dict[str, set[str]] = {}
    for s in subjects:
        if s.kind != "NetworkPolicy":
            continue
        spec = s.props.get("spec") or {}
        selector = spec.get("podSelector") or {}
        if selector.get("matchLabels") or selector.get("matchExpressions"):
            continue  # selects some pods only
        types = set(spec.get("policyTypes") or [])
        denied = {t for t in ("Ingress", "Egress") if t in types and not spec.get(t.lower())}
        covered.setdefault(s.namespace, set()).update(denied)
    out = []
    for name, ns in _namespaces(subjects).items():
        missing = {"Ingress", "Egress"} - covered.get(name, set())
        if missing:
            out.append((ns, f"namespace {name} has no default-deny NetworkPolicy for {'/'.join(sorted(missing))}"))
    return out


def extranet_not_exposed(subjects: list[Subject]) -> list[tuple[Subject, str]]:
    """No LoadBalancer/NodePort Service (or externalIPs) in a namespace of the extranet zone."""
    zones = {n: ((s.props.get("metadata") or {}).get("labels") or {}).get("egov.ah/zone")
             for n, s in _namespaces(subjects).items()}
    out = []
    for s in subjects:
        if s.kind != "Service":
            continue
        labels = (s.props.get("metadata") or {}).get("labels") or {}
        zone = zones.get(s.namespace) or labels.get("egov.ah/zone")
        spec = s.props.get("spec") or {}
        if zone == "extranet" and (spec.get("type") in ("LoadBalancer", "NodePort") or spec.get("externalIPs")):
            out.append((s, f"Service of type {spec.get('type')} exposes an extranet-only service "
                           f"(namespace {s.namespace} is in zone extranet)"))
    return out


def _selects(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    ml = (selector or {}).get("matchLabels") or {}
    return bool(ml) and all(labels.get(k) == v for k, v in ml.items())


def replicated_have_pdb(subjects: list[Subject]) -> list[tuple[Subject, str]]:
    """A Deployment running ≥ 2 replicas (own count or its HPA's minimum) has a PDB selecting it."""
    hpa_min = {(s.namespace, ((s.props.get("spec") or {}).get("scaleTargetRef") or {}).get("name")):
               (s.props.get("spec") or {}).get("minReplicas", 1)
               for s in subjects if s.kind == "HorizontalPodAutoscaler"}
    pdbs = [s for s in subjects if s.kind == "PodDisruptionBudget"]
    out = []
    for s in subjects:
        if s.kind != "Deployment":
            continue
        spec = s.props.get("spec") or {}
        name = (s.props.get("metadata") or {}).get("name")
        replicas = spec.get("replicas", hpa_min.get((s.namespace, name), 1))
        if replicas < 2:
            continue
        labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        if not any(p.namespace == s.namespace and _selects((p.props.get("spec") or {}).get("selector"), labels)
                   for p in pdbs):
            out.append((s, f"{replicas} replicas but no PodDisruptionBudget selects its pods"))
    return out


def dr_backups_scheduled(subjects: list[Subject]) -> list[tuple[Subject, str]]:
    """On a node that replicates (has a Velero Schedule), every tenant namespace is in a schedule."""
    schedules = [s for s in subjects if s.kind == "Schedule" and s.props.get("apiVersion", "").startswith("velero.io/")]
    if not schedules:
        return []
    included: set[str] = set()
    for s in schedules:
        included.update(((s.props.get("spec") or {}).get("template") or {}).get("includedNamespaces") or [])
    out = []
    for name, ns in _namespaces(subjects).items():
        labels = (ns.props.get("metadata") or {}).get("labels") or {}
        if labels.get("egov.ah/dr-tier") and name not in included:
            out.append((ns, f"tenant namespace {name} (DR tier {labels['egov.ah/dr-tier']}) is in no backup Schedule"))
    return out


POLICIES: tuple[Policy, ...] = (
    Policy("no-privileged-containers", "L3-CES2-20", "8.1.4.2 d)",
    "Least privilege: no privileged containers, privilege escalation, added capabilities, host namespaces or hostPath; drop ALL.",
    "resource", no_privilege),
    Policy("containers-run-as-non-root", "L3-CES2-21", "8.1.4.2 d)",
    "Least privilege: every container runs as a non-root user (runAsNonRoot, never UID 0).", "resource", non_root),
    Policy("namespace-pod-security-restricted", "L3-CES2-22", "8.1.4.2 e)",
    "Access-control policy enforced by the cluster: every namespace enforces the restricted Pod Security Standard.",
    "resource", psa_restricted),
    Policy("read-only-root-filesystem", "L3-CES7-20", "8.1.4.7 b)",
    "Integrity of programs in use: containers run with a read-only root filesystem.", "resource", read_only_root),
    Policy("images-pinned", "L3-CES4-20", "8.1.4.4 e)",
    "Known, patched software only: images come from the provincial registry, pinned by digest (a tag alone can be moved), never 'latest'.",
    "resource", image_pinned),
    Policy("no-secrets-in-configmaps", "L3-CES8-20", "8.1.4.8 b)",
    "Confidentiality in storage: secrets are never kept in plain ConfigMaps.", "resource", no_secrets_in_configmaps),
    Policy("buckets-versioned", "L3-CES9-20", "8.1.4.9 a)",
    "Backup and recovery: every bucket is versioned (recover overwritten or deleted objects).", "resource",
    bucket_versioned),
    Policy("buckets-encrypted", "L3-CES8-21", "8.1.4.8 b)",
    "Confidentiality in storage: every bucket requests server-side encryption.", "resource", bucket_encrypted),
    Policy("services-dual-stack", "L3-CNS1-20", "8.1.2.1 c)",
    "Network architecture and addressing: every Service is dual-stack (RequireDualStack, IPv4 and IPv6).",
    "resource", service_dual_stack),
    Policy("resources-limited", "L3-CNS1-21", "8.1.2.1 a)",
    "Capacity for peak load: every container sets CPU and memory requests and limits.", "resource", resources_limited),
    Policy("replicated-workloads-have-pdb", "L3-CNS1-22", "8.1.2.1 e)",
    "Availability through redundancy: a replicated Deployment has a PodDisruptionBudget.", "stack", replicated_have_pdb),
    Policy("namespace-default-deny", "L3-ABS2-20", "8.1.3.2 a)",
    "Deny by default between zones: every namespace has a default-deny NetworkPolicy for ingress and egress.",
    "stack", default_deny),
    Policy("extranet-services-not-exposed", "L3-ABS1-20", "8.1.3.1 a)",
    "Boundary protection: no LoadBalancer/NodePort Service or externalIPs in extranet-only zones.", "stack",
    extranet_not_exposed),
    Policy("dr-backups-scheduled", "L3-CES9-21", "8.1.4.9 b)",
    "Off-site backup: on a replicating node every tenant namespace is covered by a backup Schedule.", "stack",
    dr_backups_scheduled),
)


def by_name(name: str) -> Policy:
    for p in POLICIES:
        if p.name == name:
            return p
    raise KeyError(f"no policy named {name!r}")


def evaluate(subjects: Iterable[Subject], policies: Iterable[Policy] = POLICIES) -> list[Violation]:
    """Every violation of every policy over one stack's resources."""
    subs = list(subjects)
    return [v for p in policies for v in p.evaluate(subs)]
