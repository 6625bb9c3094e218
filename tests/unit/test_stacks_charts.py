"""The service chart renders, lints and passes the Kubernetes schema for every catalogue service.

Why: charts are rendered offline by the Helm library (no helm binary here) and every object is
validated against the pinned Kubernetes version's OpenAPI schema. If a chart change breaks the
schema (a wrong field type, an unknown field) these tests fail and name the object and field.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from egovops.render.pulumi_config import stack_config
from egovops.stacks import KUBERNETES_VERSION, SERVICE_CHART, helm, schema
from egovops.stacks import config as sc
from egovops.stacks.values import service_values, split_image

pytestmark = pytest.mark.unit

REQUIRED_LABELS = {"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version",
                   "app.kubernetes.io/managed-by", "app.kubernetes.io/part-of", "helm.sh/chart"}


def catalogue_values(province) -> dict[str, tuple[dict, str]]:
    """Values of every service as deployed on the first node that runs it (active)."""
    out: dict[str, tuple[dict, str]] = {}
    for node in province.nodes:
        cfg = sc.parse(stack_config(province, node)["config"])
        for s in cfg.services:
            out.setdefault(s.slug, (service_values(s, cfg), s.namespace))
    return out


def render_objects(chart: Path, values: dict, ns: str, release: str) -> list[dict]:
    return helm.objects(helm.render(chart, values, release=release, namespace=ns))


def test_chart_lints_clean_with_defaults_and_every_service(lab_province):
    findings = helm.lint(SERVICE_CHART, {}, kube_version=KUBERNETES_VERSION)
    assert [m for m in findings if m["severity"] >= 2] == []
    for slug, (values, _) in catalogue_values(lab_province).items():
        bad = [m for m in helm.lint(SERVICE_CHART, values, kube_version=KUBERNETES_VERSION) if m["severity"] >= 2]
        assert bad == [], f"{slug}: {bad}"


def test_every_service_renders_schema_valid_objects(lab_province):
    services = catalogue_values(lab_province)
    assert set(services) == {s.slug for s in lab_province.services}
    for slug, (values, ns) in services.items():
        objs = render_objects(SERVICE_CHART, values, ns, slug)
        kinds = {o["kind"] for o in objs}
        assert {"Deployment", "Service", "NetworkPolicy", "ServiceAccount", "ServiceMonitor", "PrometheusRule"} <= kinds
        for o in objs:
            problems = schema.validate(o)
            assert problems == [], "\n".join(map(str, problems or [])) or f"{schema.object_id(o)}: no schema"
            assert REQUIRED_LABELS <= set(o["metadata"]["labels"]), f"{schema.object_id(o)} lacks standard labels"
            assert o["metadata"]["namespace"] == ns


def test_notes_and_documented_values():
    rendered = helm.render(SERVICE_CHART, {}, release="example", namespace="example")
    notes = next(v for k, v in rendered.items() if k.endswith("NOTES.txt"))
    assert "kubectl -n example get" in notes
    # every value that is set on one line (a leaf) at the top level is documented by the comment above it
    lines = (SERVICE_CHART / "values.yaml").read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if line and not line.startswith((" ", "#")) and line.split(":", 1)[1].strip():
            assert lines[i - 1].lstrip().startswith("#"), f"values.yaml: {line!r} has no comment"


def test_schema_break_in_a_chart_fails_naming_the_object(tmp_path):
    """A wrong field type introduced in a template is caught with Kind/namespace/name and the path."""
    broken = tmp_path / "egov-service"
    shutil.copytree(SERVICE_CHART, broken)
    dep = broken / "templates" / "deployment.yaml"
    dep.write_text(dep.read_text(encoding="utf-8").replace("revisionHistoryLimit: 5", 'revisionHistoryLimit: "five"'),
                   encoding="utf-8")
    svc = broken / "templates" / "service.yaml"
    svc.write_text(svc.read_text(encoding="utf-8").replace("ipFamilyPolicy: RequireDualStack",
                                                            "ipFamilyPolicy: RequireDualStack\n  clusterIPz: None"),
                   encoding="utf-8")
    objs = render_objects(broken, {"fullnameOverride": "portal"}, "portal", "portal")
    problems = [p for o in objs for p in (schema.validate(o) or [])]
    by_object = {p.object: p for p in problems}
    assert "Deployment/portal/portal" in by_object
    assert by_object["Deployment/portal/portal"].path == "spec.revisionHistoryLimit"
    assert "Service/portal/portal" in by_object  # unknown field (strict schema)
    # the untouched chart has none
    assert not [p for o in render_objects(SERVICE_CHART, {"fullnameOverride": "portal"}, "portal", "portal")
                for p in (schema.validate(o) or [])]


def test_render_error_names_the_chart(tmp_path):
    broken = tmp_path / "egov-service"
    shutil.copytree(SERVICE_CHART, broken)
    (broken / "templates" / "pdb.yaml").write_text("{{ .Values.nope.deeper }}\n", encoding="utf-8")
    with pytest.raises(helm.ChartError, match="egov-service"):
        helm.render(broken, {}, release="x", namespace="x")


@pytest.mark.parametrize("image,expected", [
    ("registry.egov.ah/platform/identity:3.4.2", {"repository": "registry.egov.ah/platform/identity", "tag": "3.4.2", "digest": ""}),
    ("registry.egov.ah:5000/p/x", {"repository": "registry.egov.ah:5000/p/x", "tag": "", "digest": ""}),
    ("r.egov.ah/p/x@sha256:abc", {"repository": "r.egov.ah/p/x", "tag": "", "digest": "sha256:abc"}),
    ("r.egov.ah/p/x:1.2@sha256:abc", {"repository": "r.egov.ah/p/x", "tag": "1.2", "digest": "sha256:abc"}),
])
def test_split_image(image, expected):
    assert split_image(image) == expected


def test_every_platform_alert_has_a_runbook():
    """On-call gets a runbook for each alert the stacks install (node rules and the chart's)."""
    import yaml

    from egovops.stacks import MONITORS_DIR, REPO_ROOT

    rules = []
    for f in sorted(MONITORS_DIR.glob("*.rules.yml")):
        rules += [r for g in yaml.safe_load(f.read_text(encoding="utf-8"))["groups"] for r in g["rules"]]
    objs = render_objects(SERVICE_CHART, {}, "example", "example")
    (prom,) = [o for o in objs if o["kind"] == "PrometheusRule"]
    rules += [r for g in prom["spec"]["groups"] for r in g["rules"]]
    assert len(rules) >= 6
    for r in rules:
        book = r["annotations"]["runbook"]
        assert (REPO_ROOT / book).is_file(), f"alert {r['alert']}: runbook {book} missing"
        assert r["alert"] in (REPO_ROOT / book).read_text(encoding="utf-8")


@pytest.mark.parametrize("bad,where", [
    ({"replicaCount": "3"}, "/replicaCount"),
    ({"image": {"repository": "registry.egov.ah/p/x", "tag": "latest"}}, "/image/tag"),
    ({"image": {"repository": "registry.egov.ah/p/x", "tag": "1.0", "digest": ""}}, "/image/digest"),
    ({"image": {"repository": "registry.egov.ah/p/x", "tag": "1.0", "digest": "sha256:abc"}}, "/image/digest"),
    ({"service": {"slug": "x", "zone": "dmz", "port": 8443, "type": "ClusterIP"}}, "/service/zone"),
])
def test_values_schema_rejects_bad_values(bad, where):
    """values.schema.json: Helm refuses wrong value types before any template renders."""
    with pytest.raises(helm.ChartError, match=where):
        helm.render(SERVICE_CHART, bad, release="x", namespace="x")


def test_custom_resource_typo_fails_naming_the_object():
    """A mistyped PrometheusRule field (subset schema) is caught with the object and path."""
    objs = render_objects(SERVICE_CHART, {}, "example", "example")
    (prom,) = [o for o in objs if o["kind"] == "PrometheusRule"]
    rule = prom["spec"]["groups"][0]["rules"][0]
    rule["exprr"] = rule.pop("expr")
    problems = schema.validate(prom)
    assert problems and problems[0].object == "PrometheusRule/example/example"
    assert "spec.groups.0.rules.0" in problems[0].path


def test_every_inventory_image_is_pinned_by_a_well_formed_digest():
    """Supply chain (issue 11): each catalogue image resolves to repository:version@sha256:<64 hex>, and a
    reference missing from the image lock stays without digest (which the schema and policy refuse)."""
    import re

    from egovops.model import load_inventory
    from egovops.stacks import REPO_ROOT
    from egovops.stacks.values import pinned_image

    for inv in ("anhui", "lab"):
        for s in load_inventory(REPO_ROOT / "inventories" / inv).services:
            v = pinned_image(s.image)
            assert re.fullmatch(r"sha256:[0-9a-f]{64}", v["digest"]), (inv, s.slug, v)
    assert pinned_image("registry.egov.ah/platform/unknown:9.9")["digest"] == ""
    with pytest.raises(helm.ChartError, match="/image/digest"):
        helm.render(SERVICE_CHART, {"image": pinned_image("registry.egov.ah/platform/unknown:9.9")},
                    release="x", namespace="x")
