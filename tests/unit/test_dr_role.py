"""roles/dr_postgres keeps the project's Ansible rules: every task named "<control> | <kind> | what",
one boolean per control in defaults, secrets only in no_log tasks, no shell/raw, the play wired in."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.unit

ROLE = Path(__file__).resolve().parents[2] / "roles" / "dr_postgres"
PLAYBOOKS = ROLE.parents[1] / "playbooks"
NAME = re.compile(r"^(PRELIM|DR-PG-\d\d) \| (CONFIG|AUDIT|SERVICE) \| \S")
SECRET = re.compile(r"password|key_secret|tls_key|roles\.sql|pgbackrest\.conf|pgpass")


def tasks() -> list[tuple[str, dict]]:
    out = []
    for f in sorted((ROLE / "tasks").glob("*.yml")):
        for t in yaml.safe_load(f.read_text(encoding="utf-8")) or []:
            out.append((f.name, t))
    return out


def test_every_task_is_named_by_its_control():
    bad = [f"{f}: {t.get('name')}" for f, t in tasks() if not NAME.match(str(t.get("name", "")))]
    assert not bad, bad


def test_one_boolean_per_control():
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text(encoding="utf-8"))
    used = {m.group(1) for _, t in tasks() for m in [NAME.match(t["name"])] if m and m.group(1) != "PRELIM"}
    for control in sorted(used):
        var = "dr_postgres_" + control.split("-")[-1] + "_"
        assert any(k.startswith(var) and isinstance(v, bool) for k, v in defaults.items()), control


def test_secrets_only_in_no_log_tasks():
    for f, t in tasks():
        body = yaml.safe_dump({k: v for k, v in t.items() if k not in ("name", "when", "tags")})
        if SECRET.search(body) and "ca_file" not in body:
            assert t.get("no_log") is True, f"{f}: {t['name']} handles a secret without no_log"


def test_modules_not_shell():
    for f, t in tasks():
        assert not ({"ansible.builtin.shell", "shell", "ansible.builtin.raw", "raw"} & set(t)), f"{f}: {t['name']}"


def test_dr_playbook_imports_the_database_play():
    plays = yaml.safe_load((PLAYBOOKS / "dr.yml").read_text(encoding="utf-8"))
    assert {"ansible.builtin.import_playbook": "dr_postgres.yml"}.items() <= plays[-1].items()
    db = yaml.safe_load((PLAYBOOKS / "dr_postgres.yml").read_text(encoding="utf-8"))
    assert db[0]["roles"] == [{"role": "dr_postgres"}] and db[0]["gather_facts"] is False
