"""The NOC hierarchy on a real lab (own lab `monlab`, 198.19.48.0/20 + fd00:34:0:e6::/64, limited to
hefei and chuzhou): every Prometheus up with every target up; a city cut off reaches that city's
receiver and the provincial one with its runbook, and the inhibited alerts do not; one plane gives
only the degraded warning; one IPv6 address gives only the IPv6 alert; planted router drift gives
ConfigDrift. Every wait is bounded; each fault is undone in a finally."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from egovops.model import load_inventory

pytestmark = pytest.mark.lab
REPO = Path(__file__).resolve().parents[2]
MONLAB = REPO / "tests" / "fixtures" / "inventories" / "monlab"
LIMIT = "city:hefei,city:chuzhou"
CITY = "hefei"


def _egovops(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "egovops"), *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def monlab():
    # not root / lab tools missing: tests/lab/conftest.py marks every lab test skipped before this runs
    # (a `from conftest import` here picked tests/unit/conftest.py in a whole-suite run)
    from egovops.lab import lab_down, lab_state, lab_up
    from egovops.monitor import service

    p = load_inventory(MONLAB)
    brought = lab_state(p) is None
    lab_up(p, limit=LIMIT, industry=True)   # + monlab's one industry cloud (education: a router and a host)
    try:
        push = _egovops("net", "push", "--inventory", str(MONLAB))
        assert push.returncode == 0, push.stdout[-2000:] + push.stderr[-2000:]
        res = service.up(p, wait=180)
        assert res.ok, res.as_dict()
        yield p
    finally:
        if brought:
            lab_down(p)


def _ns(p, device: str) -> str:
    from egovops.lab import ns_of
    return ns_of(p, device)


def _delivered_since(p, t0: float) -> list[tuple[str, str, str, str, dict]]:
    """(receiver, alertname, city, status, annotations) of every notification received after t0."""
    from egovops.monitor import service
    return [(rcv, a["labels"].get("alertname", ""), a["labels"].get("city", ""), a["status"], a["annotations"])
            for rcv, notes in service.delivered(p).items() for n in notes if n["received_at"] > t0
            for a in n["alerts"]]


def _wait_for(p, t0: float, pred, timeout: float) -> float | None:
    """Seconds from t0 until a delivered alert matches ``pred`` (bounded by ``timeout``)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for row in _delivered_since(p, t0):
            if pred(row):
                return time.time() - t0
        time.sleep(1.0)
    return None


def _links(p, state: str, *ifaces: str) -> None:
    for i in ifaces:
        subprocess.run(["ip", "netns", "exec", _ns(p, f"{CITY}-rt"), "ip", "link", "set", i, state], check=True,
                       timeout=10)


def _settle_all_up(p) -> None:
    from egovops.monitor import service
    st = service.wait_all_up(p, 90)
    assert st.ok, st.as_dict()


def test_every_prometheus_and_target_up(monlab) -> None:
    res = _egovops("monitor", "status", "--inventory", str(MONLAB), "--json")
    import json
    doc = json.loads(res.stdout)
    assert res.returncode == 0, doc
    assert {n["name"] for n in doc["nocs"]} == {"province", "hefei", "chuzhou"}
    for n in doc["nocs"]:
        assert n["prometheus_up"] and n["targets_total"] > 0 and n["targets_up"] == n["targets_total"], n
    assert doc["alertmanager_up"] and all(doc["controller"].values())


def test_provincial_noc_targets_are_exactly_what_runs(monlab) -> None:
    """The provincial NOC scrapes the managed industry cloud's host (node_exporter, installed by the
    monitoring play) and router (frr_exporter) and both are up; a cloud the lab does not run
    (transport) has no target; no postgres target while DR is not deployed (nothing down that never ran)."""
    import json
    import urllib.request

    from egovops.monitor import service
    p = monlab
    cloud = p.industry_cloud("education")
    with urllib.request.urlopen(service.prometheus_url(p, "province") + "/api/v1/targets?state=active",
                                timeout=20) as r:
        active = json.loads(r.read())["data"]["activeTargets"]
    by_job: dict[str, dict[str, str]] = {}
    for t in active:
        name = t["labels"].get("node") or t["labels"].get("router") or t["labels"].get("instance", "")
        by_job.setdefault(t["labels"]["job"], {})[name] = t["health"]
    assert by_job["node"].get(cloud.slug) == "up", by_job["node"]
    assert by_job["frr"].get(cloud.router.name) == "up", by_job["frr"]
    other = p.industry_cloud("transport")
    assert not {other.slug, other.router.name} & (set(by_job["node"]) | set(by_job["frr"]))
    assert "postgres" not in by_job, by_job.get("postgres")
    print(f"\nprovincial NOC: {len(active)} active targets, "
          f"{sum(t['health'] == 'up' for t in active)} up; jobs {sorted((j, len(v)) for j, v in by_job.items())}")


