#!/usr/bin/env python3
"""`helm lint --strict` and the values' JSON-schema check for every chart under charts/ (make lint).

Why a script: there is no helm binary on these machines; the Helm 4 library (PyPI helm-python-sdk,
wrapped by egovops.stacks.helm) does the same lint offline. The values check is separate from
helm's own so a broken ``values.schema.json`` (not a valid JSON Schema) is named as such, and every
values file a chart ships (``values.yaml``, ``ci/*.yaml``) is validated against it.

Exit 0 clean, 1 with findings (each naming the chart file), 2 when there is no chart to lint.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import jsonschema
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from egovops.stacks import KUBERNETES_VERSION  # noqa: E402  (after the path set-up)
from egovops.stacks.helm import ChartError, lint  # noqa: E402

SEVERITY = {0: "unknown", 1: "info", 2: "warning", 3: "error"}
FAILING = 2  # helm lint --strict: warnings fail too


def values_problems(chart: Path) -> list[str]:
    schema_file = chart / "values.schema.json"
    if not schema_file.is_file():
        return [f"{schema_file.relative_to(REPO)}: missing (every chart declares its values' schema)"]
    try:
        schema: dict[str, Any] = json.loads(schema_file.read_text(encoding="utf-8"))
        cls = jsonschema.validators.validator_for(schema, default=None)
        if cls is None:  # an unknown $schema would silently fall back to another draft
            return [
                f"{schema_file.relative_to(REPO)}: $schema {schema.get('$schema')!r} is no JSON Schema draft "
                f"(e.g. http://json-schema.org/draft-07/schema#)"
            ]
        cls.check_schema(schema)
    except (ValueError, jsonschema.SchemaError) as exc:
        return [f"{schema_file.relative_to(REPO)}: not a valid JSON Schema: {str(exc).splitlines()[0]}"]
    out = []
    for vf in [chart / "values.yaml", *sorted((chart / "ci").glob("*.yaml"))]:
        if not vf.is_file():
            continue
        try:
            values = yaml.safe_load(vf.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            out.append(f"{vf.relative_to(REPO)}: not YAML: {exc}")
            continue
        for err in sorted(cls(schema).iter_errors(values), key=lambda e: list(e.absolute_path)):
            where = ".".join(str(p) for p in err.absolute_path) or "(top)"
            out.append(f"{vf.relative_to(REPO)}: {where}: {err.message}")
    return out


def helm_problems(chart: Path) -> list[str]:
    rel = chart.relative_to(REPO)
    try:
        msgs = lint(chart, None, kube_version=KUBERNETES_VERSION)
    except ChartError as exc:
        return [f"{rel}: {exc}"]
    out = []
    for m in msgs:
        sev = int(m.get("severity", 3))
        where = Path(str(m.get("path", "")))
        where = where.relative_to(REPO) if where.is_absolute() and where.is_relative_to(REPO) else rel / where
        line = f"{where}: [{SEVERITY.get(sev, sev)}] {m.get('error', '')}"
        if sev >= FAILING:
            out.append(line)
        else:
            print(f"  {line}")
    return out


def main() -> int:
    charts = sorted(p.parent for p in (REPO / "charts").glob("*/Chart.yaml"))
    if not charts:
        print("lint-charts: no chart under charts/", file=sys.stderr)
        return 2
    problems: list[str] = []
    for chart in charts:
        found = values_problems(chart) + helm_problems(chart)
        print(f"{chart.relative_to(REPO)}: {'ok' if not found else str(len(found)) + ' problem(s)'}")
        problems += found
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
