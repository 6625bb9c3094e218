"""comply on the shared testlab: reports agree with each other and with the exit code, and each
node's node_exporter serves its own egov_compliance_control_status after --push-metrics.

Read-only towards the hosts apart from the metrics textfile; works on hardened or fresh hosts alike.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytestmark = pytest.mark.lab

REPO = Path(__file__).resolve().parents[2]
HOSTS = ["hefei", "chuzhou"]


def test_reports_exit_code_and_node_exporter_metrics(testlab, tmp_path):
    p, state = testlab
    r = subprocess.run([sys.executable, "-m", "egovops.cli.main", "comply", "--inventory", str(p.source),
                        "--limit", ",".join(HOSTS), "--json", "--out", str(tmp_path), "--push-metrics",
                        "--waivers", str(REPO / "egovops/compliance/waivers/lab.yaml")],
                       capture_output=True, text=True, cwd=REPO, timeout=600)
    assert r.returncode in (0, 1), r.stderr[-2000:]
    d = json.loads(r.stdout)
    rows = d["results"]
    assert {x["node"] for x in rows} == set(HOSTS)
    assert r.returncode == (1 if any(x["status"] in ("fail", "error") for x in rows) else 0)
    assert all(x["evidence"] for x in rows)
    # JUnit agrees with JSON
    root = ET.parse(tmp_path / "compliance-junit.xml").getroot()
    assert sum(int(s.get("failures")) for s in root) == d["summary"]["counts"]["fail"]
    assert sum(int(s.get("errors")) for s in root) == d["summary"]["counts"]["error"]
    # HTML is valid and self-contained
    html5lib = pytest.importorskip("html5lib")
    html = (tmp_path / "compliance.html").read_text()
    html5lib.HTMLParser(strict=True).parse(html)
    assert "http://" not in html and "https://" not in html
    # every node's own node_exporter serves its compliance state, equal to the scan
    value = {"pass": 1, "fail": 0, "error": -1, "waived": 2}
    for node in HOSTS:
        addr = str(p.node(node).management.ipv4.ip)
        text = urllib.request.urlopen(f"http://{addr}:9100/metrics", timeout=10).read().decode()
        got = {m[0]: float(m[1]) for m in re.findall(
            r'egov_compliance_control_status\{control="([^"]+)",family="[^"]+",node="' + node + r'"\} (\S+)', text)}
        want = {x["control"]: value[x["status"]] for x in rows if x["node"] == node}
        assert got == want, node
        assert re.search(r'egov_compliance_score\{node="' + node + r'"\} ', text)
