"""Onboarding a new industry cloud is one inventory entry (issue 13 item 2).

Why: unified management (统一纳管) means the province derives for a new cloud everything it derives
for the existing ones — router configuration, NOC targets, a stack, a waivers path — from one entry
in industry.yaml, and that adding it changes nothing that already exists: no address, id, file or
entry of the other 27 nodes and clouds moves. The test adds an 11th cloud to a copy of the
production inventory and compares every rendered artefact before and after.
"""

from __future__ import annotations

import difflib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from egovops.cli.main import cli
from egovops.compliance import industry as industry_waivers
from egovops.compliance.catalogue import load as load_catalogue
from egovops.model import Province, load_inventory
from egovops.network.render import VENDORS, render_province
from egovops.render import render_all
from egovops.stacks import config as sc
from egovops.stacks import preview

pytestmark = pytest.mark.unit

ANHUI = Path(__file__).resolve().parents[2] / "inventories" / "anhui"
ENTRY = """  - id: 11
    slug: water
    name_zh: 水利云
    name_en: Water resources cloud
    department: natres
    exists: true
    attach: {planes: [data], routing: bgp, asn: 65111}
    consumes: [identity, e-licence]
"""
# a cloud whose slug sorts before every interface name of the core (agri-d, anqing-d, ...) and that
# takes both planes: a positional port allocation would shift every existing port of province-rt
FIRST = """  - id: 12
    slug: aerodrome
    name_zh: 机场云
    name_en: Airport cloud
    department: transport
    exists: true
    attach: {planes: [data, video], routing: bgp, asn: 65112}
    consumes: [identity]
"""
# files that list every managed cloud, so they gain the new one's entries (and lose nothing)
GROWS = {"ansible/hosts.yaml", "prometheus/province/nodes.yaml", "prometheus/province/routers.yaml",
         "pulumi/Pulumi.province.yaml", "intents/province-rt.json", ".egovops-rendered"}
# prometheus/province/routers.yaml: the provincial NOC scrapes each managed cloud's router (c3feedf)


# free text that names a rule's sources ("catalogue calls ... from 20 node(s): ..."): it grows with them
DESCRIPTIVE = {"why"}


def missing(old: Any, new: Any, at: str = "") -> str | None:
    """Where something of ``old`` is not in ``new`` unchanged (mappings key by key, lists element by
    element), or None when ``new`` holds all of ``old``."""
    if isinstance(old, dict):
        if not isinstance(new, dict):
            return at or "."
        for k, v in old.items():
            if k not in new:
                return f"{at}.{k} (gone)"
            if k in DESCRIPTIVE and isinstance(v, str) and isinstance(new[k], str):
                continue
            where = missing(v, new[k], f"{at}.{k}")
            if where:
                return where
        return None
    if isinstance(old, list):
        if not isinstance(new, list):
            return at or "."
        for i, o in enumerate(old):
            if all(missing(o, n) for n in new):
                return f"{at}[{i}] = {o!r:.120}"
        return None
    return None if old == new else f"{at}: {old!r:.80} -> {new!r:.80}"


def parse(name: str, text: str) -> Any:
    return json.loads(text) if name.endswith(".json") else yaml.safe_load(text)


@pytest.fixture(scope="module")
def onboarded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Province, Province, Path]:
    inv = Path(shutil.copytree(ANHUI, tmp_path_factory.mktemp("onboard") / "anhui"))
    before = load_inventory(inv)
    path = inv / "industry.yaml"
    path.write_text(path.read_text(encoding="utf-8") + ENTRY, encoding="utf-8")   # the one entry
    return before, load_inventory(inv), inv


@pytest.fixture(scope="module")
def onboarded_first(tmp_path_factory: pytest.TempPathFactory) -> tuple[Province, Province]:
    inv = Path(shutil.copytree(ANHUI, tmp_path_factory.mktemp("onboard-first") / "anhui"))
    before = load_inventory(inv)
    path = inv / "industry.yaml"
    path.write_text(path.read_text(encoding="utf-8") + FIRST, encoding="utf-8")
    return before, load_inventory(inv)


def test_the_entry_validates_and_is_managed(onboarded: tuple[Province, Province, Path]) -> None:
    _, after, inv = onboarded
    assert [c.slug for c in after.managed_industry()][-1] == "water"
    res = CliRunner().invoke(cli, ["inventory", "validate", "--inventory", str(inv), "--json"])
    assert res.exit_code == 0, res.output
    s = json.loads(res.stdout)["summary"]
    assert (s["cloud_nodes"], s["industry_clouds"]) == (17, {"listed": 11, "existing": 5, "managed": 5})


def test_nothing_existing_is_renumbered(onboarded: tuple[Province, Province, Path]) -> None:
    before, after, _ = onboarded
    assert (before.nodes, before.routers, before.links, before.counties) == (after.nodes, after.routers, after.links,
                                                                           after.counties)
    assert after.industry[:10] == before.industry                      # ids, addresses, routers, links: all equal
    water = after.industry[10]
    taken = {str(a) for c in before.industry for a in (c.service_v4, c.service_v6, c.management.ipv4, c.router.loopback.ipv4)}
    assert not {str(a) for a in (water.service_v4, water.service_v6, water.management.ipv4, water.router.loopback.ipv4)} & taken


