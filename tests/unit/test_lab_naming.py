"""Lab names and selection, without root: what every lab part is called and which devices `--limit` brings.

Why: names are the contract with the other capabilities (netns, pathspace, interfaces) and the
guarantee that two labs never touch each other's parts; a 16-character interface name or a
colliding prefix would only show up as a failed `lab up` on someone's machine.
"""

from __future__ import annotations

import pytest

from egovops.lab import ns_of
from egovops.lab.fabric import mgmt_index
from egovops.lab.lifecycle import select
from egovops.lab.paths import IFNAMSIZ, bridge_name, mgmt_veth, prefix
from egovops.lab.routers import frr_config
from egovops.model import load_inventory

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def testlab(repo_root):
    return load_inventory(repo_root / "tests/fixtures/inventories/testlab")


def test_prefixes_differ_between_labs_and_are_short(lab_province, testlab):
    assert prefix(lab_province) != prefix(testlab)
    assert len(prefix(lab_province)) <= 5 and len(prefix(testlab)) <= 5
    assert ns_of(testlab, "hefei-rt").startswith(prefix(testlab) + "-")


def test_every_interface_name_fits_the_kernel_limit(lab_province):
    p = lab_province
    names = [bridge_name(p)]
    for r in p.routers:
        names.append(mgmt_veth(p, mgmt_index(p, r.management)))
    for n in p.nodes:
        names.append(mgmt_veth(p, mgmt_index(p, n.management)))
    for line in p.links:
        names += [line.a.ifname, line.b.ifname]
    too_long = [n for n in names if len(n) > IFNAMSIZ]
    assert not too_long
    # root-side management veths are unique within a lab (with all 122 routers and 19 hosts)
    mv = [mgmt_veth(p, mgmt_index(p, d.management)) for d in (*p.routers, *p.nodes)]
    assert len(set(mv)) == len(mv)


def test_ns_of_rejects_unknown_devices(testlab):
    with pytest.raises(KeyError, match="nosuch"):
        ns_of(testlab, "nosuch")


def test_default_selection_is_17_routers_plus_national_and_19_hosts(testlab):
    rs, hs = select(testlab)
    assert len([r for r in rs if testlab.router(r).role != "external"]) == 17
    assert "national-rt" in rs and not any(testlab.router(r).role == "county" for r in rs)
    assert sorted(hs) == sorted(n.slug for n in testlab.nodes) and len(hs) == 19


def test_counties_add_the_county_routers(testlab):
    rs, _ = select(testlab, counties=True)
    assert len(rs) == len(testlab.routers)


def test_limit_keeps_the_core_and_the_chosen_cities(testlab):
    rs, hs = select(testlab, limit="city:chuzhou")
    assert set(rs) == {"province-rt", "national-rt", "chuzhou-rt"}
    assert set(hs) == {"province", "dr-local", "dr-remote", "chuzhou"}
    rs, _ = select(testlab, counties=True, limit="city:chuzhou")
    counties = [r for r in rs if testlab.router(r).role == "county"]
    assert counties and all(testlab.router(r).city == "chuzhou" for r in counties)


def test_frr_starts_with_hostname_only_and_the_six_daemons(testlab):
    cfg = frr_config(testlab, "hefei-rt")
    assert "hostname hefei-rt" in cfg["frr.conf"]
    assert "router " not in cfg["frr.conf"] and "interface" not in cfg["frr.conf"]
    for d in ("bgpd", "ospfd", "ospf6d", "staticd", "bfdd"):
        assert f"{d}=yes" in cfg["daemons"]
    assert "-P 0" in cfg["daemons"]  # no TCP vty port: vtysh over SSH is the only way in


def test_bad_requests_are_refused_before_anything_happens(anhui_province, testlab, tmp_path, monkeypatch):
    from egovops.lab import LabInputError, lab_up
    monkeypatch.setenv("EGOVOPS_LAB_DIR", str(tmp_path / ".lab"))
    with pytest.raises(LabInputError, match="production inventory"):
        lab_up(anhui_province)
    with pytest.raises(LabInputError, match="matches no router or host"):
        lab_up(testlab, limit="city:nosuch")
    assert not (tmp_path / ".lab").exists()
