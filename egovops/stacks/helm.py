"""Helm charts rendered and linted offline with the Helm library (PyPI ``helm-python-sdk``).

There is no ``helm`` binary on these machines; ``helm_python`` binds Helm 4's Go SDK through its C
ABI, so ``render`` is ``helm template`` and ``lint`` is ``helm lint``. The offline preview answers
pulumi-kubernetes' ``kubernetes:helm:template`` invoke with :func:`template` — the same job the
Kubernetes provider does with its embedded Helm in a real run.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import yaml


class ChartError(Exception):
    """A chart failed to load, render or lint; the message names the chart and the template."""


@functools.lru_cache(maxsize=32)
def _load(path: str, mtime: float):
    import helm_python as helm

    try:
        return helm.Chart.load(path)
    except helm.HelmError as exc:
        raise ChartError(f"chart {path}: {exc}") from None


def _chart(path: str | os.PathLike):
    p = Path(path)
    stamp = max((f.stat().st_mtime for f in p.rglob("*") if f.is_file()), default=0.0)
    return _load(str(p), stamp)


def render(path: str | os.PathLike, values: dict[str, Any] | None = None, *, release: str,
           namespace: str) -> dict[str, str]:
    """``helm template``: template path -> rendered text (NOTES.txt included)."""
    import helm_python as helm

    try:
        return _chart(path).render(values or {}, name=release, namespace=namespace, is_install=True)
    except helm.HelmError as exc:
        raise ChartError(f"chart {path} (release {release}): {exc}") from None


def objects(rendered: dict[str, str]) -> list[dict[str, Any]]:
    """The Kubernetes objects of a render, in template order (NOTES and empty documents skipped)."""
    out: list[dict[str, Any]] = []
    for tpl, text in sorted(rendered.items()):
        if tpl.endswith("NOTES.txt"):
            continue
        try:
            docs = list(yaml.safe_load_all(text))
        except yaml.YAMLError as exc:
            raise ChartError(f"{tpl} renders invalid YAML: {exc}") from None
        out.extend(d for d in docs if d)
    return out


def template(opts: dict[str, Any]) -> list[dict[str, Any]]:
    """Answer pulumi-kubernetes' ``kubernetes:helm:template`` invoke (local charts only)."""
    path = opts.get("path")
    if not path:
        raise ChartError(f"offline rendering supports local charts only (got chart {opts.get('chart')!r})")
    return objects(render(path, opts.get("values") or {}, release=opts.get("release_name") or Path(path).name,
                          namespace=opts.get("namespace") or "default"))


def lint(path: str | os.PathLike, values: dict[str, Any] | None = None, *, kube_version: str) -> list[dict[str, Any]]:
    """``helm lint --strict``: findings as ``{"severity", "path", "error"}`` (severity 3 = error)."""
    import helm_python as helm

    report = helm.lint(str(path), values, strict=True, kube_version=f"v{kube_version}")
    msgs = list(report.get("messages") or [])
    msgs += [{"severity": 3, "path": str(path), "error": e} for e in report.get("errors") or []]
    return msgs