def test_every_existing_artefact_is_unchanged_or_only_grows(onboarded: tuple[Province, Province, Path]) -> None:
    before, after, _ = onboarded
    old, new = render_all(before), render_all(after)
    assert set(old) <= set(new)
    changed = {f for f in old if old[f] != new[f]}
    assert changed <= GROWS, changed - GROWS
    for f in changed - {".egovops-rendered"}:
        assert missing(parse(f, old[f]), parse(f, new[f])) is None, (f, missing(parse(f, old[f]), parse(f, new[f])))
    added = set(new) - set(old)
    assert added == {"industry/water.json", "pulumi/Pulumi.water.yaml"}


def test_the_new_cloud_gets_router_config_noc_targets_stack_and_waivers(onboarded: tuple[Province, Province, Path]) -> None:
    _, after, inv = onboarded
    water = after.industry[10]
    files = render_all(after)
    # router configuration: the core's attachment (filter, eBGP with its AS, max-prefix) in the production vendor
    (core,) = render_province(after, "huawei_vrp", "province-rt")
    assert "IND-WATER-V4" in core.text and "IND-WATER-V6" in core.text and "65111" in core.text
    attach = json.loads(files["industry/water.json"])
    assert attach["cloud_router"]["asn"] == 65111
    # the provincial NOC scrapes its host in both families
    targets = yaml.safe_load(files["prometheus/province/nodes.yaml"])
    (t,) = [t for t in targets if t["labels"]["node"] == "water"]
    assert t["labels"]["kind"] == "industry"
    assert t["targets"] == [f"{water.management.ipv4.ip}:9100", f"[{water.management.ipv6.ip}]:9100"]
    # its stack: kind industry, calls exactly the consumed provincial services; previews clean offline
    raw = yaml.safe_load(files["pulumi/Pulumi.water.yaml"])["config"]
    cfg = sc.parse(raw)
    assert cfg.kind == "industry" and cfg.industry is not None
    assert [c.service for c in cfg.industry.calls] == ["identity", "e-licence"]
    rep = preview.preview_stack("water", preview.rendered_configs(after, ["water"])["water"])
    assert rep.ok, (rep.error, rep.violations, rep.schema_problems)
    # and the province admits it: ingress to identity and e-licence from its LANs
    prov = sc.parse(yaml.safe_load(files["pulumi/Pulumi.province.yaml"])["config"])
    assert {x.service for x in prov.cross_node if x.peer == "water:*"} == {"identity", "e-licence"}
    # its waivers path is derived, and a file there covers its host only
    path = industry_waivers.waivers_path(after, water)
    assert path == inv / "waivers" / "water.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text("waivers:\n  - control: L3-CES3-01\n    hosts: water\n    reason: audit via the department SIEM\n"
                    "    approver: 安徽省自然资源厅\n    expires: 2099-01-01\n", encoding="utf-8")
    waivers, read = industry_waivers.load_all(after, load_catalogue())
    assert read == [path] and waivers[0].covers("water", "L3-CES3-01") and not waivers[0].covers("province", "L3-CES3-01")


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("which", ["onboarded", "onboarded_first"])
def test_no_rendered_router_line_changes_only_lines_are_added(which: str, vendor: str,
                                                              request: pytest.FixtureRequest) -> None:
    """Every router's rendered configuration, both vendors: the new cloud only adds lines. A cloud
    whose slug sorts first (aerodrome) would have renumbered every VRP port of the core when ports
    were allocated in name order; they are numbered by the link's stable id now (vrp_ports)."""
    before, after = request.getfixturevalue(which)[:2]
    new = {r.router: r.text for r in render_province(after, vendor)}
    slug = after.managed_industry()[-1].slug
    assert set(new) == {r.router for r in render_province(before, vendor)} | {f"{slug}-rt"}
    for r in render_province(before, vendor):
        old_lines, new_lines = r.text.splitlines(), new[r.router].splitlines()
        ops = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False).get_opcodes()
        changed = [(old_lines[i1:i2], new_lines[j1:j2]) for op, i1, i2, j1, j2 in ops if op != "equal" and op != "insert"]
        assert not changed, (r.router, vendor, changed[:3])
        added = [line for op, _, _, j1, j2 in ops if op == "insert" for line in new_lines[j1:j2]]
        assert (r.router == "province-rt") == bool(added), (r.router, added[:3])   # only the core gains lines
    if vendor == "huawei_vrp":   # the new cloud's ports: GE0/0/<3+2k+plane> on both ends, free before
        core = new["province-rt"]
        cid = after.managed_industry()[-1].id
        for plane in range(len(after.managed_industry()[-1].wan_links)):
            assert f"interface GigabitEthernet0/0/{3 + 2 * cid + plane}\n description {slug}-" in core
            assert f"interface GigabitEthernet0/0/{3 + 2 * cid + plane}\n description up-" in new[f"{slug}-rt"]
