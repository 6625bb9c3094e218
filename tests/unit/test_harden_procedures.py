"""The role's raw-command procedures (vars/main.yml: baseline_put, baseline_setkv) run for real on
temporary files: idempotent, --check changes nothing, validation guards replacement.

Rendered by Ansible's own templating (the Templar a raw task's command goes through), so a misspelt
or undefined variable fails here as it would on a host. The procedures install files owned by
root: a non-root run executes them as root of a user namespace of its own (unshare -r), where the
test's files are root's; nothing outside tmp_path is touched either way.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
VARS = yaml.safe_load((REPO / "roles" / "baseline" / "vars" / "main.yml").read_text())


def render(name: str, check: bool, **vars_: Any) -> str:
    ctx = {**VARS, "ansible_check_mode": check, **vars_}
    # variables from YAML files and task vars are trusted templates in Ansible, as here
    ctx = {k: trust_as_template(v) if isinstance(v, str) else v for k, v in ctx.items()}
    return str(Templar(loader=DataLoader(), variables=ctx).template(trust_as_template("{{ " + name + " }}")))


def sh(script: str) -> subprocess.CompletedProcess:
    cmd = ["sh", "-c", script]
    if os.geteuid() != 0:
        cmd = ["unshare", "--user", "--map-root-user", *cmd]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    if os.geteuid() != 0 and r.returncode != 0 and r.stderr.startswith("unshare:"):
        pytest.skip(f"not root and no user namespace here: {r.stderr.strip()}")
    return r


def test_a_misspelt_variable_fails_the_render():
    from ansible.errors import AnsibleUndefinedVariable

    with pytest.raises(AnsibleUndefinedVariable, match="kv_sep"):
        render("baseline_setkv", False, kv_path="/nonexistent", kv_settings={"A": 1})  # kv_sep missing


def test_put_is_idempotent_check_aware_and_validated(tmp_path):
    f1, f2 = tmp_path / "a.conf", tmp_path / "sub" / "b.conf"
    files = [{"dest": str(f1), "content": "x = 1\n"}, {"dest": str(f2), "content": "secret\n", "mode": "0600"}]
    then = 'echo "n=$n"'
    r = sh(render("baseline_put", True, put_files=files, put_then=then))
    assert r.returncode == 0 and r.stdout.count("CHANGED:") == 2 and "n=2" in r.stdout
    assert not f1.exists() and not f2.exists()  # --check changed nothing
    r = sh(render("baseline_put", False, put_files=files, put_then=then))
    assert r.returncode == 0 and f1.read_text() == "x = 1\n" and oct(f2.stat().st_mode & 0o777) == "0o600"
    r = sh(render("baseline_put", False, put_files=files, put_then=then))
    assert "CHANGED:" not in r.stdout and "n=0" in r.stdout  # second run: nothing to do
    f2.chmod(0o644)  # drift in mode only is repaired too
    r = sh(render("baseline_put", False, put_files=files))
    assert r.stdout.count("CHANGED:") == 1 and oct(f2.stat().st_mode & 0o777) == "0o600"
    # a file that does not validate never replaces the current one
    r = sh(render("baseline_put", False, put_dest=str(f1), put_content="broken\n", put_validate="grep -q = %s"))
    assert r.returncode == 1 and "does not validate" in r.stdout and f1.read_text() == "x = 1\n"
    r = sh(render("baseline_put", True, put_dest=str(f1), put_content="y = 2\n"))
    assert "-x = 1" in r.stdout and "+y = 2" in r.stdout  # --check shows the diff


def test_setkv_one_active_line_per_key(tmp_path):
    f = tmp_path / "login.defs"
    f.write_text("# PASS_MAX_DAYS 1\nPASS_MAX_DAYS\t99999\nUMASK 022\nPASS_MAX_DAYS 5\n")
    kw = dict(kv_path=str(f), kv_sep="\t", kv_settings={"PASS_MAX_DAYS": "90", "HOME_MODE": "0750"})
    before = f.read_text()
    r = sh(render("baseline_setkv", True, **kw))
    assert r.stdout.count("CHANGED:") == 2 and f.read_text() == before
    r = sh(render("baseline_setkv", False, **kw))
    lines = f.read_text().splitlines()
    assert [line for line in lines if line.startswith("PASS_MAX_DAYS")] == ["PASS_MAX_DAYS\t90"]
    assert "HOME_MODE\t0750" in lines and "UMASK 022" in lines and "# PASS_MAX_DAYS 1" in lines
    r = sh(render("baseline_setkv", False, **kw))
    assert "CHANGED:" not in r.stdout
    r = sh(render("baseline_setkv", False, kv_path=str(tmp_path / "missing"), kv_sep="=", kv_settings={"a": 1}))
    assert r.returncode == 1 and "does not exist" in r.stdout
