"""The main job (`egovops deploy`): ordered steps, stop at the first failure, honest summary.

Why: `make deploy` runs this pipeline on every machine; a failed step must stop everything after
it (never push configs rendered from a broken inventory) and the summary must say which steps
ran, failed, or were skipped. Tests swap STEPS for a temporary pipeline of fake steps so they
never run the real lab steps other capabilities register.
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest
from click.testing import CliRunner

import egovops.cli.deploy as cli_deploy
import egovops.deploy as deploy
from egovops.cli.main import cli
from egovops.deploy import DeployContext, StepResult, run_pipeline

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
LAB = REPO / "inventories" / "lab"
DOCUMENTED_ORDER = ["validate", "render", "lab-up", "net-push", "net-verify", "harden", "monitoring", "dr",
                    "stacks-preview", "comply", "net-flows"]


@pytest.fixture
def fake_steps(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A module of fake steps importable by name; returns the list of steps that actually ran."""
    ran: list[str] = []
    mod = types.ModuleType("egovops_fake_steps")

    def make(name: str, result: StepResult | None = None, exc: Exception | None = None):
        def step(ctx: DeployContext) -> StepResult:
            ran.append(name)
            if exc is not None:
                raise exc
            return result or StepResult("ok", f"{name} done")
        return step

    mod.ok = make("ok")
    mod.ok2 = make("ok2")
    mod.changed = make("changed", StepResult("changed", "wrote things", {"written": 3}))
    mod.fail = make("fail", StepResult("failed", "it broke", {"problems": ["p1"]}))
    mod.boom = make("boom", exc=RuntimeError("kaboom"))
    monkeypatch.setitem(sys.modules, "egovops_fake_steps", mod)
    return ran


def use_steps(monkeypatch: pytest.MonkeyPatch, steps: dict[str, str]) -> None:
    """Install a temporary pipeline for both the runner and the CLI (which validates --skip against it)."""
    monkeypatch.setattr(deploy, "STEPS", steps)
    monkeypatch.setattr(cli_deploy, "STEPS", steps)


def pipeline(monkeypatch: pytest.MonkeyPatch, steps: dict[str, str], skip: set[str] = frozenset()):
    use_steps(monkeypatch, steps)
    started: list[str] = []
    done: list[str] = []
    ctx = DeployContext(inventory=str(LAB), out=Path("/nonexistent"))
    recs = run_pipeline(ctx, set(skip), lambda n, i, total: started.append(f"{i}/{total} {n}"),
                        lambda r: done.append(r.name))
    return recs, started, done


def test_stops_after_failed_step(monkeypatch: pytest.MonkeyPatch, fake_steps: list[str]) -> None:
    recs, started, done = pipeline(monkeypatch, {"a": "egovops_fake_steps:ok", "b": "egovops_fake_steps:fail",
                                                 "c": "egovops_fake_steps:ok2"})
    assert [(r.name, r.status) for r in recs] == [("a", "ok"), ("b", "failed"), ("c", "skipped")]
    assert fake_steps == ["ok", "fail"]  # c never ran
    assert recs[2].summary == "after a failed step" and recs[1].details == {"problems": ["p1"]}
    assert started == ["1/3 a", "2/3 b"] and done == ["a", "b", "c"]


def test_crashing_step_is_a_failure(monkeypatch: pytest.MonkeyPatch, fake_steps: list[str]) -> None:
    recs, _, _ = pipeline(monkeypatch, {"a": "egovops_fake_steps:boom", "b": "egovops_fake_steps:ok"})
    assert [(r.name, r.status) for r in recs] == [("a", "failed"), ("b", "skipped")]
    assert recs[0].summary == "RuntimeError: kaboom"
    assert fake_steps == ["boom"]


def test_skip_runs_the_rest(monkeypatch: pytest.MonkeyPatch, fake_steps: list[str]) -> None:
    recs, started, _ = pipeline(monkeypatch, {"a": "egovops_fake_steps:ok", "b": "egovops_fake_steps:fail",
                                              "c": "egovops_fake_steps:changed"}, skip={"b"})
    assert [(r.name, r.status, r.summary) for r in recs] == [
        ("a", "ok", "ok done"), ("b", "skipped", "--skip"), ("c", "changed", "wrote things")]
    assert fake_steps == ["ok", "changed"] and started == ["1/3 a", "3/3 c"]


