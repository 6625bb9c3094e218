"""The VRP card bounds the inventory's ids at validation, with the renderer's own numbers.

One card size (egovops.model.ports.VRP_CARD_PORTS) is read by both inventory validation and
``network.render.vrp_ports``: an id validation accepts renders, the next one is refused by both.
The per-kind cases (county, industry cloud, node, extra link: file, key, line, exit 2) are in
test_model_bad_inventories.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from egovops.cli.main import cli
from egovops.model import InventoryError, load_inventory, ports, schema
from egovops.model import addressing as plan
from egovops.model.checks import ports as vrp_ids
from egovops.network import render as R
from egovops.render.intents import intent

pytestmark = pytest.mark.unit

ANHUI = Path(__file__).resolve().parents[2] / "inventories" / "anhui"
LARGEST_COUNTY = vrp_ids.largest_id(vrp_ids.county_ports(plan.PLANES, "x"), vrp_ids.ids_of(schema.CountySpec))


def _set_shushan_id(inv: Path, new_id: int) -> None:
    path = inv / "counties.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count("{id: 3, slug: shushan") == 1
    path.write_text(text.replace("{id: 3, slug: shushan", f"{{id: {new_id}, slug: shushan"), encoding="utf-8")


def test_the_production_inventory_still_validates() -> None:
    res = CliRunner().invoke(cli, ["inventory", "validate", "--inventory", str(ANHUI), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["ok"] is True


def test_the_largest_county_id_validated_renders_on_the_cards_last_port(flat_lab: Path) -> None:
    assert 1 <= LARGEST_COUNTY < vrp_ids.ids_of(schema.CountySpec).stop - 1   # the card, not the schema, bounds it
    _set_shushan_id(flat_lab, LARGEST_COUNTY)
    p = load_inventory(flat_lab)
    numbered = R.vrp_ports(intent(p, p.router("hefei-rt")))
    assert numbered["shushan-v"] == ports.name(ports.WAN_CARD, ports.VRP_CARD_PORTS)


def test_one_past_it_is_refused_at_the_id_and_the_cli_exits_2(flat_lab: Path) -> None:
    _set_shushan_id(flat_lab, LARGEST_COUNTY + 1)
    with pytest.raises(InventoryError) as err:
        load_inventory(flat_lab)
    [problem] = [p for p in err.value.problems if p.kind == "capacity"]
    assert (Path(problem.file).name, problem.path, problem.line) == ("counties.yaml", "counties.hefei[2].id", 17)
    assert f"GigabitEthernet0/0/{ports.VRP_CARD_PORTS + 1}" in problem.message
    res = CliRunner().invoke(cli, ["inventory", "validate", "--inventory", str(flat_lab), "--json"])
    assert res.exit_code == 2
    [shown] = json.loads(res.stdout)["problems"]
    assert (Path(shown["file"]).name, shown["path"], shown["line"], shown["kind"]) == \
        ("counties.yaml", "counties.hefei[2].id", 17, "capacity")


def test_validation_and_render_read_one_card_size(flat_lab: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A smaller card (20 ports) moves both limits: no second copy of the number anywhere."""
    p = load_inventory(flat_lab)
    hefei = intent(p, p.router("hefei-rt"))
    monkeypatch.setattr(ports, "VRP_CARD_PORTS", 20)
    # chaohu (hefei county 9): data port 3+18 = 21 is off a 20-port card
    with pytest.raises(R.RenderError, match=r"hefei-rt: interface chaohu-d .* GigabitEthernet0/0/21, outside the card's ports 1\.\.20"):
        R.vrp_ports(hefei)
    with pytest.raises(InventoryError) as err:
        load_inventory(flat_lab)
    chaohu = [x for x in err.value.problems if x.path == "counties.hefei[8].id"]
    assert chaohu and "GigabitEthernet0/0/21 (the card has ports 1..20)" in chaohu[0].message, err.value.problems
    assert chaohu[0].hint.startswith("ids that fit the 20-port card: 1..8 "), chaohu[0].hint
