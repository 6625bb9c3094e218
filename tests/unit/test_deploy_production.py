"""deploy on a production inventory: lab steps skipped, the plan first, apply only with approval;
--plan-only changes nothing; --limit reaches every step; the change lock makes a second deploy exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import pytest
from click.testing import CliRunner

import egovops.cli.deploy as cli_deploy
import egovops.deploy as deploy
from egovops.cli.main import cli
from egovops.deploy import DeployContext, StepResult

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
ANHUI = REPO / "inventories" / "anhui"


@pytest.fixture
def fake(monkeypatch, tmp_path):
    """Fake steps and plan parts; returns the log of (what ran, its --limit)."""
    ran: list[tuple[str, object]] = []
    mod = types.ModuleType("egovops_fake_prod")

    def make(name, status="ok"):
        def fn(ctx: DeployContext) -> StepResult:
            ran.append((name, ctx.options.get("limit")))
            return StepResult(status, f"{name} [/dev/sda] done", {"diff": ["r1: + ospf cost 20"]} if "plan" in name else {})
        return fn

    for n in ("validate", "labup", "push", "plan_push", "plan_bad"):
        setattr(mod, n, make(n, "failed" if n == "plan_bad" else "ok"))
    monkeypatch.setitem(sys.modules, "egovops_fake_prod", mod)
    steps = {"validate": "egovops_fake_prod:validate", "lab-up": "egovops_fake_prod:labup",
             "net-push": "egovops_fake_prod:push"}
    monkeypatch.setattr(deploy, "STEPS", steps)
    monkeypatch.setattr(cli_deploy, "STEPS", steps)
    monkeypatch.setattr(deploy, "PLANS", {"net-push": "egovops_fake_prod:plan_push"})
    monkeypatch.setenv("EGOVOPS_LOCK_DIR", str(tmp_path / "locks"))
    return ran


def invoke(*args, input=None):
    return CliRunner().invoke(cli, ["deploy", "--inventory", str(ANHUI), "--out", "/nonexistent/x", *args], input=input)


def test_plan_only_shows_the_plan_and_runs_no_step(fake):
    res = invoke("--plan-only", "--json", "--limit", "city:chuzhou")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["applied"] is False and doc["steps"] == []
    assert [p["name"] for p in doc["plan"]] == ["plan net-push"] and doc["plan"][0]["details"]["diff"]
    assert fake == [("plan_push", "city:chuzhou")]


def test_production_without_yes_asks_nothing_applied_when_not_interactive(fake):
    res = invoke("--json")
    assert res.exit_code == 2 and "--yes" in json.loads(res.stdout)["error"]
    assert [n for n, _ in fake] == ["plan_push"]


def test_production_interactive_no_applies_nothing_yes_applies(fake, monkeypatch):
    monkeypatch.setattr(cli_deploy, "_interactive", lambda: True)
    res = invoke(input="n\n")
    assert res.exit_code == 2 and "Apply this plan" in res.output and "not approved" in res.output
    assert [n for n, _ in fake] == ["plan_push"]
    fake.clear()
    res = invoke(input="y\n")
    assert res.exit_code == 0, res.output
    assert [n for n, _ in fake] == ["plan_push", "validate", "push"]          # lab-up skipped in production
    assert "[/dev/sda]" in res.output                                          # step text printed literally


def test_production_with_yes_skips_lab_steps_and_passes_limit(fake):
    res = invoke("--yes", "--json", "--limit", "role:county")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    st = {s["name"]: s for s in doc["steps"]}
    assert st["lab-up"]["status"] == "skipped" and "production" in st["lab-up"]["summary"]
    assert fake == [("plan_push", "role:county"), ("validate", "role:county"), ("push", "role:county")]


def test_failed_plan_applies_nothing(fake, monkeypatch):
    monkeypatch.setattr(deploy, "PLANS", {"net-push": "egovops_fake_prod:plan_bad"})
    res = invoke("--yes", "--json")
    assert res.exit_code == 1 and json.loads(res.stdout)["applied"] is False
    assert [n for n, _ in fake] == ["plan_bad"]


def test_a_held_change_lock_makes_deploy_exit_2_naming_the_holder(fake, tmp_path):
    code = ("import time; from egovops.changelock import change_lock\n"
            "with change_lock('anhui', command='egovops net push --inventory inventories/anhui'):\n"
            "    print('held', flush=True); time.sleep(20)\n")
    env = {**__import__("os").environ, "EGOVOPS_LOCK_DIR": str(tmp_path / "locks")}
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert holder.stdout.readline().strip() == "held"
        res = invoke("--yes", "--json", "--lock-wait", "0.5")
        assert res.exit_code == 2, res.output
        err = json.loads(res.stdout)["error"]
        assert f"PID {holder.pid}" in err and "egovops net push" in err
        assert [n for n, _ in fake] == ["plan_push"]                         # the plan ran; nothing applied
    finally:
        holder.kill()
        holder.wait()
