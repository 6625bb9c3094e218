"""Grafana dashboards (monitors/dashboards/*.json) and the metric names dashboards and rules use.

Why: a dashboard panel or an alert over a metric nobody exports is silently empty — the worst kind
of monitoring failure, since it looks like "all fine". Every query must parse (promtool, with the
dashboard variables filled in) and name only metrics the estate exports: the contract's egovops
metrics (monitors/README.md), the recording rules of monitors/rules/, and the standard exporters'
real names (node_exporter 1.5, blackbox_exporter 0.23, frr_exporter 1.1.4 — checked in their
sources). LAB may add a lab test that scrapes the running hierarchy once.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((REPO / "monitors" / "dashboards").glob("*.json"))
RULE_FILES = sorted((REPO / "monitors" / "rules").glob("*.rules.yml"))
CONTRACT = REPO / "monitors" / "README.md"

# The standard exporters' metric names the estate uses (from their sources, not guessed):
STANDARD = {
    # Prometheus itself
    "up", "ALERTS", "ALERTS_FOR_STATE", "scrape_duration_seconds", "scrape_samples_scraped",
    # blackbox_exporter (prober/icmp.go, prober/http.go, prober/tls.go)
    "probe_success", "probe_duration_seconds", "probe_icmp_duration_seconds", "probe_icmp_reply_hop_limit",
    "probe_ip_protocol", "probe_dns_lookup_time_seconds", "probe_http_status_code", "probe_http_duration_seconds",
    "probe_ssl_earliest_cert_expiry", "probe_tls_version_info",
    # frr_exporter 1.1.4 (collector/collector.go, ospf.go, bgp.go, bfd.go)
    "frr_collector_up", "frr_scrape_duration_seconds",
    "frr_ospf_neighbors", "frr_ospf_neighbor_adjacencies",
    "frr_bgp_peer_state", "frr_bgp_peer_uptime_seconds", "frr_bgp_peers_count_total",
    "frr_bgp_peer_prefixes_received_count_total", "frr_bgp_peer_prefixes_advertised_count_total",
    "frr_bgp_peer_message_received_total", "frr_bgp_peer_message_sent_total",
    "frr_bfd_peer_state", "frr_bfd_peer_uptime", "frr_bfd_peer_count",
    # postgres_exporter 0.11.1 (Debian 12: pg_up; builtin pg_stat_replication query, column pg_wal_lsn_diff)
    "pg_up", "pg_stat_replication_pg_wal_lsn_diff",
    # node_exporter 1.5
    "node_filesystem_avail_bytes", "node_filesystem_size_bytes", "node_filesystem_readonly",
    "node_memory_MemAvailable_bytes", "node_memory_MemTotal_bytes", "node_cpu_seconds_total",
    "node_load1", "node_load5", "node_load15", "node_boot_time_seconds", "node_textfile_scrape_error",
}
KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left",
            "group_right", "inf", "nan", "Inf", "NaN"}


def recording_rules() -> set[str]:
    out = set()
    for f in RULE_FILES:
        for g in yaml.safe_load(f.read_text(encoding="utf-8"))["groups"]:
            out |= {r["record"] for r in g["rules"] if "record" in r}
    return out


def contract_metrics() -> set[str]:
    """egov_* names in monitors/README.md (the metrics table is the agreement with LAB and DR)."""
    return set(re.findall(r"`(egov_[a-z0-9_]+)`", CONTRACT.read_text(encoding="utf-8")))


def allowed() -> set[str]:
    return STANDARD | recording_rules() | contract_metrics()


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (functions, keywords, labels and strings removed)."""
    s = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    s = re.sub(r"\{[^}]*\}", " ", s)
    s = re.sub(r"\[[^\]]*\]", " ", s)
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)
    toks = re.findall(r"(?<![\w:.$])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(?!\s*\()", s)
    return {t for t in toks if t not in KEYWORDS}


def fill_variables(expr: str) -> str:
    """Grafana variables -> values PromQL accepts (every variable here is a regex matcher value)."""
    expr = re.sub(r"\$__(rate_)?interval", "5m", expr)
    return re.sub(r"\$\{?\w+\}?", ".*", expr)


