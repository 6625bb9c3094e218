"""Industry clouds, derived (issue 13): core-side route filters, Ansible groups, provincial NOC targets.

Why: unified management means the province derives for each industry cloud what it derives for its
own nodes — but an outside-managed network must be filtered (only its own prefixes, max-prefix),
and the default 1+16 lab must not change size. Both are checked here.
"""

from __future__ import annotations

import ipaddress
import json
import re

import pytest
import yaml

from egovops.model.province import IndustryCloud, Province
from egovops.network.render import industry_core
from egovops.render import ansible, industry, prometheus

pytestmark = pytest.mark.unit


def permits(conf: str, version: int, name: str) -> list[tuple[ipaddress._BaseNetwork, int]]:
    """(prefix, le) of every permit line of FRR prefix-list ``name``; checks it ends in deny any."""
    kw = "ip" if version == 4 else "ipv6"
    lines = [ln for ln in conf.splitlines() if ln.startswith(f"{kw} prefix-list {name} ")]
    assert lines and lines[-1].endswith("deny any"), name
    out = []
    for ln in lines[:-1]:
        m = re.match(rf"{kw} prefix-list {name} seq \d+ permit (\S+)(?: le (\d+))?$", ln)
        assert m, ln
        net = ipaddress.ip_network(m.group(1))
        out.append((net, int(m.group(2) or net.prefixlen)))
    return out


def accepted(conf: str, cloud: IndustryCloud, prefix: str) -> bool:
    net = ipaddress.ip_network(prefix)
    return any(net.version == p.version and net.subnet_of(p) and p.prefixlen <= net.prefixlen <= le  # type: ignore[arg-type]
               for p, le in permits(conf, net.version, industry.filter_name(cloud, net.version)))


def test_core_filter_accepts_only_the_clouds_own_prefixes(lab_province: Province) -> None:
    p = lab_province
    provincial = [str(n) for n in (*(x.service_v4 for x in p.nodes), *(x.service_v6 for x in p.nodes))]
    provincial += [str(s) for s in p.supernets.all()] + ["0.0.0.0/0", "::/0"]
    for c in p.industry:
        conf = industry_core(p, c, "frr")
        for own in c.accepted_prefixes:
            assert accepted(conf, c, str(own)), (c.slug, own)
        for prefix in provincial:
            assert not accepted(conf, c, prefix), (c.slug, prefix)
        for other in p.industry:
            if other.slug != c.slug:
                assert not accepted(conf, c, str(other.service_v4)) and not accepted(conf, c, str(other.service_v6))


def test_bgp_sessions_carry_the_filter_and_max_prefix(lab_province: Province) -> None:
    p = lab_province
    for c in (c for c in p.industry if c.routing == "bgp"):
        conf = industry_core(p, c, "frr")
        att = industry.attachment(p, c)
        peers = [i["peer_" + f] for i in att["core"]["interfaces"] for f in ("ipv4", "ipv6")]
        assert len(peers) == 2 * len(c.links[:-1])
        for peer in peers:
            v = 4 if ":" not in peer else 6
            assert f" neighbor {peer} remote-as {c.asn}\n" in conf
            assert f"  neighbor {peer} route-map {industry.filter_name(c, v)}-IN in\n" in conf
            assert f"  neighbor {peer} maximum-prefix {c.max_prefix}\n" in conf
        vrp = industry_core(p, c, "huawei_vrp")
        assert vrp.count(" route-limit ") == len(peers) and f"as-number {c.asn}" in vrp


def test_ospf_attachment_filters_at_the_area_border(anhui_province: Province) -> None:
    p = anhui_province
    medical = next(c for c in p.industry if c.slug == "medical")
    conf = industry_core(p, medical, "frr")
    area = str(ipaddress.IPv4Address(medical.area))
    assert f" area {area} filter-list prefix IND-MEDICAL-V4 out" in conf and "router bgp" not in conf
    assert "  filter ip-prefix IND-MEDICAL-V4 export" in industry_core(p, medical, "huawei_vrp")


