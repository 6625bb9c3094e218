"""The offline preview: every stack program under Pulumi's mock runtime, every object checked.

For each stack (one per node): run the program under mocks (charts rendered by the Helm library),
list the resources, validate every Kubernetes object against the pinned Kubernetes version's
OpenAPI schema (plus the API server's name rules), and evaluate the 等保 policies. Charts are also
linted (``helm lint --strict``). Nothing is deployed: this is not ``pulumi preview`` (no engine,
no state, no cluster) and the report says so.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from egovops.model.province import Province
from egovops.render.pulumi_config import stack_configs
from egovops.stacks import KUBERNETES_VERSION, SERVICE_CHART, helm, mockrun, policies, schema
from egovops.stacks.config import parse

OFFLINE_NOTE = ("offline preview by the Pulumi mock runtime (pulumi.runtime.set_mocks): nothing was deployed; "
                f"objects validated against the Kubernetes {KUBERNETES_VERSION} OpenAPI schema "
                "(custom resources against egovops' subset schemas)")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@dataclass
class StackReport:
    """What one stack would deploy and what is wrong with it."""

    stack: str
    kind: str
    seconds: float = 0.0
    resources: list[mockrun.Recorded] = field(default_factory=list)
    schema_problems: list[schema.SchemaProblem] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)       # objects with no schema at all
    subset_checked: list[str] = field(default_factory=list)  # custom resources checked by a subset schema
    violations: list[policies.Violation] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.schema_problems and not self.violations

    @property
    def objects(self) -> list[mockrun.Recorded]:
        return [r for r in self.resources if r.is_kubernetes]

    def counts(self) -> dict[str, int]:
        """Resources per kind (Kubernetes kind, else the Pulumi type)."""
        c = Counter(str(r.props.get("kind")) if r.is_kubernetes else r.type for r in self.resources)
        return dict(sorted(c.items()))

    def as_dict(self, detail: bool = True) -> dict[str, Any]:
        d: dict[str, Any] = {
            "stack": self.stack, "kind": self.kind, "ok": self.ok, "seconds": round(self.seconds, 3),
            "resources": len(self.resources), "kubernetes_objects": len(self.objects), "counts": self.counts(),
            "schema_problems": [str(p) for p in self.schema_problems],
            "unchecked_custom_resources": len(self.unchecked),
            "custom_resources_subset_schema": len(self.subset_checked),
            "violations": [v.as_dict() for v in self.violations], "error": self.error,
        }
        if detail:
            d["resource_list"] = [{"type": r.type, "name": r.name, "parent": r.parent.rsplit("::", 1)[-1],
                                   **key_properties(r)} for r in self.resources]
        return d


def key_properties(r: mockrun.Recorded) -> dict[str, Any]:
    """The few properties an engineer looks at first, per kind."""
    p = r.props
    spec = p.get("spec") or {}
    kind = p.get("kind") if r.is_kubernetes else None
    if kind == "Deployment":
        c = ((spec.get("template") or {}).get("spec") or {}).get("containers") or [{}]
        return {"replicas": spec.get("replicas", "hpa"), "image": c[0].get("image")}
    if kind == "Service":
        return {"type": spec.get("type", "ClusterIP"), "ipFamilyPolicy": spec.get("ipFamilyPolicy")}
    if kind == "Namespace":
        labels = (p.get("metadata") or {}).get("labels") or {}
        return {"zone": labels.get("egov.ah/zone"), "psa": labels.get("pod-security.kubernetes.io/enforce")}
    if kind == "Schedule":
        return {"schedule": spec.get("schedule"), "to": (spec.get("template") or {}).get("storageLocation")}
    if r.type == "pulumi-python:dynamic:Resource":
        return {"bucket": p.get("bucket"), "replicates_to": [x["destination"] for x in p.get("replication") or []]}
    return {}


def name_problems(obj: dict[str, Any]) -> list[schema.SchemaProblem]:
    """Name rules the API server enforces beyond the OpenAPI schema (DNS-1123)."""
    md = obj.get("metadata") or {}
    oid = schema.object_id(obj)
    out = []
    name = str(md.get("name", ""))
    rule = DNS_LABEL if obj.get("kind") in ("Namespace", "Service") else DNS_SUBDOMAIN
    if not rule.match(name) or len(name) > (63 if rule is DNS_LABEL else 253):
        out.append(schema.SchemaProblem(oid, "metadata.name", f"{name!r} is not a valid DNS-1123 name"))
    ns = md.get("namespace")
    if ns is not None and (not DNS_LABEL.match(str(ns)) or len(str(ns)) > 63):
        out.append(schema.SchemaProblem(oid, "metadata.namespace", f"{ns!r} is not a valid DNS-1123 label"))
    return out


def check_objects(resources: list[mockrun.Recorded], version: str = KUBERNETES_VERSION
                  ) -> tuple[list[schema.SchemaProblem], list[str], list[str]]:
    """Schema problems of every Kubernetes object, the objects no schema covers, and the custom
    resources checked only against egovops' subset schemas."""
    problems, unchecked, subset = [], [], []
    for r in resources:
        if not r.is_kubernetes:
            continue
        obj = r.manifest()
        found = schema.validate(obj, version)
        if found is None:
            unchecked.append(schema.object_id(obj))
        else:
            problems += found
            if schema.is_subset_schema(obj):
                subset.append(schema.object_id(obj))
        problems += name_problems(obj)
    return problems, unchecked, subset