def queries(dash: dict) -> list[tuple[str, str]]:
    out = []
    for p in dash.get("panels", []):
        for t in p.get("targets", []):
            out.append((p.get("title", ""), t["expr"]))
        for sub in p.get("panels", []):  # collapsed rows
            out += [(sub.get("title", ""), t["expr"]) for t in sub.get("targets", [])]
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") == "query":
            q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
            m = re.fullmatch(r"label_values\((.*),\s*\w+\)", q)
            if m:
                out.append((f"variable {v['name']}", m.group(1)))
    return out


def test_metric_name_parser():
    assert metric_names('min by (city) (city:probe_success:min{family="ipv4", city=~"$city"})') == {"city:probe_success:min"}
    assert metric_names('egov_a / on (tier) group_left () egov_b') == {"egov_a", "egov_b"}
    assert metric_names('1 - avg_over_time(probe_success{job=~"a|b"}[5m]) > 0.05 and changes(x[5m]) >= 4') == {"probe_success", "x"}
    assert metric_names('label_replace(up == 0, "city", "$1", "noc", "(.+)")') == {"up"}
    assert metric_names('time() - node_boot_time_seconds offset 5m') == {"node_boot_time_seconds"}


def test_there_are_the_four_dashboards():
    assert {p.stem for p in DASHBOARDS} == {"province-overview", "extranet-detail", "compliance", "dr"}


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_dashboard_loads_and_is_complete(path):
    dash = json.loads(path.read_text(encoding="utf-8"))
    assert dash["uid"].startswith("egov-") and dash["title"]
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids)), f"{path.name}: panel ids repeat"
    graphs = [p for p in dash["panels"] if p["type"] != "row"]
    assert graphs and all(p.get("targets") for p in graphs), f"{path.name}: a panel without a query"
    for p in graphs:
        assert p["datasource"]["uid"] == "${datasource}", f"{path.name}: {p['title']}: fixed data source"
        g = p["gridPos"]
        assert 0 <= g["x"] and g["x"] + g["w"] <= 24, f"{path.name}: {p['title']} outside the grid"


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_every_query_uses_metrics_the_estate_exports(path):
    ok = allowed()
    for title, expr in queries(json.loads(path.read_text(encoding="utf-8"))):
        names = metric_names(expr)
        assert names, f"{path.name}: {title}: no metric in {expr!r}"
        unknown = names - ok
        assert not unknown, f"{path.name}: {title}: {sorted(unknown)} not exported by the estate"


def test_every_metric_the_rules_use_is_exported():
    ok = allowed()
    for f in RULE_FILES:
        for g in yaml.safe_load(f.read_text(encoding="utf-8"))["groups"]:
            for r in g["rules"]:
                unknown = metric_names(r["expr"]) - ok
                assert not unknown, f"{f.name}: {r.get('alert') or r.get('record')}: {sorted(unknown)} not exported"


def test_an_unknown_metric_is_caught():
    assert metric_names('sum(egov_made_up_total{city="x"})') - allowed() == {"egov_made_up_total"}


def test_every_query_parses(tmp_path):
    """promtool parses each query (variables filled in) as a recording rule expression."""
    promtool = shutil.which("promtool")
    assert promtool, "promtool missing (Debian `prometheus`, scripts/apt-packages.txt)"
    rules, where = [], {}
    for path in DASHBOARDS:
        for i, (title, expr) in enumerate(queries(json.loads(path.read_text(encoding="utf-8")))):
            record = f"dashboard:{path.stem.replace('-', '_')}:q{i}"
            where[record] = f"{path.name}: {title}"
            rules.append({"record": record, "expr": fill_variables(expr)})
    f = tmp_path / "dashboards.rules.yml"
    f.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}), encoding="utf-8")
    r = subprocess.run([promtool, "check", "rules", str(f)], capture_output=True, text=True, timeout=60)
    bad = [where[m] for m in re.findall(r'"(dashboard:[a-z_]+:q\d+)"', r.stdout + r.stderr)]
    assert r.returncode == 0, f"{bad}: {r.stdout}{r.stderr}"
