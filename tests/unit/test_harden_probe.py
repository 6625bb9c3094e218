"""The baseline's read-only probe (roles/baseline/templates/probe.sh.j2), rendered with the role's
defaults by Ansible's own templating and run by bash on this machine: it must print one JSON object
with every key the PATCH tasks read, whatever the machine (a key missing here would fail every host).
It only reads (stat, find, grep, dpkg-query); nothing is changed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

pytestmark = pytest.mark.unit

ROLE = Path(__file__).resolve().parents[2] / "roles" / "baseline"


def rendered() -> str:
    ctx = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text(encoding="utf-8"))
    text = (ROLE / "templates" / "probe.sh.j2").read_text(encoding="utf-8")
    return str(Templar(loader=DataLoader(), variables=ctx).template(trust_as_template(text)))


def used_keys() -> set[str]:
    """Every ``baseline_probe.<key>`` the role's tasks read."""
    keys: set[str] = set()
    for f in (ROLE / "tasks").glob("*.yml"):
        keys |= set(re.findall(r"baseline_probe\.(\w+)", f.read_text(encoding="utf-8")))
    return keys


def test_probe_prints_every_key_the_tasks_read():
    if not shutil.which("bash"):
        pytest.skip("no bash")
    r = subprocess.run(["bash", "-c", rendered()], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    probe = json.loads(r.stdout)
    missing = used_keys() - set(probe)
    assert not missing, f"the tasks read {missing}, the probe does not print them"
    for k in ("packages", "accounts", "world_writable", "sensitive_files_wrong", "homes_open", "services_on"):
        assert isinstance(probe[k], list), k
    assert probe["audit"] in ("yes", "no") and probe["netadmin"] in ("yes", "no")
    assert "root" in probe["accounts"]


def test_probe_never_prints_a_password_field():
    text = rendered()
    # /etc/shadow is read for names only: every awk over it prints $1 (the name), never $2 (the hash)
    for line in text.splitlines():
        if "/etc/shadow" in line:
            assert "print $2" not in line and "cat /etc/shadow" not in line, line
