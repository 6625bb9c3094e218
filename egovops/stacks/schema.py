"""Kubernetes objects validated against a pinned Kubernetes version's OpenAPI schema, offline.

The schemas are those shipped by ``kubernetes-validate`` (strict variants: unknown fields are
errors). Its own ``validate()`` re-reads the 1.4 MB definitions file for every object; this module
loads the definitions once and caches one validator per kind, which keeps the preview of all
stacks fast. Custom resources (ServiceMonitor, PrometheusRule, Velero Schedule) have no schema in
that set: they are reported as such, not claimed valid.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Any

from egovops.stacks import KUBERNETES_VERSION


@dataclass(frozen=True)
class SchemaProblem:
    """One schema error: the object (``Kind/namespace/name``), the field path and the message."""

    object: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.object}: {self.path or '(root)'}: {self.message}"


def object_id(obj: dict[str, Any]) -> str:
    md = obj.get("metadata") or {}
    ns = f"{md['namespace']}/" if md.get("namespace") else ""
    return f"{obj.get('kind', '?')}/{ns}{md.get('name', '?')}"


def _schema_dir(version: str) -> Any:
    import importlib_resources
    from kubernetes_validate import utils

    mm = utils.major_minor(version)
    candidates = [v for v in utils.all_versions() if utils.major_minor(v) <= mm]
    if not candidates:
        raise ValueError(f"kubernetes-validate has no schema for Kubernetes {version}")
    return importlib_resources.files("kubernetes_validate").joinpath(
        "kubernetes-json-schema", f"v{candidates[-1]}-local-strict")


@functools.lru_cache(maxsize=4)
def _registry(version: str):
    from referencing import Registry, Resource

    defs = json.loads(_schema_dir(version).joinpath("_definitions.json").read_text())
    return Resource.from_contents(defs) @ Registry(), defs


@functools.lru_cache(maxsize=256)
def _validator(version: str, kind: str, api_version: str):
    import jsonschema
    from referencing import Resource

    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    f = _schema_dir(version).joinpath(f"{kind.lower()}-{group}.json")
    try:
        schema = json.loads(f.read_text())
    except FileNotFoundError:
        return None
    registry, _ = _registry(version)
    registry = Resource.from_contents(schema) @ registry
    return jsonschema.Draft202012Validator(schema, registry=registry)


@functools.lru_cache(maxsize=16)
def _cr_validator(kind: str, api_version: str):
    import jsonschema

    from egovops.stacks.crd_schemas import SCHEMAS

    schema = SCHEMAS.get((api_version, kind))
    return None if schema is None else jsonschema.Draft202012Validator(schema)


def is_subset_schema(obj: dict[str, Any]) -> bool:
    """True for custom resources checked against egovops' subset schema (not the full CRD)."""
    return _cr_validator(obj.get("kind", ""), obj.get("apiVersion", "")) is not None


def has_schema(obj: dict[str, Any], version: str = KUBERNETES_VERSION) -> bool:
    return _validator(version, obj.get("kind", ""), obj.get("apiVersion", "")) is not None or is_subset_schema(obj)


def validate(obj: dict[str, Any], version: str = KUBERNETES_VERSION) -> list[SchemaProblem] | None:
    """Schema problems of one object ([] when valid); None when no schema exists for its kind.

    Built-in kinds use the Kubernetes OpenAPI schema; the custom resources the stacks create use
    the subset schemas of :mod:`egovops.stacks.crd_schemas`.
    """
    kind, api = obj.get("kind", ""), obj.get("apiVersion", "")
    v = _validator(version, kind, api) or _cr_validator(kind, api)
    if v is None:
        return None
    oid = object_id(obj)
    return [SchemaProblem(oid, ".".join(str(p) for p in e.absolute_path), e.message)
            for e in sorted(v.iter_errors(obj), key=lambda e: list(map(str, e.absolute_path)))]