def subjects(resources: list[mockrun.Recorded]) -> list[policies.Subject]:
    return [policies.Subject(r.type, r.name, r.urn, r.props) for r in resources if r.custom]


def preview_stack(stack: str, rendered: dict[str, Any]) -> StackReport:
    """Run one stack program under mocks and check everything it registers."""
    from egovops.stacks.program import program

    t0 = time.monotonic()
    cfg = parse(rendered)
    rep = StackReport(stack, cfg.kind)
    try:
        rep.resources = mockrun.run(stack, rendered, program, cfg)
    except Exception as exc:  # the program failed: report it with its cause, never as success
        rep.error = f"{type(exc).__name__}: {exc}"
    rep.schema_problems, rep.unchecked, rep.subset_checked = check_objects(rep.resources)
    rep.violations = policies.evaluate(subjects(rep.resources))
    rep.seconds = time.monotonic() - t0
    return rep


def rendered_configs(province: Province, only: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """The rendered ``config:`` mapping of each stack (node or managed industry cloud slug), from the inventory."""
    return {slug: doc["config"] for slug, doc in stack_configs(province).items() if not only or slug in only}


def select_stacks(province: Province, limit: str | None) -> list[str]:
    """The stacks a ``--limit`` selects (a stack answers to its node's or industry cloud's tags)."""
    from egovops.model.province import matches

    return [slug for slug in stack_configs(province) if matches(province, slug, limit)]


def lint_chart(configs: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """``helm lint --strict`` of the service chart with its defaults and with each service's values
    (first node that runs it); findings of severity ≥ warning, each naming the service."""
    from egovops.stacks.values import service_values

    seen: dict[str, dict[str, Any]] = {"(defaults)": {}}
    for raw in configs.values():
        cfg = parse(raw)
        for s in cfg.services:
            seen.setdefault(s.slug, service_values(s, cfg))
    out = []
    for label, values in seen.items():
        for m in helm.lint(SERVICE_CHART, values, kube_version=KUBERNETES_VERSION):
            if m.get("severity", 0) >= 2:
                out.append({"values": label, **m})
    return out


@dataclass
class PreviewReport:
    stacks: list[StackReport]
    lint: list[dict[str, Any]]
    seconds: float

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.stacks) and not self.lint

    def as_dict(self, detail: bool = True) -> dict[str, Any]:
        return {"ok": self.ok, "note": OFFLINE_NOTE, "kubernetes_version": KUBERNETES_VERSION,
                "seconds": round(self.seconds, 2), "chart_lint": self.lint,
                "totals": {"stacks": len(self.stacks), "resources": sum(len(s.resources) for s in self.stacks),
                           "kubernetes_objects": sum(len(s.objects) for s in self.stacks),
                           "schema_problems": sum(len(s.schema_problems) for s in self.stacks),
                           "violations": sum(len(s.violations) for s in self.stacks),
                           "unchecked_custom_resources": sum(len(s.unchecked) for s in self.stacks),
                           "custom_resources_subset_schema": sum(len(s.subset_checked) for s in self.stacks)},
                "stacks": [s.as_dict(detail) for s in self.stacks]}


def _worker(args: tuple[str, dict[str, Any]]) -> StackReport:
    return preview_stack(*args)


def preview(province: Province, only: list[str] | None = None, jobs: int = 2,
            progress: Callable[[int, int, StackReport], None] = lambda i, n, r: None) -> PreviewReport:
    """Preview the stacks of ``province`` (all, or the ``only`` slugs); ``jobs`` worker processes.

    Workers are spawned, not forked: Pulumi's runtime keeps executor threads, and a forked copy of a
    process with threads can deadlock. Each worker runs whole stacks; results come back in order.
    """
    t0 = time.monotonic()
    configs = rendered_configs(province, only)
    items = list(configs.items())
    reports: list[StackReport] = []
    if jobs > 1 and len(items) > 1:
        import multiprocessing as mp

        with mp.get_context("spawn").Pool(min(jobs, len(items))) as pool:
            for i, rep in enumerate(pool.imap(_worker, items), start=1):
                reports.append(rep)
                progress(i, len(items), rep)
    else:
        for i, item in enumerate(items, start=1):
            rep = _worker(item)
            reports.append(rep)
            progress(i, len(items), rep)
    lint = lint_chart(configs)
    return PreviewReport(reports, lint, time.monotonic() - t0)
