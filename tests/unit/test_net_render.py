"""Rendering of router configs: golden files for both vendors, content checks, FRR syntax via vtysh -C.

Regenerate the golden files after an intended template change with
``EGOVOPS_UPDATE_GOLDEN=1 pytest tests/unit/test_net_render.py`` and review the diff.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from egovops.model import load_inventory
from egovops.network import render as R
from egovops.network.confdiff import FRR, VRP, parse
from egovops.render.intents import intent

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "fixtures" / "net"
GOLDEN_ROUTERS = ("province-rt", "national-rt", "chuzhou-rt", "chuzhou-langya-rt")


@pytest.fixture(scope="module")
def lab():
    return load_inventory(REPO / "inventories" / "lab")


@pytest.fixture(scope="module")
def anhui():
    return load_inventory(REPO / "inventories" / "anhui")


@pytest.mark.parametrize("vendor", R.VENDORS)
@pytest.mark.parametrize("router", GOLDEN_ROUTERS)
def test_golden(lab, vendor, router):
    text = R.render_intent(intent(lab, lab.router(router)), vendor)
    path = GOLDEN / vendor / R.file_name(router, vendor)
    if os.environ.get("EGOVOPS_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"missing golden file {path} (EGOVOPS_UPDATE_GOLDEN=1 to create)"
    assert text == path.read_text(), f"{router} ({vendor}) differs from {path}"


@pytest.mark.parametrize("vendor", R.VENDORS)
def test_deterministic_and_complete_for_every_router(anhui, vendor):
    """Every router of the real province renders, twice identically, with every interface's v4 and v6."""
    for r in anhui.routers:
        it = intent(anhui, r)
        a, b = R.render_intent(it, vendor), R.render_intent(it, vendor)
        assert a == b
        for i in it["interfaces"]:
            if vendor == "frr":
                kids = parse(a, FRR).children[f"interface {i['name']}"].children
                assert f"ip address {i['ipv4']}" in kids and f"ipv6 address {i['ipv6']}" in kids, (r.name, i["name"])
            else:
                v4 = ipaddress.IPv4Interface(i["ipv4"])
                assert f" ip address {v4.ip} {v4.netmask}\n" in a, (r.name, i["name"])
                assert f" ipv6 address {i['ipv6']}\n" in a, (r.name, i["name"])
        assert str(ipaddress.ip_interface(it["loopback"]["ipv6"])) in a


def _section(text: str, dialect, header: str) -> list[str]:
    return list(parse(text, dialect).children[header].children)


def test_frr_city_router_areas_bfd_passive(lab):
    it = intent(lab, lab.router("chuzhou-rt"))
    text = R.render_intent(it, "frr")
    up = _section(text, FRR, "interface up-d")
    assert "ip ospf area 0" in up and "ipv6 ospf6 area 0.0.0.0" in up
    assert "ip ospf bfd" in up and "ipv6 ospf6 bfd" in up and "ip ospf network point-to-point" in up
    county = _section(text, FRR, "interface langya-d")
    assert "ip ospf area 10" in county and "ipv6 ospf6 area 0.0.0.10" in county  # chuzhou's city id
    lan = _section(text, FRR, "interface lan-chuzhou")
    assert "ip ospf passive" in lan and "ipv6 ospf6 passive" in lan and "ip ospf bfd" not in lan
    assert "router bgp" not in text                      # BGP only on the national uplink
    assert "access-list MGMT seq 5 permit 198.19.0.0/20" in text
    assert "exec-timeout 5 0" in text


def test_frr_bgp_both_families_and_policies(lab):
    core = R.render_intent(intent(lab, lab.router("province-rt")), "frr")
    bgp = parse(core, FRR).children["router bgp 65034"]
    assert "neighbor 198.18.64.0 remote-as 65000" in bgp.children
    assert "neighbor fd00:34:0:2:: remote-as 65000" in bgp.children
    af4 = bgp.children["address-family ipv4 unicast"].children
    af6 = bgp.children["address-family ipv6 unicast"].children
    assert "network 198.18.0.0/20" in af4 and "neighbor 198.18.64.0 route-map BGP-OUT-V4 out" in af4
    assert "network fd00:34:0:1::/64" in af6 and "neighbor fd00:34:0:2:: activate" in af6
    assert "redistribute bgp" in parse(core, FRR).children["router ospf"].children
    nat = R.render_intent(intent(lab, lab.router("national-rt")), "frr")
    assert "router ospf" not in nat                       # the national node is not in our IGP
    assert "network 198.18.0.127/32" in parse(nat, FRR).children["router bgp 65000"].children[
        "address-family ipv4 unicast"].children


