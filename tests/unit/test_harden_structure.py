"""ansible-lint-like structure tests of roles/baseline against the control catalogue.

Every task name, tag and boolean must match the catalogue; disruptive controls must be gated;
secrets must be no_log; the generated README table must be current; the playbook must parse.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from egovops.compliance import docs
from egovops.compliance.catalogue import load

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
ROLE = REPO / "roles" / "baseline"
NAME = re.compile(r"^(?P<id>L3-CES\d+-\d+) \| (?P<kind>PATCH|AUDIT) \| \S")
FAMILY_FILES = {
    "identification_authentication", "access_control", "security_audit", "intrusion_prevention",
    "malicious_code_prevention", "data_integrity", "data_confidentiality", "data_backup_recovery",
    "residual_information", "personal_information",
}


def family_tasks() -> list[tuple[str, dict]]:
    out = []
    for f in sorted((ROLE / "tasks").glob("*.yml")):
        if f.stem == "main":
            continue
        for t in yaml.safe_load(f.read_text(encoding="utf-8")) or []:
            out.append((f.stem, t))
    return out


def defaults() -> dict:
    return yaml.safe_load((ROLE / "defaults" / "main.yml").read_text(encoding="utf-8"))


def test_one_task_file_per_family_with_enforced_controls():
    cat = load()
    enforced = {c.family.slug for c in cat.controls if c.enforced_tag}
    files = {f.stem for f in (ROLE / "tasks").glob("*.yml")} - {"main"}
    assert files == enforced == FAMILY_FILES
    main = yaml.safe_load((ROLE / "tasks" / "main.yml").read_text())
    imported = [t["ansible.builtin.import_tasks"] for t in main if "ansible.builtin.import_tasks" in t]
    assert sorted(imported) == sorted(f"{s}.yml" for s in FAMILY_FILES)


def test_every_task_is_named_tagged_and_switched_by_its_control():
    cat = load()
    by_id = {c.id: c for c in cat.controls}
    for family, task in family_tasks():
        m = NAME.match(task["name"])
        assert m, f"task name not '<id> | PATCH|AUDIT | what': {task['name']}"
        c = by_id.get(m["id"])
        assert c is not None, f"{task['name']}: {m['id']} not in the catalogue"
        assert c.enforced_tag == c.id, f"{c.id} is check-only in the catalogue but has a task"
        assert c.family.slug == family, f"{task['name']} is in {family}.yml, the catalogue says {c.family.slug}"
        assert set(task["tags"]) >= {c.id, c.family.slug}, f"{task['name']}: tags {task['tags']}"
        when = task["when"] if isinstance(task["when"], str) else " and ".join(task["when"])
        assert c.variable in when, f"{task['name']}: not switched by {c.variable}"
        if c.disruptive:
            assert "baseline_disruptive" in when, f"{task['name']}: disruptive control not gated"


def test_every_enforced_control_has_tasks_and_check_only_ones_have_none():
    cat = load()
    ids = {NAME.match(t["name"])["id"] for _, t in family_tasks()}
    for c in cat.controls:
        if c.enforced_tag:
            assert c.id in ids, f"{c.id}: catalogue says enforced by the role, no task found"
        else:
            assert c.id not in ids


def test_one_boolean_per_control_and_the_gates():
    cat = load()
    d = defaults()
    want = {c.variable for c in cat.controls if c.enforced_tag}
    have = {k for k in d if re.match(r"^baseline_l3_ces\d+_\d+$", k)}
    assert have == want
    assert all(d[v] is True for v in want)
    assert d["baseline_disruptive"] is False
    assert d["baseline_ipv6_required"] is True


def test_secrets_are_no_log_and_never_on_a_command_line():
    for _, task in family_tasks():
        text = yaml.safe_dump(task)
        if "password_hash" in text:
            assert task.get("no_log") is True, task["name"]
            assert "ansible.builtin.raw" not in task, f"{task['name']}: a raw command line would show the secret at -vvv"


def all_tasks() -> list[tuple[str, dict]]:
    out = []
    for f in sorted([*(ROLE / "tasks").glob("*.yml"), ROLE / "handlers" / "main.yml"]):
        out += [(f.name, t) for t in yaml.safe_load(f.read_text(encoding="utf-8")) or []]
    return out


def test_modules_not_raw_and_commands_declare_their_change():
    """No raw task (modules run in check mode with a diff); the few commands no module replaces
    (pam-auth-update, augenrules, aide --init, nft -f, the probe) say when they change something."""
    commands = ("ansible.builtin.command", "ansible.builtin.shell")
    for f, task in all_tasks():
        assert "ansible.builtin.raw" not in task and "raw" not in task, f"{f}: {task['name']} is a raw task"
        if any(c in task for c in commands):
            assert "changed_when" in task, f"{f}: {task['name']}: a command must say when it changed something"


def test_argument_specs_cover_every_default_with_its_type():
    spec = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    options = spec["argument_specs"]["main"]["options"]
    d = defaults()
    assert set(options) == set(d), set(options) ^ set(d)
    types = {bool: "bool", int: "int", str: "str", list: "list", dict: "dict"}
    for k, v in d.items():
        assert options[k]["type"] == types[type(v)], k
        assert options[k]["description"], k
    assert options["baseline_breakglass_password_hash"].get("no_log") is True


def test_ipv6_is_never_disabled_by_the_role():
    d = defaults()
    for k, v in {**d["baseline_sysctl_net"], **d["baseline_sysctl_kernel"]}.items():
        assert not (k.endswith("disable_ipv6") and int(v) == 1)
    text = (ROLE / "tasks" / "intrusion_prevention.yml").read_text()
    assert "'net.ipv6.conf.all.disable_ipv6': 0" in text and "baseline_ipv6_required" in text


def test_readme_table_is_generated_from_the_catalogue():
    current = docs.README.read_text(encoding="utf-8")
    assert docs.render(current) == current, "run: python -m egovops.compliance.docs"
    for c in load().controls:
        assert f"| {c.id} |" in current


def test_playbook_syntax_check(tmp_path):
    exe = REPO / ".venv" / "bin" / "ansible-playbook"
    if not exe.exists():
        pytest.skip("ansible-playbook not installed in .venv")
    inv = tmp_path / "hosts.yaml"
    from egovops.model import load_inventory
    from egovops.render import ansible
    inv.write_text(ansible.render(load_inventory(REPO / "inventories" / "lab"))["hosts.yaml"])
    env = {**os.environ, "ANSIBLE_ROLES_PATH": str(REPO / "roles"), "ANSIBLE_LOCAL_TEMP": str(tmp_path),
           "ANSIBLE_HOME": str(tmp_path)}
    r = subprocess.run([str(exe), "-i", str(inv), str(REPO / "playbooks" / "baseline.yml"), "--syntax-check"],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