def test_attachment_intent_addresses_match_the_model(lab_province: Province) -> None:
    for c in lab_province.industry:
        doc = json.loads(industry.render(lab_province)[f"{c.slug}.json"])
        assert doc["cloud_router"]["asn"] == c.asn and doc["core"]["max_prefix"] == c.max_prefix
        assert doc["service_cidrs"] == [str(c.service_v4), str(c.service_v6)]
        assert [i["plane"] for i in doc["core"]["interfaces"]] == [link.plane for link in c.links if link.kind != "access"]


def test_ansible_and_noc_targets_only_for_managed_clouds(anhui_province: Province, lab_province: Province) -> None:
    inv = yaml.safe_load(ansible.render(anhui_province)["hosts.yaml"])["all"]["children"]
    managed = {c.slug for c in anhui_province.industry if c.exists}
    assert set(inv["industry_hosts"]["hosts"]) == managed
    assert set(inv["industry_routers"]["hosts"]) == {f"{s}-rt" for s in managed}
    assert len(inv["cloud_hosts"]["hosts"]) == 19 and not set(inv["routers"]["hosts"]) & set(inv["industry_routers"]["hosts"])
    prom = yaml.safe_load(prometheus.render(anhui_province)["province/nodes.yaml"])
    assert {g["labels"]["node"] for g in prom if g["labels"]["kind"] == "industry"} == managed
    # the lab: its lab_industry clouds in the industry groups, apart from the same 19 cloud hosts
    lab = yaml.safe_load(ansible.render(lab_province)["hosts.yaml"])["all"]["children"]
    lab_managed = {c.slug for c in lab_province.managed_industry()}
    assert lab_managed and set(lab["industry_hosts"]["hosts"]) == lab_managed and len(lab["cloud_hosts"]["hosts"]) == 19
    lab_prom = yaml.safe_load(prometheus.render(lab_province)["province/nodes.yaml"])
    assert {g["labels"]["node"] for g in lab_prom if g["labels"]["kind"] == "industry"} == lab_managed


# ---- the lab runs them (issue 13 item 3): indlab lists transport (eBGP, two planes) and education (OSPF)
@pytest.fixture(scope="module")
def indlab(repo_root) -> Province:
    from egovops.model import load_inventory

    return load_inventory(repo_root / "tests" / "fixtures" / "inventories" / "indlab")


def cloud(p: Province, slug: str) -> IndustryCloud:
    return next(c for c in p.industry if c.slug == slug)


def rendered(p: Province, router: str, vendor: str, keys: dict | None = None) -> str:
    from egovops.network.render import render_intent
    from egovops.render.intents import intent

    return render_intent(intent(p, p.router(router)), vendor, keys)


KEYS = {"ospf": "ProvOspfKey01", "ospf6": "ProvOspf6Key0123", "bgp": "ProvBgpKey012345", "key_id": 1}


def test_lab_manages_only_the_clouds_it_lists(indlab: Province, lab_province: Province, anhui_province: Province) -> None:
    assert [c.slug for c in indlab.managed_industry()] == ["transport", "education"]
    # inventories/lab: the clouds its lab_industry lists (in industry.yaml order), not the existing ones
    lab = [c.slug for c in lab_province.managed_industry()]
    assert set(lab) == set(lab_province.meta.lab_industry) and lab == sorted(lab, key=lambda s: cloud(lab_province, s).id)
    assert lab and set(lab) != {c.slug for c in lab_province.industry if c.exists}
    assert {c.slug for c in anhui_province.managed_industry()} == {c.slug for c in anhui_province.industry if c.exists}
    # the industry devices resolve by name like any router or host, but never join the 1+16 lists
    assert indlab.router("transport-rt").role == "industry" and indlab.node("education").kind == "industry"
    assert "transport-rt" not in {r.name for r in indlab.routers} and "education" not in {n.slug for n in indlab.nodes}


