"""Cross-node flows (issue 13): the catalogue's calls in each host's firewall, the probe plan of
``egovops net flows``, its report and exit codes. The wire itself: tests/lab/test_net_flows_lab.py."""

from __future__ import annotations

import ipaddress
import json
import shutil
import subprocess
from pathlib import Path

import jinja2
import pytest
import yaml
from click.testing import CliRunner

from egovops.cli.main import cli
from egovops.model import InventoryError, load_inventory
from egovops.network import flows
from egovops.network.flows import FlowCheck, FlowInputError, FlowReport, Probe, plan
from egovops.render import ansible
from egovops.render.host_firewall import admits, host_rules, node_calls

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
FIVE = ["province", "dr-local", "dr-remote", "hefei", "chuzhou"]   # what `lab up --limit city:hefei,city:chuzhou` runs


def _calls_yaml(zones: Path) -> list[dict]:
    return yaml.safe_load(zones.read_text(encoding="utf-8"))["calls"]


def test_every_catalogue_call_becomes_one_call_per_node_pair(lab_province):
    p = lab_province
    cities = len(p.cities)
    # city -> province: e-supervision, case-db, bigdata-master, e-licence, identity; province -> city: e-licence
    # and each managed industry cloud (lab_industry) -> province: its consumes
    calls = node_calls(p)
    clouds = {c.slug: c for c in p.managed_industry()}
    assert len(calls) == 5 * cities + cities + sum(len(c.consumes) for c in clouds.values())
    assert {(c.caller, c.callee_service) for c in calls if c.caller in clouds} == \
        {(s, svc) for s, c in clouds.items() for svc in c.consumes}
    up = [c for c in calls if c.callee == "province" and c.caller not in clouds]
    assert {c.caller for c in up} == {n.slug for n in p.cities}
    assert {c.callee_service for c in up} == {"e-supervision", "case-db", "bigdata-master", "e-licence", "identity"}
    down = [c for c in calls if c.caller == "province"]
    assert {(c.caller_service, c.callee_service) for c in down} == {("e-licence", "e-licence")}
    hefei = p.node("hefei")
    assert all(c.sources == (str(hefei.service_v4), str(hefei.service_v6)) for c in calls if c.caller == "hefei")


def test_each_host_firewall_admits_exactly_its_callers(lab_province):
    p = lab_province
    prov, hefei, chuzhou, drl = (p.node(s) for s in ("province", "hefei", "chuzhou", "dr-local"))
    rules = {n.slug: host_rules(p, n) for n in p.nodes}
    (rule,) = [r for r in rules["province"] if r["from"] == "nodes"]
    assert rule["port"] == 8443 and rule["proto"] == "tcp"
    callers = [*p.cities, *p.managed_industry()]   # the cities and the lab's industry clouds (their consumes)
    assert rule["sources"]["ipv4"] == sorted((str(c.service_v4) for c in callers), key=ipaddress.ip_network)
    assert len(rule["sources"]["ipv6"]) == len(callers)
    (rule,) = [r for r in rules["hefei"] if r["from"] == "nodes"]
    assert rule["sources"] == {"ipv4": [str(prov.service_v4)], "ipv6": [str(prov.service_v6)]}
    # the service port is open wider only where the DR repository's TLS S3 listens
    for slug, rs in rules.items():
        wide = [r for r in rs if r["port"] == 8443 and r["from"] in ("extranet", "any")]
        assert bool(wide) == (p.node(slug).kind == "dr"), slug
    for fam in ("ipv4", "ipv6"):
        def addr(n, fam=fam):
            return str(getattr(n.address, fam).ip)
        assert admits(rules["province"], p, addr(hefei), 8443)
        assert admits(rules["hefei"], p, addr(prov), 8443)
        assert not admits(rules["hefei"], p, addr(chuzhou), 8443)        # city -> city: not in the plans
        assert not admits(rules["province"], p, addr(drl), 8443)         # a DR site calls nothing
        assert not admits(rules["province"], p, addr(hefei), 8444)       # only the called port
        assert admits(rules["province"], p, str(getattr(p.noc.controller, fam).ip), 22)  # management still in