def test_frr_exporter_every_collector_answers(monlab) -> None:
    """One frr_exporter per router of ours, on its management address, every collector up (the bfd
    collector asks vtysh: it must be pointed at the router's pathspace)."""
    import re
    import urllib.request

    from egovops.lab import lab_state
    p = monlab
    for d in lab_state(p).routers:
        if not p.router(d.name).is_ours:
            continue
        with urllib.request.urlopen(f"http://{d.mgmt_ipv4}:9342/metrics", timeout=20) as r:
            text = r.read().decode()
        ups = dict(re.findall(r'^frr_collector_up\{collector="(\w+)"\} (\S+)$', text, re.M))
        assert set(ups) >= {"bfd", "bgp", "ospf"} and all(v == "1" for v in ups.values()), (d.name, ups)


def test_city_cut_off_reaches_city_and_province_and_inhibits(monlab) -> None:
    p = monlab
    from egovops.render.alertmanager import CUTOFF_TARGETS
    t0 = time.time()
    _links(p, "down", "up-d", "up-v")
    try:
        seconds = {}
        for rcv in ("noc-hefei", "noc-province"):
            seconds[rcv] = _wait_for(p, t0, lambda r, rcv=rcv: r[0] == rcv and r[1] == "CityCutOff" and r[2] == CITY
                                     and r[3] == "firing" and r[4].get("runbook_url", "").endswith("/runbooks/CityCutOff.md"),
                                     timeout=90)
        assert all(v is not None for v in seconds.values()), seconds
        print(f"\nCityCutOff delivered {max(seconds.values()):.1f}s after the cut: {seconds}")
        time.sleep(50)  # longer than the inhibited alerts' `for: 45s`
        leaked = [r for r in _delivered_since(p, t0) if r[2] == CITY and r[1] in CUTOFF_TARGETS]
        assert not leaked, leaked
    finally:
        t1 = time.time()
        _links(p, "up", "up-d", "up-v")
    took = _wait_for(p, t1, lambda r: r[1] == "CityCutOff" and r[2] == CITY and r[3] == "resolved", timeout=90)
    assert took is not None
    print(f"CityCutOff resolved {took:.1f}s after the links came back")
    _settle_all_up(p)


def test_one_plane_down_is_only_degraded(monlab) -> None:
    p = monlab
    t0 = time.time()
    _links(p, "down", "up-v")
    try:
        took = _wait_for(p, t0, lambda r: r[0] == "noc-hefei" and r[1] == "CityBackbonePlaneDown" and r[3] == "firing",
                         timeout=90)
        assert took is not None
        print(f"\nCityBackbonePlaneDown delivered {took:.1f}s after one plane went down")
        time.sleep(20)
        names = {r[1] for r in _delivered_since(p, t0) if r[3] == "firing" and r[2] == CITY}
        assert "CityCutOff" not in names and not {n for n in names if "Unreachable" in n}, names
    finally:
        _links(p, "up", "up-v")
    _settle_all_up(p)