def test_core_config_filters_each_managed_cloud_both_vendors(indlab: Province) -> None:
    p = indlab
    frr, vrp = rendered(p, "province-rt", "frr"), rendered(p, "province-rt", "huawei_vrp")
    for c in p.managed_industry():
        own = [*c.accepted_prefixes, c.router.loopback.ipv4.network, c.router.loopback.ipv6.network]
        for prefix in own:
            assert accepted(frr, c, str(prefix)), (c.slug, prefix)
        for n in p.nodes:
            for prefix in (n.service_v4, n.service_v6, next(n.service_v4.subnets()), next(n.service_v6.subnets())):
                assert not accepted(frr, c, str(prefix)), (c.slug, prefix)
        for v, kw in ((4, "ip ip-prefix"), (6, "ip ipv6-prefix")):
            lines = [ln for ln in vrp.splitlines() if ln.startswith(f"{kw} {industry.filter_name(c, v)} ")]
            assert len(lines) == len([x for x in own if x.version == v]) + 1 and " deny " in lines[-1]
    t = cloud(p, "transport")
    for link in t.wan_links:
        for peer, v in ((str(link.b.address.ipv4.ip), 4), (str(link.b.address.ipv6.ip), 6)):
            assert f" neighbor {peer} remote-as {t.asn}\n" in frr and f" neighbor {peer} ttl-security hops 1\n" in frr
            assert f" neighbor {peer} password VAULT-BGP-KEY\n" in frr
            assert f"  neighbor {peer} route-map IND-TRANSPORT-V{v}-IN in\n" in frr
            assert f"  neighbor {peer} maximum-prefix {t.max_prefix}\n" in frr
            assert f"  peer {peer} route-policy IND-TRANSPORT-V{v}-IN import\n" in vrp
            assert f"  peer {peer} route-limit {t.max_prefix}\n" in vrp and f" peer {peer} as-number {t.asn}\n" in vrp
    e = cloud(p, "education")
    area = str(ipaddress.IPv4Address(e.area))
    for v, proto in ((4, "router ospf\n"), (6, "router ospf6\n")):
        block = frr.split(proto, 1)[1].split("\nexit\n", 1)[0]
        assert f" area {area} stub" in block and f" area {area} filter-list prefix IND-EDUCATION-V{v} out" in block
    assert f" area {area}\n  stub\n  filter ip-prefix IND-EDUCATION-V4 export\n" in vrp
    assert f" area {area}\n  stub\n  filter ipv6-prefix IND-EDUCATION-V6 export\n" in vrp
    assert "IND-EDUCATION-V4-IN" not in frr          # an OSPF cloud has no BGP session to filter


def test_cloud_routers_as_the_lab_plays_them(indlab: Province) -> None:
    p = indlab
    t, e = cloud(p, "transport"), cloud(p, "education")
    tr = rendered(p, "transport-rt", "frr")
    assert "router ospf" not in tr and f"router bgp {t.asn}\n" in tr
    out4 = [ln.split()[-1] for ln in tr.splitlines() if ln.startswith("ip prefix-list BGP-OUT-V4 ")]
    assert out4 == [str(t.service_v4), str(t.router.loopback.ipv4.network)]   # a well-behaved cloud: its own only
    ed = rendered(p, "education-rt", "frr")
    area = str(ipaddress.IPv4Address(e.area))
    assert "router bgp" not in ed and ed.count(f" area {area} stub\n") == 2
    assert "redistribute" not in ed


