"""The dual-stack address plan: no overlaps, inside the supernets, stable under additions.

Why: router configs, host networks and firewall rules are all derived from this plan. An overlap
is an outage; a renumbering caused by adding a county would touch every router in the province.
The property tests build provinces from random subsets and supersets of the real counties and
nodes (hypothesis) through the loader's own validation and resolution, then compare addresses.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from egovops.model import Province, load, load_inventory, schema
from egovops.model import addressing as plan
from egovops.model.checks import ports as vrp_ids

pytestmark = pytest.mark.unit

LAB = Path(__file__).resolve().parents[2] / "inventories" / "lab"
PROPERTY = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@lru_cache(maxsize=1)
def _lab_parsed() -> dict[str, Any]:
    """The lab's files parsed by the loader once; examples vary counties/nodes/pairs from there."""
    col = load._Collector(LAB)
    parsed = load._parse(col, load._resolve_files(LAB, col))
    assert not col.problems, col.problems
    return parsed


def _lab_counties() -> list[tuple[str, int]]:
    cf: schema.CountiesFile = _lab_parsed()["counties.yaml"]
    return sorted((city, c.id) for city, cs in cf.counties.items() for c in cs)


def build(counties: Iterable[tuple[str, int]], new_cities: Iterable[int] = (), new_dr: Iterable[int] = ()) -> Province:
    """Resolve the lab province with exactly ``counties`` ((city, id); unknown ids get new slugs),
    plus new city nodes (paired with each other for DR) and new DR sites, through load._build."""
    base = _lab_parsed()
    known = {(city, c.id): c for city, cs in base["counties.yaml"].counties.items() for c in cs}
    nodes = [n.model_dump() for n in base["nodes.yaml"].nodes]
    cities = [n["slug"] for n in nodes if n["kind"] == "city"]
    new_city_slugs = []
    for i in sorted(new_cities):
        slug = f"newcity{i}"
        nodes.append({"id": i, "slug": slug, "name_zh": slug, "name_en": slug, "kind": "city"})
        new_city_slugs.append(slug)
    for i in sorted(new_dr):
        nodes.append({"id": i, "slug": f"dr{i}", "name_zh": "灾备", "name_en": f"DR {i}", "kind": "dr"})
    by_city: dict[str, list[dict]] = {c: [] for c in cities + new_city_slugs}
    for city, cid in sorted(set(counties)):
        c = known.get((city, cid))
        by_city[city].append(c.model_dump() if c else {"id": cid, "slug": f"new{cid}", "name_zh": f"新{cid}"})
    dr = base["dr.yaml"].model_dump()
    dr["city_pairs"] = dr["city_pairs"] + [new_city_slugs[i:i + 2] for i in range(0, len(new_city_slugs) - 1, 2)]
    parsed = dict(base)
    parsed["nodes.yaml"] = schema.NodesFile.model_validate({"nodes": nodes})
    parsed["counties.yaml"] = schema.CountiesFile.model_validate({"counties": by_city})
    parsed["dr.yaml"] = schema.DrFile.model_validate(dr)
    col = load._Collector(LAB)
    p = load._build(col, LAB, parsed)
    assert p is not None and not col.problems, "\n".join(map(str, col.problems))
    return p


def addresses(p: Province) -> dict[str, str]:
    """Every address the plan gives out, keyed by a stable name of what holds it."""
    out: dict[str, str] = {}
    for r in p.routers:
        for fam in ("ipv4", "ipv6"):
            out[f"router {r.name} loopback {fam}"] = str(getattr(r.loopback, fam))
            out[f"router {r.name} management {fam}"] = str(getattr(r.management, fam))
    for link in p.links:
        for end in (link.a, link.b):
            for fam in ("ipv4", "ipv6"):
                out[f"link {link.name} {end.device}:{end.ifname} {fam}"] = str(getattr(end.address, fam))
    for n in p.nodes:
        out[f"node {n.slug} lan"] = f"{n.service_v4} {n.service_v6}"
        out[f"node {n.slug} address"] = f"{n.address.ipv4} {n.address.ipv6}"
        out[f"node {n.slug} management"] = f"{n.management.ipv4} {n.management.ipv6}"
    return out


