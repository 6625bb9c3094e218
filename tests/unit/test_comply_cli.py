"""CLI bad input: exit 2, the bad input named, nothing scanned or run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]


def egovops(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    import os
    e = {**os.environ, **(env or {})}
    e.pop("EGOVOPS_BREAKGLASS_VARS", None)
    return subprocess.run([sys.executable, "-m", "egovops.cli.main", *args], capture_output=True, text=True,
                          cwd=REPO, env=e, timeout=120)


def test_comply_bad_waivers_file_exits_2_and_names_the_entry(tmp_path):
    w = tmp_path / "w.yaml"
    w.write_text("waivers:\n  - {control: L3-NOPE, hosts: '*', reason: r, approver: a, expires: 2030-01-01}\n")
    r = egovops("comply", "--inventory", "inventories/anhui", "--waivers", str(w), "--json")
    assert r.returncode == 2
    d = json.loads(r.stdout)
    assert d["ok"] is False and any("L3-NOPE" in p for p in d["problems"])


def test_comply_unknown_report_format_exits_2():
    r = egovops("comply", "--inventory", "inventories/anhui", "--report", "html,pdf")
    assert r.returncode == 2 and "pdf" in r.stderr


def test_comply_unknown_controls_exit_2():
    r = egovops("comply", "--inventory", "inventories/anhui", "--controls", "L9-*")
    assert r.returncode == 2 and "L9-*" in r.stderr


def test_harden_without_breakglass_hash_in_production_exits_2():
    r = egovops("harden", "--inventory", "inventories/anhui", "--json")
    assert r.returncode == 2
    assert "EGOVOPS_BREAKGLASS_VARS" in json.loads(r.stdout)["error"]


def test_deploy_has_harden_after_net_verify_and_comply_last():
    from egovops.deploy import LAB_ONLY, STEPS
    names = list(STEPS)
    # comply is the last step on every target; only the lab's wire proof of the flows (net-flows) follows it
    assert [n for n in names if n not in LAB_ONLY][-1] == "comply"
    assert names[names.index("comply") + 1:] in ([], ["net-flows"])
    assert names.index("harden") > names.index("net-verify") if "net-verify" in names else "harden" in names


def test_pytest_testinfra_suite_has_one_test_per_control_and_host():
    from egovops.compliance.catalogue import load
    r = subprocess.run([sys.executable, "-m", "pytest", "egovops/compliance/pytest_suite", "--collect-only", "-q",
                        "-p", "no:cacheprovider", "--hosts=paramiko://egovadmin@198.18.0.1,paramiko://egovadmin@198.18.0.2"],
                       capture_output=True, text=True, cwd=REPO, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    ids = [ln for ln in r.stdout.splitlines() if "::test_control[" in ln]
    assert len(ids) == 2 * len(load().controls)
    assert any("198.18.0.2-L3-CES11-01" in ln for ln in ids)


def test_harden_progress_shows_ansible_lines_literally(monkeypatch):
    """An ansible line is text, not rich markup: the failing host stays visible and '[/...]' cannot crash."""
    from click.testing import CliRunner

    import egovops.harden.baseline as harden_mod
    from egovops.cli.main import cli

    def fake_run(p, sel, progress, **kw):
        progress('  fatal: [hefei]: FAILED! => {"msg": "[/etc/ssh/sshd_config] does not validate"}')
        return harden_mod.HardenRun(2, 0.1, False, [harden_mod.HostRecap("hefei", 3, 0, 0, 1, 0)], "", 4)

    monkeypatch.setattr(harden_mod, "run", fake_run)
    res = CliRunner().invoke(cli, ["harden", "--inventory", str(REPO / "inventories" / "anhui")])
    assert res.exit_code == 1, res.output
    assert "fatal: [hefei]: FAILED!" in res.output and "[/etc/ssh/sshd_config]" in res.output


def test_comply_table_shows_evidence_literally(monkeypatch, tmp_path):
    """Evidence is text from the hosts, not rich markup: '[/etc/shadow]' cannot crash the report and an
    expired waiver's '[waiver by …]' note stays visible."""
    from click.testing import CliRunner

    import egovops.compliance.runner as runner_mod
    from egovops.cli.main import cli
    from egovops.compliance.results import Result, Scan

    evidence = "[/etc/shadow] mode 644 [waiver by a expired on 2020-01-01]"

    def fake_scan(targets, cat, params, key, name, version, progress=None, controls=None, known_hosts=None):
        t = targets[0]
        return Scan(name, version, "2026-11-23T17:00:00+00:00", 0.1,
                    [Result(t.node, t.city, t.name_zh, "L3-CES2-04", "access_control", "fail", evidence)])

    monkeypatch.setattr(runner_mod, "scan", fake_scan)
    res = CliRunner().invoke(cli, ["comply", "--inventory", str(REPO / "inventories" / "anhui"), "--report", "",
                                   "--out", str(tmp_path), "--limit", "hefei"])
    assert res.exit_code == 1, res.output
    assert "[/etc/shadow]" in res.output and "[waiver by a" in res.output


@pytest.mark.parametrize("tags,named", [("L3-NOPE,security_audit", "'L3-NOPE'"), ("L3-CES6-01", "'L3-CES6-01'"),
                                        ("access_control,", "''")])
def test_harden_unknown_tag_exits_2_before_anything_runs(tags, named):
    """ansible-playbook --tags with a tag no task has runs nothing and succeeds: egovops names it instead."""
    r = egovops("harden", "--inventory", "inventories/anhui", "--tags", tags, "--json")
    assert r.returncode == 2
    error = json.loads(r.stdout)["error"]
    assert named in error and "baseline role" in error and "break-glass" not in error


@pytest.mark.parametrize("opt", ["--out", "--textfile"])
def test_comply_unwritable_output_exits_2_before_scanning(opt, tmp_path, monkeypatch):
    from click.testing import CliRunner

    import egovops.compliance.runner as runner_mod
    from egovops.cli.main import cli

    def no_scan(*a, **kw):
        raise AssertionError("scanned although the output cannot be written")

    monkeypatch.setattr(runner_mod, "scan", no_scan)
    # the default --out is <repo>/build/compliance/<name>: pointed at a folder of the test's own, which must
    # stay absent (a unit test never writes into the repository; this one once did, for --textfile)
    fake_repo = tmp_path / "repo"
    monkeypatch.setattr("egovops.compliance.targets.REPO", fake_repo)
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    other = ["--textfile", str(tmp_path / "ok" / "x.prom")] if opt == "--out" else ["--out", str(tmp_path / "ok")]
    res = CliRunner().invoke(cli, ["comply", "--inventory", str(REPO / "inventories" / "anhui"), "--json",
                                   opt, str(blocker / "sub" / "x.prom"), *other])
    assert res.exit_code == 2, res.output
    assert "cannot write the reports or metrics" in json.loads(res.stdout)["error"]
    assert not fake_repo.exists(), "the command wrote into the repository's default output folder"
