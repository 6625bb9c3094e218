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
    # the lab: no industry group, no industry target, the same 19 hosts
    lab = yaml.safe_load(ansible.render(lab_province)["hosts.yaml"])["all"]["children"]
    assert "industry_hosts" not in lab and len(lab["cloud_hosts"]["hosts"]) == 19
    lab_prom = yaml.safe_load(prometheus.render(lab_province)["province/nodes.yaml"])
    assert not [g for g in lab_prom if g["labels"]["kind"] == "industry"]