def assert_plan_sound(p: Province) -> None:
    """No two allocations overlap, and each lies inside the supernet of its purpose."""
    s = p.supernets
    for version, fam in ((4, "ipv4"), (6, "ipv6")):
        nets = s.by_family(version)
        loops = [getattr(r.loopback, fam) for r in p.routers]
        assert all(i.network.prefixlen == i.max_prefixlen for i in loops), "loopbacks are host routes"
        assert len({i.ip for i in loops}) == len(loops), f"duplicate {fam} loopback"
        assert all(i.ip in nets["loopback"] for i in loops)

        p2p = [lk for lk in p.links if lk.kind != "access"]
        p2p_nets = [getattr(lk.a.address, fam).network for lk in p2p]
        assert all(n.prefixlen == n.max_prefixlen - 1 for n in p2p_nets), "p2p links are /31 and /127"
        assert len(set(p2p_nets)) == len(p2p_nets), f"two {fam} p2p links share a prefix"  # equal-size blocks
        for lk in p2p:
            a, b = getattr(lk.a.address, fam), getattr(lk.b.address, fam)
            assert a.network == b.network and a.ip != b.ip, lk.name
            assert a.ip in nets["p2p"] and b.ip in nets["p2p"], lk.name
        lans = [getattr(n, "service_v4" if version == 4 else "service_v6") for n in p.nodes]
        assert len(set(lans)) == len(lans), f"two nodes share a {fam} service LAN"
        assert all(lan.subnet_of(nets["service"]) for lan in lans)
        for n in p.nodes:
            lan = getattr(n, "service_v4" if version == 4 else "service_v6")
            assert getattr(n.address, fam).ip in lan and getattr(n.gateway, fam).ip in lan
            assert getattr(n.address, fam).ip != getattr(n.gateway, fam).ip

        # across purposes: nothing from one family's categories falls into another's allocations
        p2p_set = set(p2p_nets)
        lan_set = set(lans)
        for i in loops:
            assert ipaddress.ip_network(i.ip).supernet(new_prefix=i.max_prefixlen - 1) not in p2p_set
            assert not any(i.ip in lan for lan in lan_set)
        assert not any(n.overlaps(lan) for n in p2p_set for lan in lan_set)

        mgmt = [getattr(r.management, fam).ip for r in p.routers] + [getattr(n.management, fam).ip for n in p.nodes]
        mgmt.append(getattr(p.noc.controller, fam).ip)
        assert len(set(mgmt)) == len(mgmt), f"duplicate {fam} management address"
        assert all(a in nets["management"] for a in mgmt)


@pytest.mark.parametrize("which", ["lab_province", "anhui_province"])
def test_real_plans_are_sound(which: str, request: pytest.FixtureRequest) -> None:
    assert_plan_sound(request.getfixturevalue(which))


def test_loading_twice_gives_identical_plans() -> None:
    """The same inventory always yields the same plan (no dict/set ordering or time dependence)."""
    a, b = load_inventory(LAB), load_inventory(LAB)
    assert a == b
    assert addresses(a) == addresses(b)
    assert [r.name for r in a.routers] == [r.name for r in b.routers]


def test_build_helper_reproduces_the_lab(lab_province: Province) -> None:
    """The property tests' builder, given the lab's own counties, yields the lab's plan."""
    assert addresses(build(_lab_counties())) == addresses(lab_province)


COUNTY_KEYS = _lab_counties()
CITY_SLUGS = sorted({c for c, _ in COUNTY_KEYS})
# the ids validation accepts: the plan holds counties 1..126 and nodes 0..126, the 48-port VRP card
# fewer (ports are numbered by these ids: egovops.model.checks.ports)
MAX_COUNTY = vrp_ids.largest_id(vrp_ids.county_ports(plan.PLANES, "x"), vrp_ids.ids_of(schema.CountySpec))
MAX_NODE = vrp_ids.largest_id(vrp_ids.node_ports, vrp_ids.ids_of(schema.NodeSpec))


