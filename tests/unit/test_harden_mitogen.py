"""The baseline's speed lever: Mitogen's strategy (egovops.harden.playbook.mitogen_env).

Why these tests: on the 19-host lab the baseline was CPU-bound on module start-up (sudo, a new
Python, AnsiballZ per module run); Mitogen keeps one interpreter per host. The tests prove that
`egovops harden` really runs through it (two tasks' commands share one parent process, which the
plain connection never does), that the other playbooks keep the plain connection, that host-key
checking stays on, and that it can be switched off.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from egovops.harden import baseline, playbook
from egovops.harden.playbook import ansible_env, mitogen_env, run_playbook
from egovops.harden.targets import Selection, Target

pytestmark = pytest.mark.unit

PARENTS = """\
- name: Parent process of two tasks
  hosts: all
  gather_facts: false
  tasks:
    - name: "T-01 | AUDIT | Parent of the first command"
      ansible.builtin.command: sh -c 'echo $PPID'
      changed_when: false
      register: first
    - name: "T-02 | AUDIT | Parent of the second command"
      ansible.builtin.command: sh -c 'echo $PPID'
      changed_when: false
      register: second
    - name: "T-03 | AUDIT | Report both"
      ansible.builtin.debug:
        msg: "PARENTS {{ first.stdout }} {{ second.stdout }}"
"""


def local_selection(name: str = "h1") -> Selection:
    hosts = {name: {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}
    inv = yaml.safe_dump({"all": {"hosts": hosts}})
    return Selection([Target(name, "127.0.0.1", "", name, "cloud", hosts[name])], None, "", inv)


def parents(tmp_path: Path, province, mitogen: bool) -> tuple[str, str]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    pb = tmp_path / "parents.yml"
    pb.write_text(PARENTS)
    res = run_playbook(province, pb, local_selection(), workdir=tmp_path / "w", mitogen=mitogen)
    assert res.ok, res.log
    line = next(ln for ln in res.log.splitlines() if "PARENTS" in ln)
    a, b = line.split("PARENTS", 1)[1].strip().strip('"').split()[:2]
    return a, b


def test_mitogen_strategy_is_installed_and_keeps_host_key_checking(monkeypatch):
    monkeypatch.delenv("ANSIBLE_STRATEGY", raising=False)
    env = mitogen_env()
    assert env["ANSIBLE_STRATEGY"] == "mitogen_linear"
    assert (Path(env["ANSIBLE_STRATEGY_PLUGINS"]) / "mitogen_linear.py").is_file()
    full = ansible_env(local_selection(), 1, mitogen=True)
    assert full["ANSIBLE_STRATEGY"] == "mitogen_linear"
    assert full["ANSIBLE_HOST_KEY_CHECKING"] == "True" and "StrictHostKeyChecking=yes" in full["ANSIBLE_SSH_ARGS"]


def test_other_playbooks_keep_the_plain_connection_and_mitogen_can_be_switched_off(monkeypatch):
    assert "mitogen" not in ansible_env(local_selection(), 1).get("ANSIBLE_STRATEGY", "")
    monkeypatch.setenv("EGOVOPS_ANSIBLE_MITOGEN", "0")
    assert mitogen_env() == {}
    assert "mitogen" not in ansible_env(local_selection(), 1, mitogen=True).get("ANSIBLE_STRATEGY", "")


def test_mitogen_runs_the_tasks_in_one_interpreter(tmp_path, anhui_province):
    a, b = parents(tmp_path / "m", anhui_province, mitogen=True)
    assert a == b, "with Mitogen both commands are started by the same persistent interpreter"
    c, d = parents(tmp_path / "p", anhui_province, mitogen=False)
    assert c != d, "the plain connection starts a new Python per task"


def test_harden_asks_for_mitogen(monkeypatch, anhui_province):
    seen: dict[str, object] = {}

    def fake_run_playbook(*args, **kwargs):
        seen.update(kwargs)
        return playbook.PlaybookRun(0, 0.0, False)

    monkeypatch.setattr(baseline, "run_playbook", fake_run_playbook)
    monkeypatch.setattr(baseline, "breakglass_vars", lambda p: Path(__file__))
    baseline.run(anhui_province, local_selection(), check=True)
    assert seen.get("mitogen") is True


def test_a_strategy_asked_for_is_kept(monkeypatch):
    """A bench's --env ANSIBLE_STRATEGY=free must measure free, not Mitogen under a "free" label."""
    monkeypatch.setenv("ANSIBLE_STRATEGY", "free")
    assert mitogen_env() == {}
    assert ansible_env(local_selection(), 1, mitogen=True)["ANSIBLE_STRATEGY"] == "free"


@pytest.mark.parametrize("inv", ["inventories/lab", "inventories/anhui"])
def test_no_inventory_variable_overrides_host_key_checking(inv):
    """Under Mitogen (and plain ssh) a host or group variable would win over ANSIBLE_HOST_KEY_CHECKING /
    ANSIBLE_SSH_ARGS (ansible_mitogen transport_config): the rendered Ansible inventory sets none."""
    from egovops.model import load_inventory
    from egovops.render import ansible as ansible_render

    repo = Path(__file__).resolve().parents[2]
    files = ansible_render.render(load_inventory(repo / inv))
    assert "hosts.yaml" in files
    for name, text in files.items():
        for bad in ("host_key_checking", "ssh_common_args", "ssh_extra_args", "ssh_args", "StrictHostKeyChecking"):
            assert bad not in text, f"{name} sets {bad}"
