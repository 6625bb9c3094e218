"""Reports and metrics from a synthetic scan: HTML (strict parse, self-contained), JSON, JUnit, Prometheus."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

from egovops.compliance import report
from egovops.compliance.catalogue import load
from egovops.compliance.results import Result, Scan
from egovops.exporters.compliance import exposition, write_textfile

pytestmark = pytest.mark.unit


def synthetic() -> Scan:
    cat = load()
    rows = []
    for node, city, zh in (("hefei", "hefei", "合肥"), ("chuzhou", "chuzhou", "滁州"), ("dr-remote", "", "异地灾备")):
        for i, c in enumerate(cat.controls):
            status = "pass"
            if node == "chuzhou" and i == 3:
                status = "fail"
            if node == "dr-remote" and i == 5:
                status = "error"
            r = Result(node, city, zh, c.id, c.family.slug, status, f"observed <value> & {i}", 0.01)
            if node == "hefei" and i == 7:
                r.status, r.observed_status = "waived", "fail"
                r.waiver = {"control": c.id, "hosts": ["hefei"], "reason": "测试豁免", "approver": "李四",
                            "expires": "2099-01-01", "expired": False}
            rows.append(r)
    return Scan("anhui-lab", "2026.11.1", "2026-11-23T10:00:00+00:00", 3.2, rows)


def test_html_is_valid_self_contained_and_has_what_auditors_need():
    html5lib = pytest.importorskip("html5lib")
    scan, cat = synthetic(), load()
    html = report.to_html(scan, cat)
    html5lib.HTMLParser(strict=True).parse(html)  # raises on any parse error
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "no network assets"
    assert "<script" not in html and "<link" not in html
    for c in cat.controls:
        assert c.title_zh in html and c.id in html
    assert "2026-11-23T10:00:00+00:00" in html and "2026.11.1" in html
    assert "observed &lt;value&gt; &amp; 3" in html  # evidence escaped, shown
    assert "测试豁免" in html and "李四" in html
    for city in ("hefei", "chuzhou", "(省级 provincial)"):
        assert city in html
    assert f"{scan.score() * 100:.1f}%" in html


def test_score_leaves_waived_out_and_failed_flag():
    s = synthetic()
    n = len(load().controls)
    assert s.counts("hefei") == {"pass": n - 1, "fail": 0, "waived": 1, "error": 0}
    assert s.score("hefei") == 1.0
    assert s.score("chuzhou") == round((n - 1) / n, 4)
    assert s.failed


def test_json_and_junit():
    s, cat = synthetic(), load()
    d = json.loads(report.to_json(s))
    assert d["ok"] is False and d["summary"]["counts"]["fail"] == 1 and len(d["results"]) == 3 * len(cat.controls)
    root = ET.fromstring(report.to_junit(s, cat).split("\n", 1)[1])
    suites = {ts.get("name"): ts for ts in root}
    assert set(suites) == {"hefei", "chuzhou", "dr-remote"}
    assert suites["chuzhou"].get("failures") == "1" and suites["dr-remote"].get("errors") == "1"
    assert suites["hefei"].get("skipped") == "1"
    assert len(root.findall(".//failure")) == 1 and len(root.findall(".//error")) == 1


def test_write_all_formats(tmp_path):
    written = report.write(synthetic(), load(), tmp_path, report.FORMATS)
    assert {p.name for p in written.values()} == {"compliance.html", "compliance.json", "compliance-junit.xml"}
    with pytest.raises(ValueError, match="unknown report format"):
        report.write(synthetic(), load(), tmp_path, ["pdf"])


def test_prometheus_metrics(tmp_path):
    s = synthetic()
    text = exposition(s)
    c0 = load().controls[0]
    assert f'egov_compliance_control_status{{control="{c0.id}",family="{c0.family.slug}",node="hefei"}} 1.0' in text
    assert re.search(r'egov_compliance_control_status\{control="[^"]+",family="[^"]+",node="chuzhou"\} 0\.0', text)
    assert re.search(r'node="dr-remote"\} -1\.0', text) and re.search(r'node="hefei"\} 2\.0', text)
    assert 'egov_compliance_score{node="hefei"} 1.0' in text
    only = exposition(s, "hefei")
    assert 'node="chuzhou"' not in only
    p = write_textfile(s, tmp_path / "x" / "egov_compliance.prom")
    assert p.read_text() == text
