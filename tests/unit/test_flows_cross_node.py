"""Cross-node flows (issue 13): the calls the plans require become NetworkPolicy ipBlocks, nothing else.

Why: before, every peer was a namespaceSelector, so a city sub-platform could not reach the
provincial master platform at all; opening "the extranet" wholesale would allow everything. These
tests pin both sides: each catalogue call is an ipBlock of exactly the other node's service LANs
(both families) on the called service's port, and calls not in the catalogue get no ipBlock.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from egovops.model.province import Province
from egovops.render.pulumi_config import stack_config
from egovops.stacks import flows
from egovops.stacks.config import StackConfig, parse

pytestmark = pytest.mark.unit


def cfg(p: Province, node: str) -> StackConfig:
    return parse(stack_config(p, p.node(node))["config"])


def blocks(rules: list[dict[str, Any]], key: str) -> dict[str, set[int]]:
    """ipBlock cidr -> ports, over every rule."""
    out: dict[str, set[int]] = {}
    for r in rules:
        for peer in r[key]:
            if "ipBlock" in peer:
                out.setdefault(peer["ipBlock"]["cidr"], set()).update(p["port"] for p in r["ports"])
    return out


def svc(c: StackConfig, slug: str):
    return next(s for s in c.services if s.slug == slug)


def lans(p: Province, *nodes: str) -> set[str]:
    return {str(n) for s in nodes for n in (p.node(s).service_v4, p.node(s).service_v6)}


def test_city_sub_platform_reaches_the_master_platform_both_families(lab_province: Province) -> None:
    p = lab_province
    hefei = cfg(p, "hefei")
    eg = blocks(flows.egress_rules(svc(hefei, "bigdata-sub"), hefei), "to")
    master = next(s for s in p.services if s.slug == "bigdata-master")
    assert {c: ports for c, ports in eg.items() if c in lans(p, "province")} == {c: {master.port} for c in lans(p, "province")}
    prov = cfg(p, "province")
    ing = blocks(flows.ingress_rules(svc(prov, "bigdata-master"), prov), "from")
    city_lans = lans(p, *(c.slug for c in p.cities))
    assert city_lans <= set(ing) and len(city_lans) == 32
    assert {ipaddress.ip_network(c).version for c in ing} == {4, 6}


def test_every_catalogue_call_is_rendered_on_both_ends(lab_province: Province) -> None:
    p = lab_province
    assert p.calls, "zones.yaml lists the calls the plans require"
    prov = cfg(p, "province")
    for call in p.calls:
        (sl, _, ss), (_, _, ds) = call.from_.partition(":"), call.to.partition(":")
        for city in p.cities:
            c = cfg(p, city.slug)
            src_cfg, dst_cfg, src_node, dst_node = (c, prov, city.slug, "province") if sl == "city" else (prov, c, "province", city.slug)
            eg = blocks(flows.egress_rules(svc(src_cfg, ss), src_cfg), "to")
            ing = blocks(flows.ingress_rules(svc(dst_cfg, ds), dst_cfg), "from")
            assert lans(p, dst_node) <= set(eg), (call, city.slug)
            assert lans(p, src_node) <= set(ing), (call, city.slug)


def test_calls_not_in_the_catalogue_get_no_ip_block(lab_province: Province) -> None:
    """portal (internet zone) and payment: no cross-node call, so no other node's LAN appears."""
    p = lab_province
    all_lans = lans(p, *(n.slug for n in p.nodes))
    hefei = cfg(p, "hefei")
    assert not set(blocks(flows.egress_rules(svc(hefei, "portal"), hefei), "to")) & all_lans
    # bigdata-sub calls the master platform, never the provincial case database's port... on another service
    assert not set(blocks(flows.egress_rules(svc(hefei, "e-seal"), hefei), "to")) & all_lans
    prov = cfg(p, "province")
    for slug in ("payment", "item-mgmt", "portal"):
        assert not set(blocks(flows.ingress_rules(svc(prov, slug), prov), "from")) & all_lans, slug
    # a city never gets an ipBlock of another city (city-to-city is not in the plans)
    anqing = lans(p, "anqing")
    for s in hefei.services:
        assert not set(blocks(flows.egress_rules(s, hefei), "to")) & anqing, s.slug


def test_industry_cloud_reaches_only_what_it_consumes(anhui_province: Province, lab_province: Province) -> None:
    p = anhui_province
    prov = cfg(p, "province")
    hrss = next(c for c in p.industry if c.slug == "hrss")
    agri = next(c for c in p.industry if c.slug == "agri")   # exists: false -> not managed yet
    cloud_lans = {str(hrss.service_v4), str(hrss.service_v6)}
    for s in prov.services:
        ing = set(blocks(flows.ingress_rules(s, prov), "from"))
        assert (cloud_lans <= ing) == (s.slug in hrss.consumes), s.slug
        assert not ing & {str(agri.service_v4), str(agri.service_v6)}
    # the lab manages the clouds it lists (lab_industry): their LANs where they consume, no other cloud's
    lab_prov = cfg(lab_province, "province")
    managed = {c.slug for c in lab_province.managed_industry()}
    assert managed and managed != {c.slug for c in lab_province.industry if c.exists}
    for c in lab_province.industry:
        lans = {str(c.service_v4), str(c.service_v6)}
        for s in lab_prov.services:
            ing = set(blocks(flows.ingress_rules(s, lab_prov), "from"))
            assert (lans <= ing) == (c.slug in managed and s.slug in c.consumes), (c.slug, s.slug)
            assert lans <= ing or not lans & ing, (c.slug, s.slug)


def test_cross_node_config_round_trips_and_rejects_a_bad_direction(lab_province: Province) -> None:
    raw = stack_config(lab_province, lab_province.node("hefei"))["config"]
    c = parse(raw)
    assert len(c.cross_node) == len(raw["egovops:crossNode"]) > 0
    bad = dict(raw)
    bad["egovops:crossNode"] = [{**raw["egovops:crossNode"][0], "direction": "sideways"}]
    from egovops.stacks.config import ConfigError
    with pytest.raises(ConfigError):
        parse(bad)