def test_cli_deploy_json_reports_failure_and_skips(monkeypatch: pytest.MonkeyPatch, fake_steps: list[str],
                                                   tmp_path: Path) -> None:
    """A failing later step exits 1 (check failed); --json on stdout is one parseable document."""
    use_steps(monkeypatch, {"a": "egovops_fake_steps:ok", "b": "egovops_fake_steps:fail",
                            "c": "egovops_fake_steps:ok2"})
    res = CliRunner().invoke(cli, ["deploy", "--inventory", str(LAB), "--out", str(tmp_path / "o"), "--json"])
    assert res.exit_code == 1, res.output
    doc = json.loads(res.stdout)
    assert doc["ok"] is False and doc["inventory"] == str(LAB)
    assert [(s["name"], s["status"]) for s in doc["steps"]] == [("a", "ok"), ("b", "failed"), ("c", "skipped")]
    assert set(doc["steps"][0]) == {"name", "status", "seconds", "summary", "details"}
    assert "[1/3] a" in res.stderr  # progress goes to stderr with --json


def test_cli_deploy_validate_and_render(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The foundation's own steps: validate then render; a second run changes nothing."""
    use_steps(monkeypatch, {k: deploy.STEPS[k] for k in ("validate", "render")})
    out = tmp_path / "o"
    args = ["deploy", "--inventory", str(LAB), "--out", str(out), "--json"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["ok"] is True and [(s["name"], s["status"]) for s in doc["steps"]] == [("validate", "ok"), ("render", "changed")]
    assert "17 cloud nodes, 105 counties, 122 routers" in doc["steps"][0]["summary"]
    assert (out / "ansible" / "hosts.yaml").is_file()
    doc2 = json.loads(CliRunner().invoke(cli, args).stdout)
    assert [s["status"] for s in doc2["steps"]] == ["ok", "ok"] and doc2["steps"][1]["details"]["written"] == 0
    human = CliRunner().invoke(cli, args[:-1])
    assert human.exit_code == 0 and "deploy summary" in human.stdout


def test_cli_deploy_invalid_inventory_exits_2(monkeypatch: pytest.MonkeyPatch, flat_lab: Path, tmp_path: Path) -> None:
    use_steps(monkeypatch, {k: deploy.STEPS[k] for k in ("validate", "render")})
    (flat_lab / "dr.yaml").write_text((flat_lab / "dr.yaml").read_text().replace("- [hefei, anqing]", "- [hefei, hefei]"))
    out = tmp_path / "o"
    res = CliRunner().invoke(cli, ["deploy", "--inventory", str(flat_lab), "--out", str(out), "--json"])
    assert res.exit_code == 2
    doc = json.loads(res.stdout)
    assert [(s["name"], s["status"]) for s in doc["steps"]] == [("validate", "failed"), ("render", "skipped")]
    assert any("paired with itself" in p for p in doc["steps"][0]["details"]["problems"])
    assert not out.exists()


def test_cli_deploy_invalid_inventory_with_validate_skipped_exits_2(monkeypatch: pytest.MonkeyPatch, flat_lab: Path,
                                                                    tmp_path: Path) -> None:
    """--skip validate: the first step that loads the bad inventory fails, and that is still bad input."""
    use_steps(monkeypatch, {k: deploy.STEPS[k] for k in ("validate", "render")})
    (flat_lab / "dr.yaml").write_text((flat_lab / "dr.yaml").read_text().replace("- [hefei, anqing]", "- [hefei, hefei]"))
    out = tmp_path / "o"
    res = CliRunner().invoke(cli, ["deploy", "--inventory", str(flat_lab), "--out", str(out), "--json",
                                   "--skip", "validate"])
    assert res.exit_code == 2, res.output
    doc = json.loads(res.stdout)
    assert [(s["name"], s["status"]) for s in doc["steps"]] == [("validate", "skipped"), ("render", "failed")]
    assert any("paired with itself" in p for p in doc["steps"][1]["details"]["problems"])
    assert not out.exists()


def test_cli_deploy_unknown_skip_exits_2(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["deploy", "--inventory", str(LAB), "--out", str(tmp_path / "o"), "--skip", "bogus"])
    assert res.exit_code == 2
    assert "bogus" in res.stderr and not (tmp_path / "o").exists()
    res = CliRunner().invoke(cli, ["deploy", "--inventory", str(LAB), "--out", str(tmp_path / "o"), "--skip", "bogus",
                                   "--skip", "validate", "--json"])
    assert res.exit_code == 2
    doc = json.loads(res.stdout)
    assert doc["ok"] is False and "bogus" in doc["error"] and "validate" not in doc["error"]
    assert doc["steps"] == list(deploy.STEPS)


def test_real_steps_keep_the_documented_order() -> None:
    """Capabilities append their step in the documented order; validate and render come first."""
    names = list(deploy.STEPS)
    assert names[:2] == ["validate", "render"]
    known = [n for n in names if n in DOCUMENTED_ORDER]
    assert known == sorted(known, key=DOCUMENTED_ORDER.index)
