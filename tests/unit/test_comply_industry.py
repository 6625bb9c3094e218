"""Compliance of the industry clouds' hosts with each cloud's own waivers file (issue 13 item 2).

Why: a department answers for the exceptions of its own cloud. Its waivers live in
``<inventory>/waivers/<cloud>.yaml`` and must never waive a control on a provincial or city host
(or another department's); a broken or misnamed file is bad input (exit 2, file:line, nothing
checked), never a silently ignored file. ``--limit kind:industry`` selects exactly the managed
clouds' hosts.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from egovops.cli.main import cli
from egovops.compliance import industry
from egovops.compliance import waivers as wv
from egovops.compliance.catalogue import load as load_catalogue
from egovops.compliance.results import Result
from egovops.compliance.targets import select
from egovops.model import Province, load_inventory

pytestmark = pytest.mark.unit

ANHUI = Path(__file__).resolve().parents[2] / "inventories" / "anhui"
WAIVER = """waivers:
  - control: L3-CES3-01
    hosts: {hosts}
    reason: the transport cloud's legacy hosts forward audit records to the department's SIEM until 2027
    approver: 安徽省交通运输厅 信息中心
    expires: 2099-12-31
"""


@pytest.fixture
def inv(tmp_path: Path) -> Path:
    """A copy of the production inventory the test may add waivers to."""
    return Path(shutil.copytree(ANHUI, tmp_path / "anhui"))


def write(inv: Path, name: str, hosts: str) -> Path:
    (inv / "waivers").mkdir(exist_ok=True)
    path = inv / "waivers" / name
    path.write_text(WAIVER.format(hosts=hosts), encoding="utf-8")
    return path


def cloud(p: Province, slug: str):
    return next(c for c in p.industry if c.slug == slug)


def row(node: str, status: str = "fail") -> Result:
    return Result(node=node, city="", name_zh=node, control="L3-CES3-01", family="audit", status=status,
                  evidence="auditd inactive")


def test_layout_is_derived_from_the_inventory(anhui_province: Province) -> None:
    assert industry.waivers_path(anhui_province, cloud(anhui_province, "transport")) == ANHUI / "waivers" / "transport.yaml"


def test_absent_files_mean_no_waivers(inv: Path) -> None:
    assert industry.load_all(load_inventory(inv), load_catalogue()) == ([], [])


def test_a_clouds_waiver_covers_its_own_host_only(inv: Path) -> None:
    path = write(inv, "transport.yaml", '"transport*"')
    waivers, files = industry.load_all(load_inventory(inv), load_catalogue())
    assert files == [path] and len(waivers) == 1
    rows = [row("transport"), row("hefei"), row("medical")]
    assert wv.apply(rows, waivers, dt.date(2026, 12, 1)) == []
    assert [r.status for r in rows] == ["waived", "fail", "fail"]


@pytest.mark.parametrize("hosts,message", [
    ('"*"', "also matches"),                       # every host of the province
    ('"t*"', "also matches"),                      # transport and others starting with t (tongling...)
    ("medical", "matches no device of industry cloud transport"),
    ('"*-rt"', "device(s) outside industry cloud transport (agri-rt, anqing-"),   # every router, other clouds too
])
def test_a_glob_outside_the_cloud_is_named_with_file_key_and_line(inv: Path, hosts: str, message: str) -> None:
    path = write(inv, "transport.yaml", hosts)
    with pytest.raises(wv.WaiverError) as err:
        industry.load_all(load_inventory(inv), load_catalogue())
    (problem,) = err.value.problems
    assert problem.startswith(f"{path}:3 waiver #1: hosts "), problem    # file, line of the key, the key
    assert message in problem


def test_a_file_named_for_no_cloud_is_refused(inv: Path) -> None:
    path = write(inv, "transprot.yaml", "transport")
    with pytest.raises(wv.WaiverError) as err:
        industry.load_all(load_inventory(inv), load_catalogue())
    assert any(p.startswith(f"{path}: names no industry cloud") for p in err.value.problems), err.value.problems


def test_limit_kind_industry_selects_the_managed_clouds_hosts(anhui_province: Province) -> None:
    sel = select(anhui_province, "kind:industry")
    managed = {c.slug: c for c in anhui_province.managed_industry()}
    assert {t.node for t in sel.targets} == set(managed) == {"transport", "hrss", "medical", "education"}
    for t in sel.targets:
        assert t.kind == "industry" and t.address == str(managed[t.node].management.ipv4.ip)
    assert not {t.node for t in select(anhui_province, "!kind:industry").targets} & set(managed)


def test_comply_with_a_broken_cloud_file_exits_2_and_checks_nothing(inv: Path, tmp_path: Path) -> None:
    path = write(inv, "hrss.yaml", '"*"')
    out = tmp_path / "reports"
    res = CliRunner().invoke(cli, ["comply", "--inventory", str(inv), "--limit", "kind:industry", "--out", str(out), "--json"])
    assert res.exit_code == 2, res.output
    doc = json.loads(res.stdout)
    assert doc["ok"] is False and any(p.startswith(f"{path}:3 waiver #1: hosts '*'") for p in doc["problems"]), doc
    assert not out.exists()


def test_deploy_comply_step_reports_a_broken_cloud_file_as_bad_input(inv: Path, tmp_path: Path) -> None:
    from egovops.compliance.steps import comply
    from egovops.deploy import DeployContext

    write(inv, "education.yaml", "hefei")
    ctx = DeployContext(inventory=str(inv), out=tmp_path, options={"limit": "kind:industry"})
    ctx.province = load_inventory(inv)
    res = comply(ctx)
    assert res.status == "failed" and res.details["bad_input"] is True
    assert "matches no device of industry cloud education" in res.details["problems"][0]
