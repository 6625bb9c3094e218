"""Alert rules of the NOC hierarchy (monitors/rules/) and their promtool tests (monitors/tests/).

Why: on-call trusts an alert only if it fires when something is wrong and stays quiet when it is
not, reaches the right city (labels) and says what to do (runbook). promtool proves the first two
per scenario; this module makes sure every rule file is valid, every alert is covered by both
kinds of case, and every alert carries the labels and annotations the contract
(monitors/README.md) promises.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
RULES_DIR = REPO / "monitors" / "rules"
TESTS_DIR = REPO / "monitors" / "tests"
RUNBOOK_URL = "https://github.com/egovops/egovops/blob/main/runbooks/{}.md"
SEVERITIES = {"critical", "warning", "info"}

RULE_FILES = sorted(RULES_DIR.glob("*.rules.yml"))
TEST_FILES = sorted(TESTS_DIR.glob("*.test.yml"))


def promtool() -> str:
    exe = shutil.which("promtool")
    if exe is None:  # scripts/apt-packages.txt installs it (Debian `prometheus`); a missing tool is a failure
        pytest.fail("promtool not found: install the `prometheus` package (scripts/apt-packages.txt)")
    return exe


def check_rules(path: Path) -> tuple[bool, str]:
    """`promtool check rules` on one file: (ok, message naming the file)."""
    r = subprocess.run([promtool(), "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
    return r.returncode == 0, f"{path}: {r.stdout}{r.stderr}"


def run_rule_tests(path: Path) -> tuple[bool, str]:
    """`promtool test rules` on one test file, from its folder (rule_files are relative to it)."""
    r = subprocess.run([promtool(), "test", "rules", path.name], capture_output=True, text=True,
                       timeout=300, cwd=path.parent)
    return r.returncode == 0, f"{path}: {r.stdout}{r.stderr}"


def alert_rules(files=RULE_FILES) -> list[tuple[Path, dict]]:
    out = []
    for f in files:
        for g in yaml.safe_load(f.read_text(encoding="utf-8"))["groups"]:
            out += [(f, r) for r in g["rules"] if "alert" in r]
    return out


def alert_cases(files=TEST_FILES) -> list[tuple[Path, str, str, list]]:
    """(test file, test name, alertname, exp_alerts) for every alert_rule_test."""
    out = []
    for f in files:
        for t in yaml.safe_load(f.read_text(encoding="utf-8"))["tests"]:
            for a in t.get("alert_rule_test", []):
                out.append((f, t.get("name", ""), a["alertname"], a.get("exp_alerts") or []))
    return out


def test_there_are_rule_and_test_files():
    assert [f.name for f in RULE_FILES] == ["common.rules.yml", "province-noc.rules.yml"]
    assert TEST_FILES, "no promtool tests in monitors/tests/"


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.name)
def test_promtool_check_rules(path):
    ok, msg = check_rules(path)
    assert ok, msg


def test_a_syntax_error_fails_naming_the_file(tmp_path):
    """The check really fails, and says which file: a broken PromQL expression and broken YAML."""
    bad_expr = tmp_path / "broken-expr.rules.yml"
    bad_expr.write_text("groups:\n  - name: g\n    rules:\n      - alert: X\n        expr: up{job=\"node\" == 0\n")
    bad_yaml = tmp_path / "broken-yaml.rules.yml"
    bad_yaml.write_text("groups:\n  - name: g\n   rules: [\n")
    for bad in (bad_expr, bad_yaml):
        ok, msg = check_rules(bad)
        assert not ok
        assert bad.name in msg


@pytest.mark.parametrize("path", TEST_FILES, ids=lambda p: p.name)
def test_promtool_rule_tests_pass(path):
    ok, msg = run_rule_tests(path)
    assert ok, msg


def test_a_wrong_expectation_fails(tmp_path):
    """promtool test really compares: a copy of the province tests expecting CityCutOff for the
    wrong city must fail."""
    src = (TESTS_DIR / "province-noc.test.yml").read_text(encoding="utf-8")
    rules = tmp_path / "rules"
    rules.mkdir()
    for f in RULE_FILES:
        shutil.copy(f, rules / f.name)
    (tmp_path / "t").mkdir()
    broken = tmp_path / "t" / "wrong.test.yml"
    broken.write_text(src.replace("{severity: critical, noc: province, city: hefei}",
                                  "{severity: critical, noc: province, city: chuzhou}"), encoding="utf-8")
    ok, msg = run_rule_tests(broken)
    assert not ok and "CityCutOff" in msg


def test_every_test_file_loads_existing_rule_files_and_every_rule_file_is_tested():
    used = set()
    for f in TEST_FILES:
        for rf in yaml.safe_load(f.read_text(encoding="utf-8"))["rule_files"]:
            p = (f.parent / rf).resolve()
            assert p.is_file(), f"{f.name}: rule file {rf} does not exist"
            used.add(p)
    assert {p.resolve() for p in RULE_FILES} <= used, "a rule file has no promtool test"


@pytest.mark.parametrize("path,rule", alert_rules(), ids=lambda x: x["alert"] if isinstance(x, dict) else x.name)
def test_alert_has_labels_and_annotations(path, rule):
    name = rule["alert"]
    assert re.fullmatch(r"[A-Z][A-Za-z0-9]+", name), f"{path.name}: alert name {name!r} is not CamelCase"
    labels, ann = rule.get("labels") or {}, rule.get("annotations") or {}
    assert labels.get("severity") in SEVERITIES, f"{path.name}: {name}: severity {labels.get('severity')!r}"
    for key in ("summary", "description", "runbook_url"):
        assert str(ann.get(key, "")).strip(), f"{path.name}: {name}: annotation {key} missing"
    assert ann["runbook_url"] == RUNBOOK_URL.format(name), f"{path.name}: {name}: runbook_url {ann['runbook_url']}"
    # a lab alert must be deliverable within the lab's minute-scale acceptance, so `for` stays bounded
    assert "for" in rule, f"{path.name}: {name}: no `for:` (a single failed scrape would page)"


def test_every_alert_has_a_firing_and_a_quiet_case():
    names = {r["alert"] for _, r in alert_rules()}
    cases = alert_cases()
    fires = {a for _, _, a, exp in cases if exp}
    quiet = {a for _, _, a, exp in cases if not exp}
    assert not names - fires, f"alerts without a case where they fire: {sorted(names - fires)}"
    assert not names - quiet, f"alerts without a case where they must not fire: {sorted(names - quiet)}"
    unknown = {a for _, _, a, _ in cases} - names
    assert not unknown, f"test cases for alerts no rule defines: {sorted(unknown)}"


def test_case_parser_sees_a_missing_quiet_case(tmp_path):
    """The coverage check can fail: a test file with only a firing case for HostDown."""
    f = tmp_path / "only-fire.test.yml"
    f.write_text(yaml.safe_dump({"rule_files": [], "tests": [{"name": "x", "alert_rule_test": [
        {"eval_time": "1m", "alertname": "HostDown", "exp_alerts": [{"exp_labels": {"severity": "critical"}}]}]}]}))
    cases = alert_cases([f])
    assert {a for *_, a, exp in cases if exp} == {"HostDown"}
    assert not {a for *_, a, exp in cases if not exp}


def test_every_fired_alert_carries_noc_and_severity():
    """Routing needs `noc` and `severity` on every alert that reaches Alertmanager (and `city` on
    per-city ones): checked on the alerts the promtool cases actually fire."""
    for f, test, alert, exp in alert_cases():
        for e in exp:
            labels = e.get("exp_labels") or {}
            assert "noc" in labels and "severity" in labels, f"{f.name}: {test}: {alert} fired without noc/severity: {labels}"


def test_dr_alerts_compare_with_the_tier_rpo():
    """Issue 9: DR thresholds come from dr.yaml (egov_dr_rpo_seconds{tier}), never a fixed number."""
    dr = [(f, r) for f, r in alert_rules() if r["alert"].startswith("DrReplication") or r["alert"] == "BackupTooOld"]
    assert len(dr) == 4
    for f, r in dr:
        if r["alert"] != "DrReplicationUnhealthy":
            assert "egov_dr_rpo_seconds" in r["expr"], f"{f.name}: {r['alert']} does not use the tier RPO"


def test_cut_off_fires_before_the_alerts_it_inhibits():
    """Alertmanager inhibits only while the source fires: CityCutOff's `for` must be shorter than
    every alert it inhibits (monitors/README.md), or a per-target alert reaches the city first."""
    def seconds(d: str) -> int:
        return sum(int(n) * {"s": 1, "m": 60, "h": 3600}[u] for n, u in re.findall(r"(\d+)([smh])", d))

    fors = {r["alert"]: seconds(r["for"]) for _, r in alert_rules()}
    inhibited = ["CityBackbonePlaneDown", "ExtranetTargetUnreachableIPv4", "ExtranetTargetUnreachableIPv6",
                 "ExtranetPacketLoss", "ExtranetHighLatency", "OspfNeighbourDown", "Ospf6NeighbourDown",
                 "BfdPeerDown", "BgpPeerDown"]
    for a in inhibited:
        assert fors["CityCutOff"] < fors[a], f"{a} (for {fors[a]} s) would fire before CityCutOff"
    for a in ("OspfNeighbourDown", "Ospf6NeighbourDown", "BfdPeerDown"):
        assert fors["CityBackbonePlaneDown"] < fors[a]
    assert fors["ExtranetTargetUnreachableIPv6"] < fors["InterfaceAddressMissing"]


def _contract_inhibition() -> list[tuple[frozenset[str], frozenset[str] | None, frozenset[str]]]:
    """The rows of the inhibition table in monitors/README.md: (sources, targets or None = every other, equal)."""
    text = (REPO / "monitors" / "README.md").read_text(encoding="utf-8")
    table = text.split("**Inhibition the Alertmanager config must contain**", 1)[1].split("\n\n", 2)[1]
    rows = []
    for line in table.splitlines()[2:]:
        src, tgt, equal = (c.strip() for c in line.strip("|").split("|"))
        camel = r"\b[A-Z][a-z][A-Za-z0-9]*[a-z0-9][A-Za-z0-9]*\b"
        targets = None if "every other" in tgt else frozenset(re.findall(camel, tgt))
        rows.append((frozenset(re.findall(camel, src)), targets, frozenset(re.findall(r"`(\w+)`", equal))))
    return rows


def test_alertmanager_inhibition_is_the_contract_and_names_real_alerts():
    """The Alertmanager config LAB renders inhibits exactly what monitors/README.md says, with alert
    names the rules define: renaming an alert without its inhibition silently breaks the cut-off
    acceptance (the per-target alerts would reach the city)."""
    from egovops.render import alertmanager as am
    names = {r["alert"] for _, r in alert_rules()}

    def parse(matchers: list[str]) -> tuple[str, frozenset[str]]:
        for m in matchers:
            hit = re.fullmatch(r'alertname(=~|!=|=)"([^"]*)"', m)
            if hit:
                return hit.group(1), frozenset(hit.group(2).split("|"))
        raise AssertionError(f"no alertname matcher in {matchers}")

    rendered = set()
    for rule in am.inhibit_rules():
        _, src = parse(rule["source_matchers"])
        op, tgt = parse(rule["target_matchers"])
        assert src <= names and tgt <= names, f"inhibition names unknown alerts: {sorted((src | tgt) - names)}"
        rendered.add((src, None if op == "!=" else tgt, frozenset(rule["equal"])))
    contract = set(_contract_inhibition())
    assert len(contract) >= 7
    assert contract == rendered, f"contract only: {contract - rendered}; rendered only: {rendered - contract}"


def test_each_noc_loads_the_rule_files_the_contract_names():
    """monitors/README.md "Rule files": common on all 17 NOCs, province-noc on the provincial one only
    (a city NOC evaluating province-noc rules would raise every province-wide alert 16 more times)."""
    rules = pytest.importorskip("egovops.monitor.rules")
    assert [f.name for f in rules.files_for("province", RULES_DIR)] == ["common.rules.yml", "province-noc.rules.yml"]
    assert [f.name for f in rules.files_for("hefei", RULES_DIR)] == ["common.rules.yml"]


def test_common_alerts_never_read_what_the_cities_federate():
    """The provincial NOC federates every recording rule of the city NOCs and also loads
    common.rules.yml: a common alert over a common recording rule would fire at the province too,
    for every city's series, duplicating (and colliding in ALERTS with) the city NOC's own alert."""
    common = RULES_DIR / "common.rules.yml"
    groups = yaml.safe_load(common.read_text(encoding="utf-8"))["groups"]
    recorded = {r["record"] for g in groups for r in g["rules"] if "record" in r}
    assert recorded, "common.rules.yml records the series the province federates"
    for g in groups:
        for r in g["rules"]:
            if "alert" in r:
                used = {name for name in recorded if re.search(rf"(?<![\w:]){re.escape(name)}(?![\w:])", r["expr"])}
                assert not used, f"common.rules.yml: {r['alert']} reads federated recording rules {sorted(used)}"
