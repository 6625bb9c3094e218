"""The NOC artefacts rendered from the inventory: every Prometheus config passes `promtool check
config` (with the rule files that NOC loads), the Alertmanager config passes `amtool check-config`,
routes and probes follow the contract (monitors/README.md), lab vs production timings."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from egovops.model import load_inventory
from egovops.monitor import rules
from egovops.render import alertmanager, prometheus
from egovops.render import monitor_settings as settings
from egovops.render.files import write_tree

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[2]
LAB = REPO / "inventories" / "lab"
ANHUI = REPO / "inventories" / "anhui"


@pytest.fixture(scope="module")
def lab():
    return load_inventory(LAB)


@pytest.fixture(scope="module")
def rendered(lab, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("noc")
    files = prometheus.render(lab)
    for noc in settings.nocs(lab):
        for f in rules.files_for(noc):
            files[f"{noc}/rules/{f.name}"] = f.read_text(encoding="utf-8")
    write_tree(files, out)
    return out


@pytest.mark.skipif(not shutil.which("promtool"), reason="promtool not installed")
def test_every_noc_config_passes_promtool(rendered: Path, lab) -> None:
    nocs = settings.nocs(lab)
    assert len(nocs) == 17
    for noc in nocs:
        res = subprocess.run(["promtool", "check", "config", str(rendered / noc / "prometheus.yml")],
                             capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, (noc, res.stdout, res.stderr)


@pytest.mark.skipif(not shutil.which("promtool"), reason="promtool not installed")
def test_promtool_catches_a_broken_rule_file(rendered: Path, tmp_path: Path) -> None:
    """The check above can fail: a rule file with a syntax error is named by promtool."""
    d = tmp_path / "province"
    shutil.copytree(rendered / "province", d)
    (d / "rules" / "broken.rules.yml").write_text("groups:\n  - name: x\n    rules:\n      - alert: X\n        expr: up ==\n")
    res = subprocess.run(["promtool", "check", "config", str(d / "prometheus.yml")], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode != 0 and "broken.rules.yml" in res.stdout + res.stderr


@pytest.mark.skipif(not shutil.which("amtool"), reason="amtool not installed")
def test_alertmanager_config_passes_amtool(rendered: Path, tmp_path: Path) -> None:
    path = rendered / "province" / "alertmanager.yml"
    assert subprocess.run(["amtool", "check-config", str(path)], capture_output=True, timeout=60).returncode == 0
    bad = yaml.safe_load(path.read_text())
    bad["route"]["routes"][1]["receiver"] = "noc-nowhere"      # an unknown receiver must be refused
    (tmp_path / "am.yml").write_text(yaml.safe_dump(bad))
    assert subprocess.run(["amtool", "check-config", str(tmp_path / "am.yml")], capture_output=True,
                          timeout=60).returncode != 0


def test_alertmanager_routes_every_city_and_critical_to_province(lab) -> None:
    cfg = alertmanager.config(lab)
    r = cfg["route"]
    assert r["receiver"] == "noc-province" and r["group_by"] == ["alertname", "city"]
    first, *cities = r["routes"]
    assert first == {"receiver": "noc-province", "matchers": ['severity="critical"'], "continue": True}
    assert [c["receiver"] for c in cities] == [f"noc-{c.slug}" for c in lab.cities]
    assert all(c["matchers"] == [f'city="{c["receiver"][4:]}"'] for c in cities)
    names = {x["name"] for x in cfg["receivers"]}
    assert names == {"noc-province"} | {f"noc-{c.slug}" for c in lab.cities}
    inhibit = {i["source_matchers"][0]: i for i in cfg["inhibit_rules"]}
    assert inhibit['alertname="CityCutOff"']["equal"] == ["city"]
    assert inhibit['alertname="HostDown"']["equal"] == ["node"]


def test_inhibition_names_only_alerts_the_rules_define() -> None:
    """Every alert the inhibition table names exists in monitors/rules (a renamed alert would
    silently stop being inhibited)."""
    names = set()
    for f in sorted((REPO / "monitors" / "rules").glob("*.rules.yml")):
        for g in yaml.safe_load(f.read_text())["groups"]:
            names |= {r["alert"] for r in g["rules"] if "alert" in r}
    if not names:
        pytest.skip("no rule files yet")
    used = {n for src, _, tgt, _ in alertmanager.INHIBITION for n in src + (tgt or ())}
    assert used <= names, sorted(used - names)
    cut = next(r for r in alertmanager.inhibit_rules() if r["source_matchers"] == ['alertname="CityCutOff"'])
    assert cut["equal"] == ["city"] and "CityCutOff" not in cut["target_matchers"][0]


def test_probes_per_family_and_no_fallback(lab, rendered: Path) -> None:
    bb = yaml.safe_load((rendered / "hefei" / "blackbox.yml").read_text())["modules"]
    assert bb["icmp_ipv4"]["icmp"] == {"preferred_ip_protocol": "ip4", "ip_protocol_fallback": False}
    assert bb["icmp_ipv6"]["icmp"] == {"preferred_ip_protocol": "ip6", "ip_protocol_fallback": False}
    probes = yaml.safe_load((rendered / "province" / "probes.yml").read_text())
    links = [g for g in probes if g["labels"]["target_kind"] == "link"]
    # the provincial NOC probes both planes of every city's backbone, in both families
    assert len(links) == 16 * 2 * 2
    assert {(g["labels"]["plane"], g["labels"]["family"]) for g in links} == \
        {(p, f) for p in ("data", "video") for f in ("ipv4", "ipv6")}
    for g in probes:
        fam = g["labels"]["family"]
        assert (":" in g["targets"][0]) == (fam == "ipv6")
    city = yaml.safe_load((rendered / "hefei" / "probes.yml").read_text())
    assert {g["labels"]["city"] for g in city} == {"hefei"} and {g["labels"]["noc"] for g in city} == {"hefei"}


def test_federation_and_jobs(lab, rendered: Path) -> None:
    prov = yaml.safe_load((rendered / "province" / "prometheus.yml").read_text())
    jobs = {j["job_name"]: j for j in prov["scrape_configs"]}
    assert set(jobs) == {"node", "frr", "blackbox_icmp_ipv4", "blackbox_icmp_ipv6", "egovops", "postgres", "federate"}
    c = lab.noc.controller
    assert jobs["postgres"]["http_sd_configs"][0]["url"] == f"http://{c.ipv4.ip}:9560/sd/postgres"
    fed = jobs["federate"]
    assert fed["honor_labels"] is True and '{__name__="ALERTS"}' in fed["params"]["match[]"]
    assert len(fed["static_configs"]) == 16
    city = yaml.safe_load((rendered / "hefei" / "prometheus.yml").read_text())
    assert {j["job_name"] for j in city["scrape_configs"]} == {"node", "frr", "blackbox_icmp_ipv4", "blackbox_icmp_ipv6"}
    assert city["global"]["external_labels"] == {"noc": "hefei"}


def test_limited_lab_renders_only_present_devices(lab) -> None:
    present = {"province", "hefei", "province-rt", "hefei-rt"}
    out = prometheus.render(lab, present)
    prov = yaml.safe_load(out["province/prometheus.yml"])
    fed = next(j for j in prov["scrape_configs"] if j["job_name"] == "federate")
    assert [s["labels"]["noc"] for s in fed["static_configs"]] == ["hefei"]
    probes = yaml.safe_load(out["province/probes.yml"])
    assert {g["labels"].get("router") or g["labels"]["node"] for g in probes} <= present


def test_lab_and_production_timings() -> None:
    lab, prod = load_inventory(LAB), load_inventory(ANHUI)
    lcfg = yaml.safe_load(prometheus.render(lab)["hefei/prometheus.yml"])["global"]
    pcfg = yaml.safe_load(prometheus.render(prod)["hefei/prometheus.yml"])["global"]
    assert (lcfg["scrape_interval"], lcfg["evaluation_interval"]) == ("5s", "5s")
    assert (pcfg["scrape_interval"], pcfg["evaluation_interval"]) == ("30s", "30s")
    assert settings.timings(lab).retention_time and settings.timings(prod).retention_size


def test_rule_files_per_noc(tmp_path: Path) -> None:
    for n in ("common.rules.yml", "province-noc.rules.yml", "city-noc.rules.yml", "notes.txt"):
        (tmp_path / n).write_text("groups: []\n")
    assert [f.name for f in rules.files_for("province", tmp_path)] == ["common.rules.yml", "province-noc.rules.yml"]
    assert [f.name for f in rules.files_for("hefei", tmp_path)] == ["city-noc.rules.yml", "common.rules.yml"]


def test_units_for_a_production_controller(lab) -> None:
    from egovops.render import monitor_units as units
    u = units.render(load_inventory(ANHUI))
    assert "units/egovops-exporter.service" in u
    for kind in ("router", "host", "comply"):
        timer = u[f"units/egovops-check-{kind}.timer"]
        assert "OnUnitActiveSec=900" in timer and "[Install]" in timer
        assert f"--checks {kind}" in u[f"units/egovops-check-{kind}.service"]


def test_industry_targets_only_for_managed_clouds_that_are_up() -> None:
    """monlab manages one industry cloud (education): its host (node) and router (frr) are provincial
    NOC targets exactly when they are up; a cloud the lab does not manage (transport) never is."""
    p = load_inventory(REPO / "tests" / "fixtures" / "inventories" / "monlab")
    cloud = p.industry_cloud("education")
    assert cloud is not None and [c.slug for c in p.managed_industry()] == ["education"]
    base = {"province", "hefei", "province-rt", "hefei-rt"}

    def targets(present: set[str]) -> tuple[set[str], set[str]]:
        out = prometheus.render(p, present)
        nodes = {g["labels"]["node"] for g in yaml.safe_load(out["province/nodes.yaml"])}
        routers = {g["labels"]["router"] for g in yaml.safe_load(out["province/routers.yaml"])}
        return nodes, routers

    nodes, routers = targets(base | {cloud.slug, cloud.router.name})
    assert nodes == {"province", cloud.slug} and routers == {"province-rt", cloud.router.name}
    assert not {"transport", p.industry_cloud("transport").router.name} & (nodes | routers)  # type: ignore[union-attr]
    up = yaml.safe_load(prometheus.render(p, base | {cloud.slug, cloud.router.name})["province/routers.yaml"])
    ind = next(g for g in up if g["labels"]["router"] == cloud.router.name)
    assert ind["labels"]["role"] == "industry" and ind["targets"][0] == str(cloud.router.management.ipv4.ip)
    # brought up without --industry: no target for the cloud at all (nothing down that never ran)
    assert targets(base) == ({"province"}, {"province-rt"})


def test_postgres_targets_only_once_dr_is_deployed(lab, monkeypatch) -> None:
    """The DR database pair's postgres_exporter (dr.yaml same_city: province and dr-local) is a target
    of the provincial NOC only while DR is deployed; production: always (DR is part of the estate)."""
    from egovops.monitor import drgate

    want = {("province", "system", "provincial"), ("dr-local", "system", "dr")}
    prod = drgate.postgres_sd(load_inventory(ANHUI))
    assert {(g["labels"]["node"], g["labels"]["tier"], g["labels"]["kind"]) for g in prod} == want
    assert all(t.endswith(":9187") for g in prod for t in g["targets"])
    monkeypatch.setattr(drgate, "dr_deployed", lambda p: (False, "no DR playbook ran"))
    assert drgate.postgres_sd(lab) == []
    monkeypatch.setattr(drgate, "dr_deployed", lambda p: (True, "DR deployed"))
    got = drgate.postgres_sd(lab)
    assert {g["labels"]["node"] for g in got} == {"province", "dr-local"}
    assert {t for g in got for t in g["targets"]} == {f"{lab.node(n).management.ipv4.ip}:9187" for n in ("province", "dr-local")}
