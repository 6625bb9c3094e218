"""Structural schemas for the custom resources the stacks create (not in kubernetes-validate).

Hand-written subsets of the CRDs' OpenAPI schemas — Prometheus Operator ``monitoring.coreos.com/v1``
(ServiceMonitor, PrometheusRule) and Velero ``velero.io/v1`` Schedule — covering the fields the stacks
set: required fields, types and closed objects where the CRD is closed. They catch typos and wrong
types; they do not replace the CRDs' own validation on a real cluster (the preview says "subset").
"""

from __future__ import annotations

from typing import Any

_STR_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
_META = {"type": "object", "required": ["name"], "properties": {
    "name": {"type": "string"}, "namespace": {"type": "string"}, "labels": _STR_MAP, "annotations": _STR_MAP}}
_SELECTOR = {"type": "object", "additionalProperties": False, "properties": {
    "matchLabels": _STR_MAP, "matchExpressions": {"type": "array", "items": {"type": "object"}}}}
_DURATION = {"type": "string", "pattern": r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"}


def _cr(api_version: str, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": ["apiVersion", "kind", "metadata", "spec"], "additionalProperties": False,
            "properties": {"apiVersion": {"const": api_version}, "kind": {"const": kind}, "metadata": _META,
                           "spec": spec}}


SCHEMAS: dict[tuple[str, str], dict[str, Any]] = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): _cr("monitoring.coreos.com/v1", "ServiceMonitor", {
        "type": "object", "required": ["selector", "endpoints"], "properties": {
            "selector": _SELECTOR,
            "namespaceSelector": {"type": "object"},
            "jobLabel": {"type": "string"},
            "endpoints": {"type": "array", "minItems": 1, "items": {"type": "object", "properties": {
                "port": {"type": "string"}, "targetPort": {"type": ["string", "integer"]}, "path": {"type": "string"},
                "scheme": {"enum": ["http", "https", "HTTP", "HTTPS"]}, "interval": _DURATION,
                "scrapeTimeout": _DURATION, "honorLabels": {"type": "boolean"}}}}}}),
    ("monitoring.coreos.com/v1", "PrometheusRule"): _cr("monitoring.coreos.com/v1", "PrometheusRule", {
        "type": "object", "required": ["groups"], "properties": {"groups": {"type": "array", "items": {
            "type": "object", "required": ["name", "rules"], "properties": {
                "name": {"type": "string", "minLength": 1}, "interval": _DURATION,
                "rules": {"type": "array", "items": {
                    "type": "object", "required": ["expr"], "additionalProperties": False,
                    "oneOf": [{"required": ["alert"]}, {"required": ["record"]}],
                    "properties": {"alert": {"type": "string"}, "record": {"type": "string"},
                                   "expr": {"type": ["string", "integer"]}, "for": _DURATION,
                                   "keep_firing_for": _DURATION, "labels": _STR_MAP, "annotations": _STR_MAP}}}}}}}}),
    ("velero.io/v1", "Schedule"): _cr("velero.io/v1", "Schedule", {
        "type": "object", "required": ["schedule", "template"], "additionalProperties": False, "properties": {
            "schedule": {"type": "string", "minLength": 9},
            "useOwnerReferencesInBackup": {"type": "boolean"},
            "paused": {"type": "boolean"},
            "template": {"type": "object", "properties": {
                "includedNamespaces": {"type": "array", "items": {"type": "string"}},
                "excludedNamespaces": {"type": "array", "items": {"type": "string"}},
                "storageLocation": {"type": "string"},
                "volumeSnapshotLocations": {"type": "array", "items": {"type": "string"}},
                "snapshotVolumes": {"type": "boolean"},
                "ttl": {"type": "string", "pattern": r"^([0-9]+(\.[0-9]+)?(h|m|s))+$"}}}}}),
}
