"""Industry clouds in the host firewall's "extranet" sets (issue 13: an industry cloud's zone is the
extranet, so it reaches what zones.yaml opens to ``from: extranet``, e.g. 443), and only the clouds
the province manages (production: those that exist; a lab: its ``lab_industry``)."""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess
from pathlib import Path

import jinja2
import pytest
import yaml

from egovops.model import load_inventory
from egovops.model.province import IndustryCloud, Province
from egovops.render import ansible
from egovops.render.host_firewall import admits, host_rules, source_sets

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]


def covered(nets: list[str], prefix: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    return any(prefix.version == n.version and prefix.subnet_of(n)  # type: ignore[arg-type]
               for n in map(ipaddress.ip_network, nets))


def host_ip(c: IndustryCloud, fam: str) -> str:
    return str(getattr(c.address, fam).ip)


def group_vars(p: Province) -> dict:
    return yaml.safe_load(ansible.render(p)["hosts.yaml"])["all"]["vars"]


@pytest.fixture(scope="module")
def indlab() -> Province:
    """A lab that lists two clouds (lab_industry: [transport, education]); inventories/lab lists none."""
    return load_inventory(REPO / "tests" / "fixtures" / "inventories" / "indlab")


@pytest.mark.parametrize("inv", ["indlab", "anhui"])
def test_extranet_sets_hold_exactly_the_managed_clouds(inv: str, indlab: Province, anhui_province: Province) -> None:
    p = {"indlab": indlab, "anhui": anhui_province}[inv]
    managed = {c.slug for c in p.managed_industry()}
    assert managed, "the inventory manages no industry cloud: nothing to prove"
    ext = group_vars(p)["egov_extranet_prefixes"]
    assert ext == source_sets(p)["extranet"]
    s = p.supernets
    assert all(covered(ext["ipv4"], n) for n in (s.loopback4, s.p2p4, s.service4))
    assert all(covered(ext["ipv6"], n) for n in (s.loopback6, s.p2p6, s.service6))
    assert not covered(ext["ipv4"], s.management4) and not covered(ext["ipv6"], s.management6)
    for c in p.industry:
        for prefix in c.accepted_prefixes:
            fam = "ipv4" if prefix.version == 4 else "ipv6"
            assert covered(ext[fam], prefix) == (c.slug in managed), (c.slug, prefix)


def test_a_managed_cloud_reaches_extranet_ports_and_nothing_more(indlab: Province) -> None:
    p = indlab
    assert p.managed_industry()
    prov, hefei = host_rules(p, p.node("province")), host_rules(p, p.node("hefei"))
    for c in p.managed_industry():
        for fam in ("ipv4", "ipv6"):
            src = host_ip(c, fam)
            assert admits(prov, p, src, 443) and admits(hefei, p, src, 443), (c.slug, fam)
            assert not admits(prov, p, src, 22), (c.slug, fam)            # SSH stays management only
            assert not admits(hefei, p, src, 9100), (c.slug, fam)


def test_a_lab_without_lab_industry_admits_no_industry_lan() -> None:
    p = load_inventory(REPO / "tests" / "fixtures" / "inventories" / "testlab")
    assert p.managed_industry() == ()
    ext = source_sets(p)["extranet"]
    for c in p.industry:
        assert not covered(ext["ipv4"], c.service_v4) and not covered(ext["ipv6"], c.service_v6)
        assert not admits(host_rules(p, p.node("province")), p, host_ip(c, "ipv4"), 443)


def test_rendered_ruleset_carries_them_and_nft_accepts_it(indlab: Province) -> None:
    v = group_vars(indlab)
    text = jinja2.Environment(loader=jinja2.FileSystemLoader(str(REPO / "roles/baseline/templates")),
                              undefined=jinja2.StrictUndefined).get_template("nftables.conf.j2").render(**v)
    (line4,) = [ln for ln in text.splitlines() if "set extranet_v4" in ln]
    (line6,) = [ln for ln in text.splitlines() if "set extranet_v6" in ln]
    assert indlab.managed_industry()
    for c in indlab.managed_industry():
        assert str(c.service_v4) in line4 and str(c.service_v6) in line6, c.slug
    nft = shutil.which("nft") or "/usr/sbin/nft"
    if not Path(nft).exists():
        pytest.fail("nft not found: nftables is in scripts/apt-packages.txt (make bootstrap installs it)")
    cmd = [nft, "-c", "-f", "-"]
    if os.geteuid() != 0:
        cmd = ["unshare", "--user", "--map-root-user", "--net", *cmd]
    r = subprocess.run(cmd, input=text, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