@st.composite
def growth(draw: st.DrawFn) -> tuple[list, list, list, list]:
    """A province (random subset of the real counties) and additions to it (new ids only)."""
    kept = draw(st.lists(st.sampled_from(COUNTY_KEYS), unique=True, max_size=len(COUNTY_KEYS)))
    used = {(c, i) for c, i in COUNTY_KEYS}
    new = draw(st.lists(st.tuples(st.sampled_from(CITY_SLUGS), st.integers(1, MAX_COUNTY)), max_size=12, unique=True))
    new = [k for k in new if k not in used]
    new_cities = draw(st.lists(st.integers(19, 30), unique=True, max_size=4))
    new_city_counties = [(f"newcity{i}", k) for i in new_cities for k in draw(st.sets(st.integers(1, MAX_COUNTY), max_size=3))]
    new_dr = draw(st.lists(st.integers(31, MAX_NODE), unique=True, max_size=3))
    return kept, new + new_city_counties, new_cities, new_dr


@PROPERTY
@given(growth())
def test_additions_never_change_existing_addresses(g: tuple[list, list, list, list]) -> None:
    """Adding counties, cities or DR sites leaves every existing address exactly as it was."""
    kept, added_counties, new_cities, new_dr = g
    paired = new_cities[: len(new_cities) // 2 * 2]  # cities must come in DR pairs
    added_counties = [k for k in added_counties if not k[0].startswith("newcity") or int(k[0][7:]) in paired]
    small = build(kept)
    big = build(kept + added_counties, paired, new_dr)
    before, after = addresses(small), addresses(big)
    changed = {k: (v, after.get(k)) for k, v in before.items() if after.get(k) != v}
    assert not changed, f"renumbered: {dict(list(changed.items())[:5])}"
    assert len(after) - len(before) >= 0
    assert_plan_sound(big)


@PROPERTY
@given(st.lists(st.sampled_from(COUNTY_KEYS), unique=True, min_size=1))
def test_removing_counties_keeps_the_rest(kept: list) -> None:
    """A province with fewer counties is the full plan with entries left out, never renumbered."""
    full = _full_addresses()
    province = build(kept)
    part = addresses(province)
    assert all(full[k] == v for k, v in part.items())
    assert_plan_sound(province)


@lru_cache(maxsize=1)
def _full_addresses() -> dict[str, str]:
    return addresses(build(COUNTY_KEYS))


@PROPERTY
@given(st.integers(0, 2 ** 16), st.integers(1, 126), st.sampled_from(plan.PLANES))
def test_p2p_pairs_are_adjacent_and_aligned(index: int, county: int, plane: str) -> None:
    """Each link index maps to its own aligned /31 and /127; neighbouring indexes never share one."""
    for net in (ipaddress.ip_network("198.16.0.0/14"), ipaddress.ip_network("fd00::/64")):
        a, b = plan.p2p_pair(net, index)
        c, _ = plan.p2p_pair(net, index + 1)
        assert a.network == b.network and int(a.ip) % 2 == 0 and int(b.ip) == int(a.ip) + 1
        assert not a.network.overlaps(c.network)
    slot = plan.county_link_slot(county, plane)
    assert 2 <= slot < plan.LINK_SLOTS_PER_SITE
    others = {plan.county_link_slot(k, p) for k in range(1, 127) for p in plan.PLANES} - {slot}
    assert slot not in others and slot not in {plan.uplink_slot(p) for p in plan.PLANES}


def test_capacity_errors_instead_of_wrapping() -> None:
    """An index beyond a supernet raises PlanCapacityError rather than spilling into the next block."""
    net = ipaddress.ip_network("198.18.0.0/24")
    assert str(plan.address(net, 255)) == "198.18.0.255/32"
    with pytest.raises(plan.PlanCapacityError):
        plan.address(net, 256)
    with pytest.raises(plan.PlanCapacityError):
        plan.p2p_pair(net, 128)
    with pytest.raises(plan.PlanCapacityError):
        plan.service_lan(ipaddress.ip_network("198.18.0.0/25"), 0)
    with pytest.raises(plan.PlanCapacityError):
        plan.device_index(plan.MAX_SITES, 1)