def test_vrp_syntax_details(lab):
    text = R.render_intent(intent(lab, lab.router("chuzhou-rt")), "huawei_vrp")
    tree = parse(text, VRP)
    assert "sysname chuzhou-rt" in tree.children
    assert "rule 5 permit source 198.19.0.0 0.0.15.255" in tree.children["acl number 2000"].children
    aaa = tree.children["aaa"].children
    assert any(line.startswith("local-aaa-user wrong-password retry-interval") for line in aaa)   # lockout
    vty = tree.children["user-interface vty 0 4"].children
    assert {"protocol inbound ssh", "idle-timeout 5 0", "acl 2000 inbound"} <= set(vty)
    assert "undo telnet server enable" in tree.children
    ports = R.vrp_ports(intent(lab, lab.router("chuzhou-rt")))
    up = tree.children[f"interface {ports['up-d']}"].children
    assert "ospf enable 1 area 0.0.0.0" in up and "ospf bfd enable" in up and "ip address 198.18.84.1 255.255.255.254" in up
    assert "ntp-service unicast-server 198.19.15.128" in tree.children
    assert "info-center loghost ipv6 fd00:34:0:ff::f80 level informational" in tree.children


def test_vrp_ports_follow_the_links_stable_ids(anhui):
    """Ports come from the address plan's link ids, not name order: both ends of a link share the
    number, the core's backbone to city c is port c of the data/video card, a LAN's port is its id + 1."""
    ports = {r.name: R.vrp_ports(intent(anhui, r)) for r in anhui.routers}
    for link in anhui.links:
        if link.kind in ("county", "uplink"):
            assert ports[link.a.device][link.a.ifname] == ports[link.b.device][link.b.ifname], link.name
    hefei = anhui.node("hefei")
    assert ports["province-rt"]["hefei-d"] == f"GigabitEthernet0/2/{hefei.id}"
    assert ports["province-rt"]["hefei-v"] == f"GigabitEthernet0/3/{hefei.id}"
    assert ports["hefei-rt"]["up-d"] == "GigabitEthernet0/0/1" and ports["hefei-rt"]["lan-hefei"] == f"GigabitEthernet0/1/{hefei.id + 1}"
    county = next(c for c in anhui.counties if c.city == "hefei")
    assert ports["hefei-rt"][f"{county.short}-v"] == f"GigabitEthernet0/0/{3 + 2 * county.id + 1}"


def test_vrp_port_outside_the_card_is_an_error_naming_the_link(lab):
    it = intent(lab, lab.router("chuzhou-rt"))
    county = next(i for i in it["interfaces"] if i["kind"] == "county")
    county["link_id"] = it["site"] * 256 + 2 + 2 * 23        # county id 23: port 49 of a 48-port card
    with pytest.raises(R.RenderError, match=rf"chuzhou-rt: interface {county['name']} \(county to "
                                            rf"{county['peer']} up-d\) would be VRP port GigabitEthernet0/0/49"):
        R.render_intent(it, "huawei_vrp")
    county["link_id"] = it["site"] * 256 + 1                  # the city's own up-v port
    with pytest.raises(R.RenderError, match="both map to VRP port GigabitEthernet0/0/2"):
        R.vrp_ports(it)
    assert "interface up-d" in R.render_intent(intent(lab, lab.router("chuzhou-rt")), "frr")   # FRR keeps names


def test_bad_vendor_and_bad_intent_name_the_problem(lab):
    it = intent(lab, lab.router("chuzhou-rt"))
    with pytest.raises(R.RenderError, match="unknown vendor 'junos'"):
        R.render_intent(it, "junos")
    broken = {k: v for k, v in it.items() if k != "router_id"}
    with pytest.raises(R.RenderError, match="chuzhou-rt.*router_id"):
        R.render_intent(broken, "frr")


def _vtysh_usable() -> bool:
    if not shutil.which("vtysh"):
        return False
    try:
        return subprocess.run(["vtysh", "-C", "-f", "/dev/null"], capture_output=True, timeout=10).returncode == 0
    except Exception:
        return False


@pytest.mark.skipif(not _vtysh_usable(), reason="vtysh -C not usable here (FRR not installed or no access to /etc/frr)")
def test_frr_configs_load_in_real_frr_dry_run(lab, tmp_path):
    """Rendered FRR configs (one router of every role and shape) parse in FRR 8.4's own parser (vtysh -C -f)."""
    bad = []
    for r in [lab.router(n) for n in ("province-rt", "national-rt", "hefei-rt", "anqing-rt", "chuzhou-langya-rt")]:
        f = tmp_path / f"{r.name}.conf"
        f.write_text(R.render_intent(intent(lab, r), "frr"))
        res = subprocess.run(["vtysh", "-C", "-f", str(f)], capture_output=True, text=True, timeout=30)
        if res.returncode != 0:
            bad.append(f"{r.name}: {(res.stdout + res.stderr).strip()[:300]}")
    assert not bad, bad
    # and the check can fail: a typo is caught
    f = tmp_path / "typo.conf"
    f.write_text("interface up-d\n ip ospf aera 0\n")
    assert subprocess.run(["vtysh", "-C", "-f", str(f)], capture_output=True, timeout=30).returncode != 0
