"""snmp_exporter configuration for the Huawei VRP routers (egovops/render/snmp.py).

Why: it is rendered here and run only in production, so nothing in the lab would notice a broken
file. The exporter itself validates it (``prometheus-snmp-exporter --dry-run``, strict YAML plus the
SNMPv3 rules); what the dry run cannot see — an index type the collector would panic on at scrape
time, a lookup whose table is not walked, an OID outside the walk — is checked structurally.
"""

from __future__ import annotations

import ipaddress
import re
import shutil
import subprocess

import pytest
import yaml

from egovops.render import snmp

pytestmark = pytest.mark.unit

# index/lookup types snmp_exporter 0.21 knows (collector/collector.go indexOidsAsString, pduValueAsString)
INDEX_TYPES = {"gauge", "Integer", "Integer32", "counter", "PhysAddress48", "OctetString", "DisplayString",
               "InetAddressIPv4", "InetAddressIPv6", "EnumAsInfo"}
METRIC_TYPES = {"gauge", "counter", "DisplayString", "OctetString", "PhysAddress48", "EnumAsInfo", "EnumAsStateSet"}


def under(oid: str, prefixes: list[str]) -> bool:
    return any(oid == p or oid.startswith(p + ".") for p in prefixes)


def filled(text: str) -> str:
    """The rendered file with the vault variables the monitoring role fills (dummy values)."""
    for var in snmp.AUTH_VARIABLES:
        text = text.replace("{{ " + var + " }}", f"test-{var}-0123456789")
    return text


def test_rendered_for_production_only(anhui_province, lab_province):
    files = snmp.render(anhui_province)
    assert "snmp.yml" in files
    nocs = {p.split("/")[0] for p in files if p.count("/") == 1}
    assert nocs == {"province"} | {c.slug for c in anhui_province.cities}
    assert snmp.render(lab_province) == {} and snmp.scrape_config(lab_province, "province") is None


def test_targets_are_every_router_of_ours_once(anhui_province):
    groups = [g for gs in snmp.targets(anhui_province).values() for g in gs]
    names = [g["labels"]["router"] for g in groups]
    ours = [r.name for r in anhui_province.routers if r.is_ours]
    assert sorted(names) == sorted(ours) and len(set(names)) == len(names)
    assert "national-rt" not in names              # the national centre's router is not ours
    for g in groups:
        (addr,) = g["targets"]
        ipaddress.IPv4Address(addr)
        r = anhui_province.router(g["labels"]["router"])
        assert addr == str(r.management.ipv4.ip)
        assert g["labels"]["noc"] == (r.city if r.role in ("city", "county") else "province")


def test_no_secret_in_the_rendered_file(anhui_province):
    text = snmp.render(anhui_province)["snmp.yml"]
    auth = yaml.safe_load(text)[snmp.MODULE]["auth"]
    assert auth["security_level"] == "authPriv" and auth["auth_protocol"] == "SHA" and auth["priv_protocol"] == "AES"
    for key in ("username", "password", "priv_password"):
        assert re.fullmatch(r"\{\{ [a-z0-9_]+ \}\}", auth[key]), f"auth.{key} must be a vault variable"
    assert "community" not in text                # no SNMPv2c community string


def test_module_structure():
    mod = snmp.config()[snmp.MODULE]
    walks, gets = mod["walk"], [g.rsplit(".", 1)[0] for g in mod["get"]]
    names = [m["name"] for m in mod["metrics"]]
    assert len(names) == len(set(names))
    for wanted in ("ifOperStatus", "ifHCInOctets", "ospfNbrState", "ospfv3NbrState", "bgpPeerState", "hwEntityCpuUsage"):
        assert wanted in names
    for m in mod["metrics"]:
        assert re.fullmatch(r"1(\.\d+)+", m["oid"]), m
        assert m["type"] in METRIC_TYPES, m
        assert under(m["oid"], walks) or m["oid"] in gets, f"{m['name']}: {m['oid']} is neither walked nor fetched"
        for ix in m.get("indexes", []):
            assert ix["type"] in INDEX_TYPES, f"{m['name']}: index type {ix['type']} would panic the collector"
        for lk in m.get("lookups", []):
            assert lk["type"] in INDEX_TYPES, f"{m['name']}: lookup type {lk['type']}"
            assert under(lk["oid"], walks), f"{m['name']}: lookup {lk['labelname']} ({lk['oid']}) is not walked"
            assert set(lk["labels"]) <= {ix["labelname"] for ix in m["indexes"]}


def test_scrape_job_joins_the_inventory_interface_names(anhui_province):
    job = snmp.scrape_config(anhui_province, "hefei")
    assert job["params"] == {"module": [snmp.MODULE]} and job["metrics_path"] == "/snmp"
    (rel,) = job["metric_relabel_configs"]
    # the VRP template writes "description <ifname> <text>": the first word is the inventory's ifname
    rx = re.compile("^(?:" + rel["regex"] + ")$")
    assert rx.match("up-d backbone data plane to province-rt").expand(r"\1") == "up-d"
    assert rx.match("hefei-d").expand(r"\1") == "hefei-d"


def test_snmp_exporter_accepts_the_config(anhui_province, tmp_path):
    exe = shutil.which("prometheus-snmp-exporter")
    assert exe, "prometheus-snmp-exporter missing (scripts/apt-packages.txt)"
    good = tmp_path / "snmp.yml"
    good.write_text(filled(snmp.render(anhui_province)["snmp.yml"]), encoding="utf-8")
    r = subprocess.run([exe, f"--config.file={good}", "--dry-run"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    # and the check is real: an unknown key and a missing SNMPv3 password both fail
    bad = tmp_path / "bad.yml"
    bad.write_text(good.read_text(encoding="utf-8").replace("max_repetitions:", "max_repetition:"), encoding="utf-8")
    assert subprocess.run([exe, f"--config.file={bad}", "--dry-run"], capture_output=True, timeout=60).returncode != 0
    data = yaml.safe_load(good.read_text(encoding="utf-8"))
    data[snmp.MODULE]["auth"]["priv_password"] = ""
    bad.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert subprocess.run([exe, f"--config.file={bad}", "--dry-run"], capture_output=True, timeout=60).returncode != 0


def test_scrape_job_is_valid_prometheus_config(anhui_province, tmp_path):
    """promtool check config on a prometheus.yml holding the job (file_sd path made local)."""
    promtool = shutil.which("promtool")
    assert promtool
    sd = tmp_path / "file_sd"
    sd.mkdir()
    (sd / "snmp-routers.yaml").write_text(snmp.render(anhui_province)["hefei/snmp-routers.yaml"], encoding="utf-8")
    job = snmp.scrape_config(anhui_province, "hefei", sd_dir=str(sd))
    cfg = tmp_path / "prometheus.yml"
    cfg.write_text(yaml.safe_dump({"global": {"scrape_interval": "30s"}, "scrape_configs": [job]}), encoding="utf-8")
    r = subprocess.run([promtool, "check", "config", str(cfg)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