def test_one_ipv6_address_missing_fires_only_the_ipv6_alert(monlab) -> None:
    p = monlab
    node = p.node(CITY)
    addr = str(node.address.ipv6)
    ns = _ns(p, CITY)
    t0 = time.time()
    subprocess.run(["ip", "netns", "exec", ns, "ip", "-6", "addr", "del", addr, "dev", "ext0"], check=True, timeout=10)
    try:
        took = _wait_for(p, t0, lambda r: r[1] == "ExtranetTargetUnreachableIPv6" and r[3] == "firing", timeout=120)
        assert took is not None
        print(f"\nExtranetTargetUnreachableIPv6 delivered {took:.1f}s after the address was removed")
        names = {r[1] for r in _delivered_since(p, t0) if r[3] == "firing"}
        assert "ExtranetTargetUnreachableIPv4" not in names and "CityCutOff" not in names, names
    finally:
        subprocess.run(["ip", "netns", "exec", ns, "ip", "-6", "addr", "add", addr, "dev", "ext0", "nodad"],
                       check=False, timeout=10)
        subprocess.run(["ip", "netns", "exec", ns, "ip", "-6", "route", "replace", "default", "via",
                        str(node.gateway.ipv6.ip), "dev", "ext0"], check=False, timeout=10)
    _settle_all_up(p)


def test_planted_router_drift_raises_config_drift(monlab) -> None:
    p = monlab
    ns = _ns(p, f"{CITY}-rt")

    def vtysh(*lines: str) -> None:
        args = ["ip", "netns", "exec", ns, "vtysh", "-N", ns, "-c", "configure terminal"]
        for line in lines:
            args += ["-c", line]
        subprocess.run(args, check=True, timeout=20, capture_output=True)

    t0 = time.time()
    vtysh("interface up-d", "ip ospf cost 77")
    try:
        res = _egovops("monitor", "check", "--inventory", str(MONLAB), "--checks", "router", "--json", timeout=120)
        assert res.returncode == 0, res.stdout + res.stderr
        took = _wait_for(p, t0, lambda r: r[1] == "ConfigDrift" and r[3] == "firing"
                         and f"{CITY}-rt" in r[4].get("summary", "")
                         and r[4].get("runbook_url", "").endswith("/runbooks/ConfigDrift.md"), timeout=120)
        assert took is not None
        print(f"\nConfigDrift delivered {took:.1f}s after the router line changed (check run at once)")
    finally:
        vtysh("interface up-d", "ip ospf cost 10")
        _egovops("monitor", "check", "--inventory", str(MONLAB), "--checks", "router", timeout=120)


def test_monitor_up_on_a_lab_that_is_down_exits_2(scratch_inventory) -> None:
    inv = scratch_inventory("monlabdown", "198.19.48.0/20", "fd00:34:0:e6::/64")
    res = _egovops("monitor", "up", "--inventory", str(inv), timeout=60)
    assert res.returncode == 2 and "is not up" in res.stderr and res.stderr.count("\n") <= 3


def test_planted_host_sshd_drift_raises_config_drift(monlab) -> None:
    """The baseline applied to hefei, then one of its sshd options changed by hand: the host check
    (harden --check, what the scheduler runs) finds it and ConfigDrift names the host."""
    p = monlab
    res = _egovops("harden", "--inventory", str(MONLAB), "--limit", CITY, "--json", timeout=600)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    from egovops.lab.hosts import merged
    from egovops.monitor import drift, service
    res = _egovops("monitor", "check", "--inventory", str(MONLAB), "--checks", "host", "--json", timeout=600)
    state = {d["device"]: d for d in drift.load(service.state_dir(p))["host"]["devices"]}
    assert state[CITY]["ok"] and not state[CITY]["drift"], state[CITY]   # hardened: nothing to change

    def host_drift_firing() -> bool:
        return any(a.get("alertname") == "ConfigDrift" and a.get("device") == CITY for a in service.firing(p))

    deadline = time.time() + 90
    while host_drift_firing() and time.time() < deadline:   # an earlier (unhardened) alert resolves first
        time.sleep(2)
    assert not host_drift_firing()
    conf = merged(p, CITY) / "etc/ssh/sshd_config.d/00-egov-idle.conf"
    original = conf.read_text()
    assert "ClientAliveCountMax" in original
    t0 = time.time()
    conf.write_text("\n".join("ClientAliveCountMax 99" if line.startswith("ClientAliveCountMax") else line
                              for line in original.splitlines()) + "\n")
    try:
        res = _egovops("monitor", "check", "--inventory", str(MONLAB), "--checks", "host", "--json", timeout=600)
        assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
        took = _wait_for(p, t0, lambda r: r[1] == "ConfigDrift" and r[3] == "firing"
                         and f"host {CITY} " in r[4].get("summary", "") + " ", timeout=120)
        assert took is not None, _delivered_since(p, t0)
        print(f"\nConfigDrift (host sshd option) delivered {took:.1f}s after the change (check run at once)")
    finally:
        conf.write_text(original)


