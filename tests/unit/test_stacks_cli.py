"""`egovops stacks …`: the production path refuses honestly without the Pulumi CLI, bad input exits 2,
the preview exits 1 naming resource and control on a violation, configs are rendered not typed.

Why: operators and CI rely on the exit codes (0 ok, 1 check failed, 2 bad input) and on the
production commands never pretending to deploy.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from egovops.cli.main import cli
from egovops.deploy import STEPS

pytestmark = pytest.mark.unit


@pytest.fixture
def no_pulumi(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path / "pulumi-home"))


@pytest.mark.parametrize("action", ["up", "diff"])
def test_production_without_cli_exits_2_with_one_sentence(no_pulumi, action):
    res = CliRunner().invoke(cli, ["stacks", action, "--stack", "province"])
    assert res.exit_code == 2
    text = " ".join(res.output.split())
    assert "Pulumi CLI is not installed" in text and "install" in text
    assert text.count(". ") <= 1 and "deployed" not in text.lower().replace("nothing deployed", "")


def test_production_json_error(no_pulumi):
    res = CliRunner().invoke(cli, ["stacks", "up", "--stack", "province", "--json"])
    assert res.exit_code == 2 and "Pulumi CLI is not installed" in json.loads(res.stdout)["error"]


@pytest.mark.parametrize("args", [[], ["--stack", "province", "--stack", "hefei"]])
def test_production_needs_exactly_one_stack_json_error(args):
    res = CliRunner().invoke(cli, ["stacks", "diff", *args, "--json"])
    assert res.exit_code == 2
    doc = json.loads(res.stdout)
    assert doc["ok"] is False and "exactly one stack" in doc["error"]


def test_unknown_stack_is_bad_input():
    res = CliRunner().invoke(cli, ["stacks", "preview", "--stack", "atlantis"])
    assert res.exit_code == 2 and "atlantis" in res.output


def test_preview_one_stack_json_is_labelled_offline():
    res = CliRunner().invoke(cli, ["stacks", "preview", "--stack", "dr-remote", "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert d["ok"] and "mock runtime" in d["note"] and "nothing was deployed" in d["note"]
    (s,) = d["stacks"]
    assert s["stack"] == "dr-remote" and s["counts"]["Namespace"] >= 1


def test_preview_violation_exits_1_naming_resource_and_control(monkeypatch):
    """A service exposed as NodePort in the extranet zone is rejected (L3-ABS1-20)."""
    import egovops.stacks.components.platform_service as ps
    from egovops.stacks.values import service_values

    def exposed(svc, cfg):
        v = service_values(svc, cfg)
        if svc.slug == "case-db":
            v["service"]["type"] = "NodePort"
        return v

    monkeypatch.setattr(ps, "service_values", exposed)
    res = CliRunner().invoke(cli, ["stacks", "preview", "--stack", "province", "--json"])
    assert res.exit_code == 1
    d = json.loads(res.stdout)
    (v,) = d["stacks"][0]["violations"]
    assert v["control"] == "L3-ABS1-20" and v["resource"] == "Service/case-db/case-db"


def test_config_renders_every_stack(tmp_path, lab_province):
    res = CliRunner().invoke(cli, ["stacks", "config", "--out", str(tmp_path), "--json"])
    assert res.exit_code == 0, res.output
    files = sorted(p.name for p in tmp_path.glob("Pulumi.*.yaml"))
    # every node and DR site, and each industry cloud the lab lists (lab_industry)
    stacks = [n.slug for n in lab_province.nodes] + [c.slug for c in lab_province.managed_industry()]
    assert files == sorted(f"Pulumi.{s}.yaml" for s in stacks)
    assert "egovops:services" in (tmp_path / "Pulumi.province.yaml").read_text(encoding="utf-8")
    again = json.loads(CliRunner().invoke(cli, ["stacks", "config", "--out", str(tmp_path), "--json"]).stdout)
    assert again["written"] == [] and len(again["unchanged"]) == len(stacks)


def test_policies_listed_with_controls():
    d = json.loads(CliRunner().invoke(cli, ["stacks", "policies", "--json"]).stdout)
    assert len(d) >= 14 and all(p["control"].startswith("L3-") for p in d)


def test_deploy_step_before_comply():
    names = list(STEPS)
    assert "stacks-preview" in names
    if "comply" in names:
        assert names.index("stacks-preview") == names.index("comply") - 1 or names.index("stacks-preview") < names.index("comply")


def test_deploy_step_fails_when_the_preview_fails(monkeypatch, lab_province):
    from egovops.deploy import DeployContext
    from egovops.stacks import policies, step
    from egovops.stacks import preview as pv

    bad = pv.StackReport("province", "provincial")
    bad.violations = [policies.Violation("services-dual-stack", "L3-CNS1-20", "Service/x/x", "urn", "single stack")]
    monkeypatch.setattr(pv, "preview", lambda province, only=None, jobs=1, progress=None: pv.PreviewReport([bad], [], 0.1))
    res = step.run(DeployContext(inventory="inventories/lab", out=None, province=lab_province, log=lambda m: None))
    assert res.status == "failed"
    assert any("L3-CNS1-20" in p and "Service/x/x" in p for p in res.details["problems"])
    assert "offline" in res.summary


def test_prerequisites_named_one_at_a_time(tmp_path, monkeypatch):
    """With a `pulumi` on PATH, the next missing thing is named: the backend, then the secrets provider."""
    from egovops.stacks import production

    fake = tmp_path / "bin" / "pulumi"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake.parent))
    for k in ("PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE", "EGOVOPS_SECRETS_PROVIDER"):
        monkeypatch.delenv(k, raising=False)
    with pytest.raises(production.PrerequisiteMissing, match="backend-endpoint"):
        production.check_prerequisites(None)
    backend = production.Backend("https://s3.noc.egov.ah")
    with pytest.raises(production.PrerequisiteMissing, match="PULUMI_CONFIG_PASSPHRASE"):
        production.check_prerequisites(backend)
    monkeypatch.setenv("EGOVOPS_SECRETS_PROVIDER", "passphrase")
    assert production.check_prerequisites(backend) == str(fake)
    assert "disableSSL" not in backend.url() and backend.url().startswith("s3://egovops-pulumi-state?")


def test_bad_inventory_exits_2_and_writes_nothing(tmp_path):
    missing = tmp_path / "no-such-inventory"
    res = CliRunner().invoke(cli, ["stacks", "preview", "--inventory", str(missing)])
    assert res.exit_code == 2
    out = tmp_path / "configs"
    res = CliRunner().invoke(cli, ["stacks", "config", "--inventory", str(missing), "--out", str(out)])
    assert res.exit_code == 2 and not out.exists()


def test_pulumi_project_files_are_consistent():
    """stacks/Pulumi.yaml names the project the renderer and the runtime use; both YAMLs point at the venv."""
    import yaml

    from egovops.render.pulumi_config import PROJECT as RENDERED
    from egovops.stacks import PROJECT, PROJECT_DIR

    proj = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text(encoding="utf-8"))
    assert proj["name"] == PROJECT == RENDERED and proj["runtime"]["name"] == "python"
    assert (PROJECT_DIR / proj["runtime"]["options"]["virtualenv"]).resolve() == (PROJECT_DIR.parent / ".venv").resolve()
    pack = yaml.safe_load((PROJECT_DIR / "policy" / "PulumiPolicy.yaml").read_text(encoding="utf-8"))
    assert pack["runtime"]["name"] == "python"
    assert (PROJECT_DIR / "policy" / pack["runtime"]["options"]["virtualenv"]).resolve() == (PROJECT_DIR.parent / ".venv").resolve()
    assert "Pulumi.*.yaml" in (PROJECT_DIR / ".gitignore").read_text(encoding="utf-8")


def test_config_into_a_file_is_bad_input(tmp_path):
    target = tmp_path / "a-file"
    target.write_text("x", encoding="utf-8")
    res = CliRunner().invoke(cli, ["stacks", "config", "--out", str(target / "sub"), "--json"])
    assert res.exit_code == 2, res.output
    assert "cannot write the stack configs" in json.loads(res.stdout)["error"]
    assert target.read_text(encoding="utf-8") == "x"
