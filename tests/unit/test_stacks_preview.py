"""All stacks under the mock runtime (19 nodes and DR sites, plus the industry clouds the lab lists):
placement per hosting level, counts, schema, policies.

Why: this is the offline verification the stacks rely on (`egovops stacks preview`). The preview
runs once per module (the lab inventory: same province as anhui, lab addressing) and the tests
check it against the catalogue — provincial-only services only on the provincial stack, P+C
services on the provincial node and every city, standbys only where the catalogue says.
"""

from __future__ import annotations

from collections import Counter

import pytest

from egovops.stacks import preview as pv

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def report(lab_province) -> pv.PreviewReport:
    return pv.preview(lab_province, jobs=1)


def deployments(rep: pv.StackReport) -> dict[str, str]:
    """namespace -> role label of each Deployment of a stack."""
    return {r.props["metadata"]["namespace"]: r.props["metadata"]["labels"]["egov.ah/role"]
            for r in rep.objects if r.props["kind"] == "Deployment"}


def test_all_stacks_pass_offline(report, lab_province):
    clouds = [c.slug for c in lab_province.managed_industry()]
    assert [s.stack for s in report.stacks] == [n.slug for n in lab_province.nodes] + clouds
    assert len(report.stacks) == 19 + len(clouds)
    assert [s.stack for s in report.stacks if s.kind == "industry"] == clouds
    for s in report.stacks:
        assert s.error is None, s.error
        assert s.schema_problems == [], [str(p) for p in s.schema_problems]
        assert s.violations == [], [v.as_dict() for v in s.violations]
    assert report.lint == []
    assert report.ok


def test_services_placed_by_hosting_level(report, lab_province):
    by_stack = {s.stack: deployments(s) for s in report.stacks}
    cities = [n.slug for n in lab_province.cities]
    for svc in lab_province.services:
        on = {stack for stack, deps in by_stack.items() if deps.get(svc.slug) == "active"}
        if svc.hosting == "P":
            assert on == {"province"}, svc.slug
        elif svc.hosting == "P+C":
            assert on == {"province", *cities}, svc.slug
        else:
            assert on == set(cities), svc.slug
        standby = {stack for stack, deps in by_stack.items() if deps.get(svc.slug) == "standby"}
        assert standby == set(svc.standby), svc.slug


def test_counts_match_the_catalogue(report, lab_province):
    placements = sum(len(s.nodes) + len(s.standby) for s in lab_province.services)
    kinds = Counter()
    for s in report.stacks:
        kinds.update(s.counts())
    assert kinds["Deployment"] == kinds["Service"] == kinds["egovops:platform:PlatformService"] == placements
    assert kinds["egovops:cloud:CloudNode"] == kinds["egovops:storage:ObjectStore"] == 19
    # an industry cloud's stack: its IndustryCloud component with one tenant namespace (no service placed)
    clouds = len(lab_province.managed_industry())
    assert kinds["egovops:industry:IndustryCloud"] == clouds
    # one namespace per placed service plus the monitoring namespace per node, and each cloud's tenant
    assert kinds["Namespace"] == placements + 19 + clouds
    # one Velero schedule per directed replication (cooperation pairs count twice)
    directed = sum(2 if r.kind == "cooperation" else 1 for r in lab_province.replications)
    assert kinds["Schedule"] == directed


def test_every_object_was_validated(report):
    """Built-in kinds against the Kubernetes schema, the custom resources against subset schemas."""
    for s in report.stacks:
        assert s.unchecked == []
        assert {u.split("/")[0] for u in s.subset_checked} <= {"ServiceMonitor", "PrometheusRule", "Schedule"}
    assert sum(len(s.subset_checked) for s in report.stacks) > 0


def test_report_json_shape(report):
    d = report.as_dict(detail=True)
    assert "offline" in d["note"] and d["kubernetes_version"]
    first = d["stacks"][0]
    assert first["resources"] == len(first["resource_list"]) > 0
    assert {"type", "name", "parent"} <= set(first["resource_list"][0])


def test_readme_names_every_json_key(report):
    """The README's Stacks section names every key of `stacks preview --json` (docs match the code)."""
    from egovops.stacks import REPO_ROOT

    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Stacks (Pulumi)"):]
    keys: set[str] = set()

    def walk(v, counts=False):
        if isinstance(v, dict):
            for k, x in v.items():
                if not counts:
                    keys.add(k)
                walk(x, counts=(k == "counts"))
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(report.as_dict(detail=True))
    missing = sorted(k for k in keys if f"`{k}`" not in section)
    assert not missing, f"README Stacks section does not name: {missing}"
