"""Industry clouds in the model (issue 13): the production list, addressing, and every bad field.

Why: an industry cloud is an outside-managed network the province accepts routes and flows from;
each case below is a mistake that would otherwise open a path (a provincial prefix, a shared AS,
a provincial-only service outside the province). Each must exit 2 naming file, key and line.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from egovops.cli.main import cli
from egovops.model import InventoryError, load_inventory
from egovops.model.province import Province

pytestmark = pytest.mark.unit

LOGISTICS_ATTACH = "    attach: {planes: [data], routing: bgp, asn: 65101}\n"


def edit(inv: Path, fname: str, old: str, new: str) -> None:
    path = inv / fname
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {fname}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_production_lists_17_plus_the_ten_clouds(anhui_province: Province) -> None:
    p = anhui_province
    assert len(p.cloud_nodes) == 17 and len(p.industry) == 10
    assert {c.slug for c in p.industry} == {"logistics", "agri", "transport", "hrss", "medical", "education",
                                            "insurance", "finance", "natres", "radiotv"}
    assert all(c.zone == "extranet" and c.department_zh and c.department_en for c in p.industry)
    assert {c.slug for c in p.managed_industry()} == {c.slug for c in p.industry if c.exists}


def test_lab_keeps_the_1_plus_16_size(lab_province: Province) -> None:
    """The default lab/deploy stays 17 NOCs, 19 hosts, 122 routers: industry clouds are apart, even
    the ones the lab lists (lab_industry: managed, brought up only by lab up --industry)."""
    p = lab_province
    assert len(p.nodes) == 19 and len([r for r in p.routers if r.is_ours]) == 122
    managed = [c.slug for c in p.managed_industry()]
    assert len(p.industry) == 10 and managed and set(managed) == set(p.meta.lab_industry)
    assert set(managed) != {c.slug for c in p.industry if c.exists}      # the lab's own choice, not production's
    assert not {c.router.name for c in p.industry} & {r.name for r in p.routers}
    assert not {c.slug for c in p.industry} & {n.slug for n in p.nodes}


def test_industry_addresses_are_disjoint_from_the_plan(lab_province: Province) -> None:
    p = lab_province
    taken: list = []
    for n in p.nodes:
        taken += [n.service_v4, n.service_v6]
    for r in p.routers:
        taken += [r.loopback.ipv4.network, r.loopback.ipv6.network, r.management.ipv4.ip, r.management.ipv6.ip]
    for link in p.links:
        taken += [link.a.address.ipv4.network, link.a.address.ipv6.network]
    for c in p.industry:
        mine = [c.service_v4, c.service_v6, c.router.loopback.ipv4.network, c.router.loopback.ipv6.network]
        mine += [link.a.address.ipv4.network for link in c.links if link.kind != "access"]
        for m in mine:
            for t in taken:
                if isinstance(t, (ipaddress.IPv4Network, ipaddress.IPv6Network)) and t.version == m.version:
                    assert not t.overlaps(m), (c.slug, m, t)
        for a in (c.router.management.ipv4.ip, c.router.management.ipv6.ip, c.management.ipv4.ip):
            assert a not in taken, (c.slug, a)
        taken += mine + [c.router.management.ipv4.ip, c.router.management.ipv6.ip, c.management.ipv4.ip]
        assert c.service_v4.subnet_of(ipaddress.ip_network("198.18.0.0/15"))
        assert c.service_v6.subnet_of(ipaddress.ip_network("fd00::/8"))


def _snapshot(p: Province) -> dict[str, tuple]:
    return {c.slug: (c.service_v4, c.service_v6, c.router.loopback, c.router.management, c.management,
                     tuple((link.name, link.a.address, link.b.address) for link in c.links)) for c in p.industry}


def test_adding_a_cloud_renumbers_nothing(flat_lab: Path) -> None:
    before = load_inventory(flat_lab)
    new = ("  - id: 11\n    slug: water\n    name_zh: 水利云\n    name_en: Water cloud\n    department: natres\n"
           "    exists: false\n    attach: {planes: [data, video], routing: bgp, asn: 65111}\n    consumes: [identity]\n")
    (flat_lab / "industry.yaml").write_text((flat_lab / "industry.yaml").read_text(encoding="utf-8") + new, encoding="utf-8")
    after = load_inventory(flat_lab)
    old, now = _snapshot(before), _snapshot(after)
    assert set(now) == set(old) | {"water"}
    assert {k: now[k] for k in old} == old
    assert (before.nodes, before.routers, before.links) == (after.nodes, after.routers, after.links)


def test_removing_a_cloud_renumbers_nothing(flat_lab: Path) -> None:
    before = _snapshot(load_inventory(flat_lab))
    text = (flat_lab / "industry.yaml").read_text(encoding="utf-8")
    start = text.index("  - id: 2\n")
    (flat_lab / "industry.yaml").write_text(text[:start] + text[text.index("  - id: 3\n"):], encoding="utf-8")
    after = _snapshot(load_inventory(flat_lab))
    assert after == {k: v for k, v in before.items() if k != "agri"}


# (name, file, old, new, problem path, kind, message regex part)
BAD = [
    ("unknown-department", "industry.yaml", "    department: commerce\n", "    department: commerse\n",
     "clouds[0].department", "unknown-ref", "unknown department 'commerse'"),
    ("attach-missing", "industry.yaml", LOGISTICS_ATTACH, "", "clouds[0].attach", "missing-key", "'attach' is missing"),
    ("hosts-provincial-only", "industry.yaml", "    hosts: [logistics]\n", "    hosts: [logistics, case-db]\n",
     "clouds[0].hosts[1]", "placement", "provincial-only"),
    ("hosts-unknown-service", "industry.yaml", "    hosts: [logistics]\n", "    hosts: [logistix]\n",
     "clouds[0].hosts[0]", "unknown-ref", "unknown service 'logistix'"),
    ("consumes-city-only", "industry.yaml", "asn: 65102}\n    consumes: [identity, data-exchange",
     "asn: 65102}\n    consumes: [identity, bigdata-sub", "clouds[1].consumes[1]", "placement", "hosting C"),
    ("duplicate-asn", "industry.yaml", "routing: bgp, asn: 65102}", "routing: bgp, asn: 65101}",
     "clouds[1].attach.asn", "duplicate-asn", "duplicate asn 65101"),
    ("asn-of-the-province", "industry.yaml", "routing: bgp, asn: 65102}", "routing: bgp, asn: 65034}",
     "clouds[1].attach.asn", "duplicate-asn", "province's own ASN"),
    ("bgp-without-asn", "industry.yaml", "routing: bgp, asn: 65102}", "routing: bgp}",
     "clouds[1].attach", "missing-key", "needs the cloud's own asn"),
    ("public-asn", "industry.yaml", "routing: bgp, asn: 65102}", "routing: bgp, asn: 4134}",
     "clouds[1].attach.asn", "invalid", "greater than or equal to 64512"),
    ("ospf-without-area", "industry.yaml", "routing: ospf, area: 101}", "routing: ospf}",
     "clouds[4].attach", "missing-key", "own area"),
    ("ospf-city-area", "industry.yaml", "routing: ospf, area: 101}", "routing: ospf, area: 10}",
     "clouds[4].attach.area", "routing", "city 'chuzhou'"),
    ("prefix-overlaps-plan", "industry.yaml", LOGISTICS_ATTACH, LOGISTICS_ATTACH + "    prefixes: [198.18.130.0/24]\n",
     "clouds[0].prefixes[0]", "overlap", "overlaps the address plan's 198.18.128.0/17"),
    ("prefix-overlaps-industry-lan", "industry.yaml", LOGISTICS_ATTACH, LOGISTICS_ATTACH + "    prefixes: [198.18.16.0/24]\n",
     "clouds[0].prefixes[0]", "overlap", "overlaps the address plan's 198.18.16.0/20"),
    ("prefixes-overlap-each-other", "industry.yaml", "routing: bgp, asn: 65102}\n",
     "routing: bgp, asn: 65102}\n    prefixes: [198.19.240.0/24, 198.19.240.128/25]\n",
     "clouds[1].prefixes[1]", "overlap", "overlaps 198.19.240.0/24"),
    ("prefix-outside-lab", "industry.yaml", LOGISTICS_ATTACH, LOGISTICS_ATTACH + "    prefixes: [10.60.0.0/16]\n",
     "clouds[0].prefixes[0]", "lab-range", "outside the lab ranges"),
    ("zone-internet", "industry.yaml", LOGISTICS_ATTACH, LOGISTICS_ATTACH + "    zone: internet\n",
     "clouds[0].zone", "choice", "'extranet'"),
    ("duplicate-id", "industry.yaml", "  - id: 2\n", "  - id: 1\n", "clouds[1].id", "duplicate-id", "duplicate industry cloud id 1"),
    ("slug-is-a-city", "industry.yaml", "    slug: agri\n", "    slug: hefei\n", "clouds[1].slug", "name-collision", "'hefei'"),
    ("slug-too-long", "industry.yaml", "    slug: agri\n", "    slug: agriculturex\n", "clouds[1].slug", "invalid",
     "at most 11 characters"),
    ("id-beyond-plan", "industry.yaml", "  - id: 2\n", "  - id: 63\n", "clouds[1].id", "invalid", "less than or equal to 62"),
    ("unknown-dr-tier", "industry.yaml", "    dr_tier: system\n", "    dr_tier: gold\n", "clouds[3].dr_tier", "unknown-ref", "'gold'"),
    ("repeated-plane", "industry.yaml", "{planes: [data], routing: bgp, asn: 65102}", "{planes: [data, data], routing: bgp, asn: 65102}",
     "clouds[1].attach.planes", "topology", "must not repeat"),
    ("department-not-bilingual", "industry.yaml", ", name_en: Anhui Provincial Radio and Television Administration}", "}",
     "departments.radiotv.name_en", "missing-key", "'name_en' is missing"),
    ("industry-supernet-overlaps", "addressing.yaml", "  industry: 198.18.16.0/20\n", "  industry: 198.18.128.0/20\n",
     "ipv4.industry", "overlap", "overlaps service"),
    ("industry-supernet-one-family", "addressing.yaml", "  industry: fd00:34:2::/56\n", "",
     "ipv6", "missing-key", "no industry supernet"),
    ("call-unknown-level-service", "zones.yaml", '{from: "city:bigdata-sub", to: "province:bigdata-master"',
     '{from: "city:bigdata-master", to: "province:bigdata-master"', "calls[2].from", "placement", "does not run at the city level"),
    ("lab-industry-unknown", "inventory.yaml", "\nlab_industry: [", "\nlab_industry: [transport, nosuch, ",
     "lab_industry[1]", "unknown-ref", "unknown industry cloud 'nosuch'"),
    ("lab-industry-twice", "inventory.yaml", "\nlab_industry: [", "\nlab_industry: [transport, transport, ",
     "lab_industry[1]", "duplicate-slug", "listed twice"),
    ("lab-industry-in-production", "inventory.yaml", "environment: lab\n", "environment: production\n",
     "lab_industry[0]", "environment", "for lab inventories"),
    ("call-same-level", "zones.yaml", '{from: "city:identity", to: "province:identity"',
     '{from: "city:identity", to: "city:identity"', "calls[5]", "topology", "joins two levels"),
]


@pytest.mark.parametrize("name,fname,old,new,path,kind,message", BAD, ids=[b[0] for b in BAD])
def test_bad_industry_field_is_named_and_nothing_written(flat_lab: Path, tmp_path: Path, name: str, fname: str, old: str,
                                                         new: str, path: str, kind: str, message: str) -> None:
    edit(flat_lab, fname, old, new)
    with pytest.raises(InventoryError) as err:
        load_inventory(flat_lab)
    hits = [p for p in err.value.problems if p.path == path and p.kind == kind and message in p.message]
    assert hits, f"expected {kind} at {fname} {path!r} ~ {message!r}; got:\n" + "\n".join(map(str, err.value.problems))
    prob = hits[0]
    assert Path(prob.file).name == fname and prob.hint
    assert prob.line is not None and prob.line >= 1
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["inventory", "render", "--inventory", str(flat_lab), "--out", str(out), "--json"])
    assert res.exit_code == 2, res.output
    doc = json.loads(res.stdout)
    assert doc["ok"] is False and any(p["path"] == path for p in doc["problems"])
    assert not out.exists()


def test_validate_json_counts_industry(repo_root: Path) -> None:
    res = CliRunner().invoke(cli, ["inventory", "validate", "--inventory", str(repo_root / "inventories" / "anhui"), "--json"])
    assert res.exit_code == 0, res.output
    s = json.loads(res.stdout)["summary"]
    assert s["cloud_nodes"] + s["industry_clouds"]["listed"] == 27
    assert s["industry_clouds"] == {"listed": 10, "existing": 4, "managed": 4}