def test_the_derived_inventory_carries_each_hosts_list_and_the_template_renders_it(lab_province):
    data = yaml.safe_load(ansible.render(lab_province)["hosts.yaml"])["all"]
    assert all(r["from"] != "nodes" and r["port"] != 8443 for r in data["vars"]["egov_host_firewall"])
    hv = {**data["vars"], **data["children"]["cloud_hosts"]["hosts"]["hefei"]}
    tpl = jinja2.Environment(loader=jinja2.FileSystemLoader(str(REPO / "roles/baseline/templates")),
                             undefined=jinja2.StrictUndefined).get_template("nftables.conf.j2")
    text = tpl.render(**hv)
    prov = lab_province.node("province")
    assert f"ip saddr {{ {prov.service_v4} }} tcp dport 8443 accept" in text
    assert f"ip6 saddr {{ {prov.service_v6} }} tcp dport 8443 accept" in text
    assert "\t\ttcp dport 8443 accept" not in text
    # an entry of a kind the template does not know opens nothing (it used to fall through to "any")
    odd = tpl.render(**{**hv, "egov_host_firewall": [{"port": 4444, "proto": "tcp", "from": "nobody", "why": "x"}]})
    assert "4444" not in odd.replace("# x", "")
    nft = shutil.which("nft") or "/usr/sbin/nft"
    if Path(nft).exists():
        cmd = [nft, "-c", "-f", "-"]
        import os
        if os.geteuid() != 0:
            cmd = ["unshare", "--user", "--map-root-user", "--net", *cmd]
        r = subprocess.run(cmd, input=text, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr


def test_removing_a_call_closes_its_port_on_the_callee(flat_lab):
    zones = flat_lab / "zones.yaml"
    text = zones.read_text(encoding="utf-8")
    line = next(ln for ln in text.splitlines() if 'from: "province:e-licence"' in ln)
    zones.write_text(text.replace(line + "\n", ""), encoding="utf-8")
    p = load_inventory(flat_lab)
    assert not [r for r in host_rules(p, p.node("hefei")) if r["from"] == "nodes"]
    assert not admits(host_rules(p, p.node("hefei")), p, str(p.node("province").address.ipv4.ip), 8443)
    assert len(node_calls(p)) == 5 * len(p.cities) + sum(len(c.consumes) for c in p.managed_industry())


def test_validation_refuses_a_wide_open_service_port(flat_lab):
    zones = flat_lab / "zones.yaml"
    doc = yaml.safe_load(zones.read_text(encoding="utf-8"))
    (entry,) = [h for h in doc["host_firewall"] if h["port"] == 8443 and h["from"] == "extranet"]
    assert entry.pop("kinds") == ["dr"]
    zones.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(InventoryError) as exc:
        load_inventory(flat_lab)
    (pr,) = [x for x in exc.value.problems if x.kind == "overlap"]
    assert pr.file.endswith("zones.yaml") and pr.path.startswith("host_firewall[") and pr.line
    assert "8443" in pr.message and "kinds" in pr.hint


def test_plan_probes_every_call_both_families_and_a_bounded_deterministic_denied_sample(lab_province):
    p = lab_province
    pl = plan(p, FIVE, sample=8)
    # 2 cities -> province (5 calls each, one port) and province -> 2 cities (e-licence): 4 node pairs x 2 families
    assert len(pl.allowed) == 8
    assert {(x.caller, x.callee) for x in pl.allowed} == {("hefei", "province"), ("chuzhou", "province"),
                                                          ("province", "hefei"), ("province", "chuzhou")}
    up = next(x for x in pl.allowed if x.caller == "hefei" and x.family == "ipv6")
    assert up.source == str(p.node("hefei").address.ipv6.ip) and up.target == str(p.node("province").address.ipv6.ip)
    assert up.label.count("->") == 5 and up.port == 8443
    # denied candidates: city <-> city, DR sites -> province/cities (the DR sites themselves admit the extranet)
    assert pl.candidates == 8
    assert {(x.caller, x.callee) for x in pl.denied} >= {("hefei", "chuzhou"), ("chuzhou", "hefei"),
                                                         ("dr-local", "province")}
    assert all(x.callee != "dr-remote" for x in pl.denied)
    assert len(pl.denied) == 16 and {x.family for x in pl.denied} == {"ipv4", "ipv6"}
    assert pl.not_tested and all("province" in c or "hefei" in c or "chuzhou" in c for c in pl.not_tested)
    # bounded and deterministic
    small = plan(p, FIVE, sample=3)
    assert len(small.denied) == 6 and small.denied == plan(p, list(reversed(FIVE)), sample=3).denied
    assert plan(p, FIVE, sample=0).denied == []
    with pytest.raises(FlowInputError):
        plan(p, FIVE, sample=flows.MAX_SAMPLE + 1)


def _check(kind: str, outcome: str) -> FlowCheck:
    return FlowCheck(Probe(kind, "hefei", "province", "x", "ipv4", "198.18.129.10", "198.18.128.10", 8443), outcome, "", 1.0)


@pytest.mark.parametrize(("kind", "outcome", "result"), [
    ("allowed", "connected", "works"), ("allowed", "timeout", "broken"), ("allowed", "refused", "broken"),
    ("denied", "timeout", "blocked"), ("denied", "connected", "broken"), ("denied", "refused", "broken"),
    ("denied", "unreachable", "broken"), ("denied", "error", "broken"), ("allowed", "error", "broken"),
])
def test_results(kind, outcome, result):
    assert _check(kind, outcome).result == result


def test_report_is_ok_only_when_every_call_works_and_every_denied_flow_is_dropped():
    good = FlowReport("x", [_check("allowed", "connected"), _check("denied", "timeout")])
    assert good.ok and good.counts() == {"allowed": {"works": 1, "broken": 0}, "denied": {"blocked": 1, "broken": 0}}
    assert not FlowReport("x", [_check("allowed", "connected"), _check("denied", "connected")]).ok
    assert not FlowReport("x", [_check("allowed", "timeout"), _check("denied", "timeout")]).ok
    assert not FlowReport("x", [_check("denied", "timeout")]).ok            # nothing allowed proven: not ok
    assert not FlowReport("x", [_check("allowed", "connected")], error="listener did not start").ok
    doc = good.as_dict()
    assert doc["ok"] and doc["checks"][0]["result"] == "works" and json.dumps(doc)


def test_cli_exit_codes(monkeypatch, tmp_path):
    runner = CliRunner()
    prod = runner.invoke(cli, ["net", "flows", "--inventory", str(REPO / "inventories" / "anhui"), "--json"])
    assert prod.exit_code == 2 and "production" in json.loads(prod.stdout)["error"]
    bad = runner.invoke(cli, ["net", "flows", "--inventory", str(REPO / "inventories" / "lab"), "--sample", "99"])
    assert bad.exit_code == 2
    for checks, code in (([_check("allowed", "connected"), _check("denied", "timeout")], 0),
                         ([_check("allowed", "connected"), _check("denied", "connected")], 1),
                         ([_check("allowed", "timeout")], 1)):
        monkeypatch.setattr(flows, "run", lambda req, progress=None, checks=checks: FlowReport("lab", list(checks)))
        res = runner.invoke(cli, ["net", "flows", "--inventory", str(REPO / "inventories" / "lab"), "--json"])
        assert res.exit_code == code, res.output
        assert json.loads(res.stdout)["ok"] is (code == 0)
        res = runner.invoke(cli, ["net", "flows", "--inventory", str(REPO / "inventories" / "lab")])
        assert res.exit_code == code and ("BROKEN" in res.stdout) is (code == 1)


def test_a_lab_that_is_not_up_is_bad_input(tmp_path):
    d = tmp_path / "nolab"
    d.mkdir()
    (d / "inventory.yaml").write_text(f"name: flownotup\nname_zh: 未启动\nenvironment: lab\nversion: test\n"
                                      f"base: {REPO / 'tests/fixtures/inventories/flowlab'}\n")
    with pytest.raises(FlowInputError, match="not up"):
        flows.run(flows.FlowRequest(province=load_inventory(d)))


def test_comply_checks_the_catalogue_rule_in_each_family():
    """L3-CES4-03's check: a host whose live ruleset lacks the callers' rule in one family fails."""
    from egovops.compliance.checks import Ctx, intrusion
    from egovops.compliance.targets import role_params

    class Host:
        def __init__(self, chain: str) -> None:
            self.chain = chain

        def run(self, cmd: str):
            from types import SimpleNamespace
            out = self.chain if "nft list chain" in cmd else "enabled"
            return SimpleNamespace(rc=0, stdout=out, stderr="")

    rule = {"port": 8443, "proto": "tcp", "from": "nodes", "why": "calls",
            "sources": {"ipv4": ["198.18.128.0/24"], "ipv6": ["fd00:34:1::/64"]}}
    chain = ("table inet egov_filter {\n chain input {\n type filter hook input priority filter; policy drop;\n"
             " icmpv6 type { nd-neighbor-solicit } accept\n"
             " ip saddr 198.18.128.0/24 tcp dport 8443 accept\n ip6 saddr fd00:34:1::/64 tcp dport 8443 accept\n }\n}\n")
    for text, status in ((chain, "pass"), (chain.replace(" ip6 saddr fd00:34:1::/64 tcp dport 8443 accept\n", ""), "fail")):
        h = Host(text)
        out = intrusion.host_firewall(h, Ctx("hefei", {"egov_host_firewall": [rule]}, role_params(), host=h))
        assert out.status == status, out.evidence


def test_a_lab_industry_cloud_consumes_are_calls_on_the_wire_and_in_the_provinces_firewall():
    p = load_inventory(REPO / "tests" / "fixtures" / "inventories" / "flowlab")   # lab_industry: [transport]
    (cloud,) = p.managed_industry()
    calls = [c for c in node_calls(p) if c.caller == cloud.slug]
    assert {c.callee_service for c in calls} == set(cloud.consumes) and {c.callee for c in calls} == {"province"}
    (rule,) = [r for r in host_rules(p, p.node("province")) if r["from"] == "nodes"]
    assert str(cloud.service_v4) in rule["sources"]["ipv4"] and str(cloud.service_v6) in rule["sources"]["ipv6"]
    assert not any(r["from"] == "nodes" for r in host_rules(p, p.node("hefei"))
                   if str(cloud.service_v4) in r.get("sources", {}).get("ipv4", []))
    pl = plan(p, [*FIVE, cloud.slug], sample=64)
    mine = [x for x in pl.allowed if x.caller == cloud.slug]
    assert {(x.callee, x.family) for x in mine} == {("province", "ipv4"), ("province", "ipv6")}
    assert mine[0].source == str(cloud.address.ipv4.ip) or mine[0].source == str(cloud.address.ipv6.ip)
    # the cities admit only their callers on 8443; a DR site opens it to the whole extranet (zones.yaml
    # host_firewall, kinds [dr]), of which the cloud is a member: not a denied flow
    assert {x.callee for x in pl.denied if x.caller == cloud.slug} == {"hefei", "chuzhou"}
    for dr in (n for n in p.nodes if n.kind == "dr"):
        assert admits(host_rules(p, dr), p, str(cloud.address.ipv4.ip), 8443), dr.slug
    assert not [x for x in pl.denied if x.callee == cloud.slug]   # its own firewall is its department's


def test_limit_keeps_the_flows_with_an_end_selected(lab_province):
    pl = plan(lab_province, FIVE, sample=64, selected={"hefei"})
    assert {(x.caller, x.callee) for x in pl.allowed} == {("hefei", "province"), ("province", "hefei")}
    # denied flows only toward the selected host: its firewall is the one a limited harden applied
    assert {(x.caller, x.callee) for x in pl.denied} == {("chuzhou", "hefei"), ("dr-local", "hefei"),
                                                         ("dr-remote", "hefei")}


def test_deploy_step_is_lab_only_and_fails_closed_on_a_lab_that_is_not_up(tmp_path):
    from egovops.deploy import LAB_ONLY, STEPS, DeployContext
    from egovops.network.flows_step import run as step

    assert "net-flows" in LAB_ONLY and list(STEPS)[-1] == "net-flows"
    d = tmp_path / "nolab"
    d.mkdir()
    (d / "inventory.yaml").write_text(f"name: flownotup\nname_zh: 未启动\nenvironment: lab\nversion: test\n"
                                      f"base: {REPO / 'tests/fixtures/inventories/flowlab'}\n")
    res = step(DeployContext(inventory=str(d), out=tmp_path / "out", log=lambda m: None))
    assert res.status == "failed" and res.details.get("bad_input") and "not up" in res.summary
