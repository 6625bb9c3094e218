"""DR database tier + drills + CLI, without a lab: result models, JSON keys, judging against the
inventory's targets, bad input (exit 2, nothing changed), the metrics collector failing closed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from egovops.cli.main import cli
from egovops.dr import drills, report
from egovops.dr.drills import DrillResult
from egovops.dr.metrics import DrCollector, IncompleteError
from egovops.dr.status import DrStatus, PairStatus, tier_targets
from egovops.model import load_inventory
from egovops.render import ansible as ansible_render

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
PGLAB = REPO / "tests" / "fixtures" / "inventories" / "pglab"
REQUIRED_KEYS = {"scenario", "ok", "acknowledged_writes", "lost_writes", "rto_seconds", "rpo_seconds",
                 "objects_checked", "objects_missing", "targets", "timeline"}


@pytest.fixture(scope="module")
def province():
    return load_inventory(PGLAB)


@pytest.fixture
def no_lab_inventory(tmp_path: Path) -> Path:
    """An inventory whose lab was never brought up (own name): every drill must refuse, exit 2."""
    d = tmp_path / "drnolab"
    d.mkdir()
    (d / "inventory.yaml").write_text(f"name: drnolab\nname_zh: 无实验环境\nenvironment: lab\nversion: test\n"
                                      f"base: {PGLAB}\n")
    return d


def _result(province, **kw) -> DrillResult:
    res = DrillResult("province-primary-loss", province.meta.name, "t-1", tier="system",
                      targets=drills.targets_for(province, "system"))
    for k, v in kw.items():
        setattr(res, k, v)
    return res


def test_targets_come_from_dr_yaml(province):
    raw = yaml.safe_load((REPO / "inventories" / "anhui" / "dr.yaml").read_text(encoding="utf-8"))
    t = drills.targets_for(province, "system")
    assert raw["tiers"]["system"]["rpo"] == "15m" and t["rpo_seconds"] == 900
    assert raw["tiers"]["system"]["rto"] == "1h" and t["rto_seconds"] == 3600
    assert tier_targets(province)["data"] == {"rpo_seconds": 86400, "rto_seconds": 86400}


def test_drill_json_keys_and_passing_drill(province):
    res = _result(province, acknowledged_writes=120, lost_writes=0, rto_seconds=2.0, rpo_seconds=0.0)
    res.event("kill")
    drills._judge(res, require_zero_loss=True)
    d = res.as_dict()
    assert REQUIRED_KEYS <= set(d)
    assert d["ok"] is True and d["timeline"][0]["event"] == "kill"
    assert "_t0" not in d
    json.dumps(d)  # serialisable as --json prints it


@pytest.mark.parametrize("kw, needle", [
    ({"rto_seconds": 3601.0, "rpo_seconds": 0.0}, "RTO 3601.0s exceeds"),
    ({"rto_seconds": 5.0, "rpo_seconds": 901.0, "lost_writes": 3}, "RPO 901.0s exceeds"),
    ({"rto_seconds": 5.0, "rpo_seconds": 1.0, "lost_writes": 1}, "1 acknowledged write(s) lost"),
    ({"rto_seconds": None, "rpo_seconds": 0.0}, "RTO not measured"),
    ({"rto_seconds": 5.0, "rpo_seconds": 0.0, "objects_missing": 2}, "2 object(s) missing"),
])
def test_missed_target_fails_the_drill(province, kw, needle):
    res = _result(province, **kw)
    drills._judge(res, require_zero_loss=True)
    assert res.ok is False
    assert any(needle in p for p in res.problems), res.problems


def test_report_markdown_is_literal(province, tmp_path, monkeypatch):
    monkeypatch.setattr(report, "REPO", tmp_path)
    res = _result(province, rto_seconds=1.5, rpo_seconds=0.0, ok=True)
    res.event("host said: a|b [/etc/x]")
    md = report.write(res)
    text = md.read_text(encoding="utf-8")
    assert md.parent == tmp_path / "build" / "dr" / province.meta.name
    assert "a\\|b [/etc/x]" in text and "PASSED" in text and "1.50s" in text
    doc = json.loads(md.with_suffix(".json").read_text(encoding="utf-8"))
    assert doc["report"] == str(md) and REQUIRED_KEYS <= set(doc)


def _status(province, *rows: PairStatus) -> DrStatus:
    return DrStatus(province.meta.name, 0.0, list(rows), "province", "province", tier_targets(province))


def test_status_ok_only_when_every_pair_healthy(province):
    good = PairStatus("system", "postgres", "province", "dr-local", "streaming/sync", True, lag_seconds=0.0)
    bad = PairStatus("data", "postgres", "province", "dr-remote", "degraded", False, problem="no backup")
    assert _status(province, good).ok
    assert not _status(province, good, bad).ok
    assert not _status(province).ok  # nothing read is never healthy
    d = _status(province, good, bad).as_dict()
    assert d["ok"] is False and d["pairs"][1]["problem"] == "no backup" and d["roles_swapped"] is False


def test_collector_exports_contract_names(province):
    rows = [PairStatus("system", "postgres", "province", "dr-local", "streaming/sync", True, lag_seconds=0.0,
                       last_sync=100.0),
            PairStatus("data", "postgres", "province", "dr-remote", "archiving", True, lag_seconds=0.0,
                       last_sync=90.0, last_verified_backup=80.0)]
    fams = {f.name: f for f in DrCollector(province, reader=lambda p: _status(p, *rows)).collect()}
    assert {"egov_dr_rpo_seconds", "egov_dr_rto_seconds", "egov_dr_replication_lag_seconds",
            "egov_dr_last_sync_timestamp_seconds", "egov_dr_replication_healthy",
            "egov_dr_last_verified_backup_timestamp_seconds"} <= set(fams)
    rpo = {s.labels["tier"]: s.value for s in fams["egov_dr_rpo_seconds"].samples}
    assert rpo == {"system": 900, "data": 86400, "cooperation": 86400}
    healthy = {(s.labels["tier"], s.labels["store"]): s.value for s in fams["egov_dr_replication_healthy"].samples}
    assert healthy == {("system", "postgres"): 1.0, ("data", "postgres"): 1.0}
    backup = fams["egov_dr_last_verified_backup_timestamp_seconds"].samples
    assert [(s.labels["target"], s.value) for s in backup] == [("dr-remote", 80.0)]


def test_collector_raises_when_a_pair_could_not_be_read(province):
    rows = [PairStatus("system", "postgres", "province", "dr-local", "streaming/sync", True, lag_seconds=0.0),
            PairStatus("data", "postgres", "province", "dr-remote", "unreadable", False, readable=False,
                       problem="pgbackrest info unreadable")]
    with pytest.raises(IncompleteError, match="pgbackrest info unreadable"):
        list(DrCollector(province, reader=lambda p: _status(p, *rows)).collect())
    with pytest.raises(IncompleteError):
        list(DrCollector(province, reader=lambda p: _status(p)).collect())


def test_ansible_inventory_places_the_database_tier(province):
    data = yaml.safe_load(ansible_render.render(province)["hosts.yaml"])["all"]
    assert data["vars"]["egov_dr"]["same_city"] == {"source": "province", "target": "dr-local", "tier": "system"}
    assert data["vars"]["egov_dr"]["remote"]["target"] == "dr-remote"
    assert set(data["children"]["dr_system"]["hosts"]) == {"province", "dr-local"}


def _run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False, standalone_mode=False)


def _exit(res) -> int:
    return res.exit_code if not isinstance(res.return_value, int) else res.return_value


@pytest.mark.parametrize("args, needle", [
    (["dr", "drill", "--scenario", "meteor-strike"], "unknown scenario 'meteor-strike'"),
    (["dr", "drill", "--scenario", "province-primary-loss"], "not up"),
    (["dr", "drill", "--scenario", "remote-restore"], "not up"),
    (["dr", "drill", "--scenario", "city-pair-loss", "--city", "hefei"], "not up"),
    (["dr", "drill", "--scenario", "city-pair-loss", "--city", "atlantis"], "no city"),
    (["dr", "drill", "--scenario", "city-pair-loss"], "needs --city"),
    (["dr", "failback"], "not up"),
])
def test_bad_input_exits_2_with_one_sentence(no_lab_inventory, args, needle):
    runner = CliRunner()
    res = runner.invoke(cli, [*args, "--inventory", str(no_lab_inventory), "--json"])
    assert res.exit_code == 2, res.output
    doc = json.loads(res.stdout)
    assert doc["ok"] is False and needle in doc["error"]
    assert doc["error"].count(". ") == 0 and "\n" not in doc["error"]  # one sentence
    assert not (REPO / "build" / "dr" / "drnolab").exists()  # no report: nothing ran


def test_kill_command_fences_before_it_kills(province):
    cmd = drills.kill_command(province, "province")
    assert cmd.index("mask --runtime postgresql@15-main.service") < cmd.index("kill --signal=KILL postgresql@15-main")
    assert "egov-objects.service" in cmd


def test_scratch_cluster_is_dropped_only_when_ours():
    drop = drills.drop_scratch_command()
    assert "egovops-scratch" in drop and drop.index("egovops-scratch") < drop.index("pg_dropcluster")
    restore = drills.restore_command()
    assert "--archive-mode=off" in restore  # the scratch copy never pushes WAL into the repository


def test_object_check_counts_reach_the_result_and_a_failed_check_fails_the_drill(province):
    """drills.record_objects: the one object-verification step of every drill (fail closed)."""
    res = _result(province, rto_seconds=2.0, rpo_seconds=0.0)
    seen: list[str] = []
    drills.record_objects(res, "at the DR sites", lambda: (5, 1, 0, {"bad": ["x"]}), seen.append)
    assert (res.objects_checked, res.objects_missing, res.objects_mismatched) == (5, 1, 0)
    assert res.details["objects"] == {"bad": ["x"]} and "objects at the DR sites: 5 checked, 1 missing" in seen[0]
    drills._judge(res, require_zero_loss=True)
    assert res.ok is False and any("1 object(s) missing" in p for p in res.problems)

    def unreadable():
        raise ConnectionError("S3 gateway down")

    res2 = _result(province, rto_seconds=2.0, rpo_seconds=0.0)
    drills.record_objects(res2, "of province at dr-remote", unreadable, seen.append)
    assert res2.objects_checked == 0 and "objects" not in res2.details
    assert res2.problems == ["objects of province at dr-remote could not be verified: S3 gateway down"]
    drills._judge(res2, require_zero_loss=True)
    assert res2.ok is False       # a check that could not run is never "0 objects checked, all fine"