def test_link_down_up_keeps_ipv6_addresses_and_verify_sees_a_missing_one(monlab) -> None:
    """keep_addr_on_down=1 in router namespaces: a down/up keeps the IPv6 address (the kernel default
    flushes it); a really removed address is what `net verify` reports, per family."""
    import json
    p = monlab
    ns = _ns(p, f"{CITY}-rt")
    from egovops.lab import lab_state
    from egovops.network.verify import address_rows, present_devices

    def rows():
        out = subprocess.run(["ip", "netns", "exec", ns, "vtysh", "-N", ns, "-c", "show interface json"],
                             capture_output=True, text=True, timeout=20, check=True).stdout
        return address_rows(p, f"{CITY}-rt", out, present_devices(p, [d.name for d in lab_state(p).routers]))

    _links(p, "down", "up-v")
    _links(p, "up", "up-v")
    time.sleep(1)
    assert all(r["present"] for r in rows()), [r for r in rows() if not r["present"]]
    v6 = next(r["address"] for r in rows() if r["iface"] == "up-v" and r["family"] == "ipv6")
    subprocess.run(["ip", "netns", "exec", ns, "ip", "-6", "addr", "del", v6, "dev", "up-v"], check=True, timeout=10)
    try:
        res = _egovops("net", "verify", "--inventory", str(MONLAB), "--json", timeout=300)
        doc = json.loads(res.stdout)
        assert res.returncode == 1
        row = next(r for r in doc["protocols"] if r["router"] == f"{CITY}-rt")
        # the IPv6 address alone is missing (an IPv6 BFD session over that link may drop with it)
        assert row["missing"]["address_ipv6"] == [f"up-v {v6}"] and "address_ipv4" not in row["missing"], row
    finally:
        subprocess.run(["ip", "netns", "exec", ns, "ip", "-6", "addr", "add", v6, "dev", "up-v", "nodad"],
                       check=False, timeout=10)
    _settle_all_up(p)


# Metrics the dashboards/rules use that this lab cannot have, each with its reason.
NOT_IN_THIS_LAB = {
    "egov_dr_": "DR is not deployed on monlab (the DR labs pglab/objlab test those series)",
    "probe_ssl_earliest_cert_expiry": "blackbox_http/TLS probes of the citizen-facing services: production",
    "service:probe_error:": "SLO burn rates over blackbox_http: production",
    "pg_": "postgres_exporter of the DR database pair: scraped once DR is deployed (not on monlab)",
    "node_standby:pg_": "recorded from postgres_exporter: DR only",
    "node:pg_": "recorded from postgres_exporter: DR only",
}


def test_every_metric_dashboards_and_rules_use_is_scraped_here(monlab) -> None:
    """Scrape the running hierarchy once: every metric name a dashboard query or a rule uses is in
    some NOC Prometheus, apart from the named production/DR-only ones."""
    import importlib.util
    import json
    import urllib.request

    import yaml

    from egovops.monitor import service
    spec = importlib.util.spec_from_file_location("dashboards_test", REPO / "tests" / "unit" / "test_dashboards.py")
    td = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(td)
    used: dict[str, str] = {}
    for d in td.DASHBOARDS:
        for title, expr in td.queries(json.loads(d.read_text(encoding="utf-8"))):
            for m in td.metric_names(td.fill_variables(expr)):
                used.setdefault(m, f"{d.name}: {title}")
    for f in td.RULE_FILES:
        for g in yaml.safe_load(f.read_text(encoding="utf-8"))["groups"]:
            for r in g["rules"]:
                for m in td.metric_names(r["expr"]):
                    used.setdefault(m, f"{f.name}: {r.get('alert') or r.get('record')}")
    have: set[str] = set()
    for noc in service.selected_nocs(monlab):
        with urllib.request.urlopen(service.prometheus_url(monlab, noc) + "/api/v1/label/__name__/values",
                                    timeout=20) as r:
            have |= set(json.loads(r.read())["data"])
    missing = {m: where for m, where in used.items()
               if m not in have and not any(m.startswith(k) for k in NOT_IN_THIS_LAB)}
    assert not missing, missing
