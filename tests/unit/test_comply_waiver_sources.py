"""One choice of waivers for `egovops comply` and the deploy step (egovops.compliance.waiver_sources).

Found by the full-lab make deploy (1 Dec): the deploy step applied the lab waivers, `egovops comply`
none, so the same lab showed 0 fail / 42 waived in deploy and 42 error rows (exit 1) when re-run by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from egovops.compliance import waiver_sources as ws_mod
from egovops.compliance.catalogue import load
from egovops.compliance.routers import with_routers
from egovops.compliance.waivers import WaiverError
from egovops.model import load_inventory

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
CAT = with_routers(load())
GOOD = """waivers:
  - {control: L3-CES3-01, hosts: "hefei", reason: test, approver: 张三, expires: 2030-01-01}
"""


@pytest.fixture(scope="module")
def lab():
    return load_inventory(REPO / "inventories" / "lab")


@pytest.fixture(scope="module")
def anhui():
    return load_inventory(REPO / "inventories" / "anhui")


def test_lab_inventory_defaults_to_the_lab_waivers(lab):
    got = ws_mod.for_run(lab, CAT)
    assert got.file == ws_mod.LAB_WAIVERS and got.waivers
    assert {w.control for w in got.waivers} <= {c.id for c in CAT.controls}


def test_production_inventory_has_no_default(anhui):
    got = ws_mod.for_run(anhui, CAT)
    assert got.file is None and got.waivers == []


def test_a_given_file_replaces_the_default(lab, tmp_path):
    f = tmp_path / "w.yaml"
    f.write_text(GOOD, encoding="utf-8")
    got = ws_mod.for_run(lab, CAT, f)
    assert got.file == f and [w.control for w in got.waivers] == ["L3-CES3-01"]


def test_a_broken_file_is_bad_input_naming_it(lab, tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("waivers:\n  - {control: L3-NOPE, hosts: x}\n", encoding="utf-8")
    with pytest.raises(WaiverError) as exc:
        ws_mod.for_run(lab, CAT, f)
    assert any("bad.yaml" in p for p in exc.value.problems)


def test_cli_and_deploy_step_apply_the_same_default(lab, tmp_path, monkeypatch):
    """Point the lab default at a broken file: both the CLI and the deploy step must refuse it (exit 2 /
    bad_input) before checking anything, i.e. both read the default from the one place."""
    from click.testing import CliRunner

    from egovops.cli.main import cli
    from egovops.compliance.steps import comply
    from egovops.steptypes import DeployContext

    broken = tmp_path / "lab-broken.yaml"
    broken.write_text("waivers:\n  - {control: L3-NOPE, hosts: x}\n", encoding="utf-8")
    monkeypatch.setattr(ws_mod, "LAB_WAIVERS", broken)
    monkeypatch.setattr("egovops.compliance.targets.REPO", tmp_path / "repo")
    # hosts "selected" without a lab: the step must stop at the waivers, before any scan
    from egovops.compliance import routers, targets

    class Sel:
        targets = ["x"]
        note = ""

    monkeypatch.setattr(targets, "select", lambda p, limit: Sel())
    monkeypatch.setattr(routers, "router_selection", lambda p, limit: (["province-rt"], ""))
    res = CliRunner().invoke(cli, ["comply", "--inventory", str(REPO / "inventories" / "lab"), "--json"])
    assert res.exit_code == 2, res.output
    doc = json.loads(res.stdout)
    assert "waivers" in doc["error"] and any("lab-broken.yaml" in p for p in doc.get("problems", [])), doc
    out = comply(DeployContext(inventory=str(REPO / "inventories" / "lab"), out=tmp_path, province=lab))
    assert out.status == "failed" and out.details.get("bad_input"), out
    assert any("lab-broken.yaml" in p for p in out.details["problems"])
    assert not (tmp_path / "repo").exists()