def test_each_cloud_gets_its_own_derived_keys(indlab: Province) -> None:
    from egovops.network import routing_keys

    p = indlab
    core = rendered(p, "province-rt", "frr", KEYS)
    t, e = cloud(p, "transport"), cloud(p, "education")
    kt, ke = routing_keys.industry_values(KEYS, "transport"), routing_keys.industry_values(KEYS, "education")
    assert kt == routing_keys.industry_values(KEYS, "transport") and kt["bgp"] != ke["bgp"]
    for f in ("ospf", "ospf6", "bgp"):
        routing_keys.check(f, str(kt[f]), "derived")          # within every key's domain
        assert kt[f] != KEYS[f] and str(KEYS[f]) not in str(kt[f])
    # the national uplink keeps the province's key; transport's sessions use transport's on both ends
    assert f"password {KEYS['bgp']}\n" in core
    peer = str(t.wan_links[0].b.address.ipv4.ip)
    assert f" neighbor {peer} password {kt['bgp']}\n" in core
    assert f"password {kt['bgp']}\n" in rendered(p, "transport-rt", "frr", KEYS)
    assert f"password {KEYS['bgp']}" not in rendered(p, "transport-rt", "frr", KEYS)
    # education's link: its OSPF keys on both ends, the province's nowhere on its router
    ed = rendered(p, "education-rt", "frr", KEYS)
    assert f"md5 {ke['ospf']}\n" in ed and f"md5 {ke['ospf']}\n" in core and str(KEYS["ospf"]) not in ed
    edge = core.split(f"interface {e.wan_links[0].a.ifname}\n", 1)[1].split("\nexit\n", 1)[0]
    assert f"key {ke['ospf6']}" in edge and str(KEYS["ospf6"]) not in edge
    assert all(routing_keys.mask_line(ln) != ln for ln in core.splitlines() if " password " in ln)


def test_lab_selection_and_net_targets(indlab: Province, anhui_province: Province) -> None:
    from egovops.lab.lifecycle import select
    from egovops.network.targets import expected_adjacencies
    from egovops.network.targets import select as net_select

    rs, hs = select(indlab, limit="city:hefei", industry=True)
    assert {"transport-rt", "education-rt"} <= set(rs) and {"transport", "education"} <= set(hs)
    assert not {"transport-rt", "education-rt"} & set(select(indlab, limit="city:hefei")[0])
    rs, hs = select(indlab, limit="transport", industry=True)   # a limit naming one cloud brings only it
    assert "transport-rt" in rs and "education-rt" not in rs and "transport" in hs
    want = expected_adjacencies(indlab, "province-rt", {"province-rt", "transport-rt", "education-rt"})
    t, e = cloud(indlab, "transport"), cloud(indlab, "education")
    assert {str(link.b.address.ipv6.ip) for link in t.wan_links} <= want["bgp"]
    assert f"{e.router.loopback.ipv4.ip}@{e.wan_links[0].a.ifname}" in want["ospf6"]
    # production: kind:industry selects the core (it carries the attachments); the clouds' routers are theirs
    sel = net_select(anhui_province, "kind:industry")
    assert sel.routers == ["province-rt"]
    assert set(sel.skipped) == {c.router.name for c in anhui_province.managed_industry()}


def test_net_render_covers_the_clouds_routers_in_vrp_grammar(anhui_province: Province, repo_root) -> None:
    """Production: `net render --limit kind:industry` gives the core and each existing cloud's router
    (the department's reference config), and every line is a VRP command of its view."""
    import io

    import textfsm

    from egovops.network.render import render_province

    grammar = (repo_root / "tests" / "fixtures" / "net" / "huawei_vrp.textfsm").read_text(encoding="utf-8")
    out = render_province(anhui_province, "huawei_vrp", "kind:industry")
    assert {r.router for r in out} == {"province-rt"} | {c.router.name for c in anhui_province.managed_industry()}
    for r in out:
        assert textfsm.TextFSM(io.StringIO(grammar)).ParseText(r.text) == [[r.router]]


def test_lab_up_industry_without_listed_clouds_is_bad_input(repo_root) -> None:
    """A lab that lists no cloud refuses --industry before touching anything (no root needed to see it)."""
    from egovops.lab import LabInputError, lab_up
    from egovops.model import load_inventory

    testlab = load_inventory(repo_root / "tests" / "fixtures" / "inventories" / "testlab")
    with pytest.raises(LabInputError, match="lists no industry cloud"):
        lab_up(testlab, industry=True)
