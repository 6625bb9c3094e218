"""The playbook runner (egovops.harden.playbook) with the real ansible-playbook, on local connections.

No lab: the selection's hosts use ``ansible_connection: local``, so the run is a real Ansible run
(recap, check mode, vars files, tags, log) in about a second per call.
"""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest
import yaml

from egovops.harden.baseline import run_dir
from egovops.harden.playbook import PlaybookInputError, command, parse_recap, run_playbook
from egovops.harden.targets import Selection, Target

pytestmark = pytest.mark.unit

PLAYBOOK = """\
- name: Runner test
  hosts: all
  gather_facts: false
  tasks:
    - name: "T-01 | CONFIG | Write the marker file"
      ansible.builtin.copy:
        dest: "{{ marker_dir }}/{{ inventory_hostname }}.txt"
        content: "{{ secret_value }} {{ plain_value | default('none') }}\\n"
        mode: "0600"
      tags: [marker]
    - name: "T-02 | AUDIT | Fail on request"
      ansible.builtin.fail:
        msg: "asked to fail"
      when: fail_here | default(false) | bool
      tags: [failer]
"""


def selection(names: list[str]) -> Selection:
    hosts = {n: {"ansible_connection": "local", "ansible_python_interpreter": sys.executable} for n in names}
    inv = yaml.safe_dump({"all": {"hosts": hosts}})
    return Selection([Target(n, "127.0.0.1", "", n, "cloud", hosts[n]) for n in names], None, "", inv)


@pytest.fixture
def setup(tmp_path: Path, anhui_province):
    pb = tmp_path / "runner.yml"
    pb.write_text(PLAYBOOK)
    marker = tmp_path / "markers"
    marker.mkdir()
    secret = tmp_path / "secret.vars.yml"
    secret.write_text(f"secret_value: s3cr3t-value\nmarker_dir: {marker}\n")
    secret.chmod(0o600)
    return anhui_province, pb, marker, secret, tmp_path / "work"


def test_run_applies_reports_recap_and_is_idempotent(setup):
    p, pb, marker, secret, work = setup
    sel = selection(["h1", "h2"])
    seen: list[str] = []
    res = run_playbook(
        p, pb, sel, extra_vars_files=[secret], extra_vars={"plain_value": "v1"}, progress=seen.append, workdir=work
    )
    assert res.ok and res.rc == 0, res.log
    assert sorted(h.host for h in res.hosts) == ["h1", "h2"]
    assert res.changed == 2 and res.tasks == 2
    assert (marker / "h1.txt").read_text() == "s3cr3t-value v1\n"
    assert any("T-01 | CONFIG" in m for m in seen)
    assert res.log_path == work / "runner.log" and "PLAY RECAP" in res.log_path.read_text()
    assert yaml.safe_load((work / "hosts.yaml").read_text()) == yaml.safe_load(sel.inventory_yaml)
    again = run_playbook(p, pb, sel, extra_vars_files=[secret], extra_vars={"plain_value": "v1"}, workdir=work)
    assert again.ok and again.changed == 0


def test_check_mode_changes_nothing_and_logs_apart(setup):
    p, pb, marker, secret, work = setup
    res = run_playbook(p, pb, selection(["h1"]), check=True, extra_vars_files=[secret], workdir=work)
    assert res.ok and res.check and res.changed == 1  # would change
    assert not (marker / "h1.txt").exists()
    assert res.log_path == work / "runner-check.log"


def test_failed_host_is_not_ok_and_tags_narrow(setup):
    p, pb, marker, secret, work = setup
    res = run_playbook(
        p, pb, selection(["h1"]), tags="failer", extra_vars_files=[secret], extra_vars={"fail_here": True}, workdir=work
    )
    assert not res.ok and res.rc != 0
    assert [(h.host, h.failed) for h in res.hosts] == [("h1", 1)]
    assert not (marker / "h1.txt").exists()  # the marker task was not tagged failer


def test_secret_reaches_ansible_only_as_a_file(setup):
    p, pb, marker, secret, work = setup
    sel = selection(["h1"])
    cmd = command(sel, pb, work / "hosts.yaml", extra_vars_files=[secret], extra_vars={"plain_value": "x"})
    assert f"@{secret}" in cmd and not any("s3cr3t" in c for c in cmd)
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600


@pytest.mark.parametrize("what", ["no hosts", "no playbook", "no vars file"])
def test_bad_input_raises_before_running(setup, what):
    p, pb, marker, secret, work = setup
    sel = selection([] if what == "no hosts" else ["h1"])
    book = pb.with_name("missing.yml") if what == "no playbook" else pb
    files = [secret.with_name("missing.vars.yml")] if what == "no vars file" else [secret]
    with pytest.raises(PlaybookInputError):
        run_playbook(p, book, sel, extra_vars_files=files, workdir=work)
    assert not work.exists()


def test_recap_parser_reads_every_host():
    lines = [
        "PLAY RECAP *********\n",
        "hefei                      : ok=3    changed=1    unreachable=0    failed=0    skipped=2    rescued=0    ignored=0\n",
        "chuzhou                    : ok=0    changed=0    unreachable=1    failed=0    skipped=0    rescued=0    ignored=0\n",
    ]
    r = parse_recap(lines)
    assert [(h.host, h.ok, h.changed, h.unreachable, h.skipped) for h in r] == [
        ("hefei", 3, 1, 0, 2),
        ("chuzhou", 0, 0, 1, 0),
    ]


def test_baseline_keeps_its_log_place(anhui_province):
    assert run_dir(anhui_province).parts[-3:] == ("build", "harden", "anhui")


def _gone(pid: int, seconds: float = 10.0) -> bool:
    """The process no longer exists (or is a zombie only waiting for init to reap it)."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state == "Z":
            return True
        time.sleep(0.1)
    return False


def test_a_hung_run_is_stopped_at_the_timeout_naming_playbook_and_hosts(setup, monkeypatch):
    """An ansible-playbook that prints a task and then hangs (with a worker of its own) is stopped at the
    timeout: not ok, rc 124, the error names playbook and hosts, and no process of the run is left.
    A stand-in executable (a shell script) so that the bound is exact on a loaded machine."""
    import time

    from egovops.harden import playbook

    p, pb, marker, secret, work = setup
    fake = marker / "ansible-playbook"
    fake.write_text(
        "#!/bin/sh\n"
        f"echo $$ > {marker}/main.pid\n"
        "echo 'TASK [T-03 | CONFIG | A task that hangs] ****'\n"
        f"sleep 120 & echo $! > {marker}/worker.pid\n"
        # a worker that ignores SIGTERM outlives the leader unless the group is killed after it
        f"sh -c \"trap '' TERM; sleep 120\" & echo $! > {marker}/deaf.pid\n"
        "wait\n"
    )
    fake.chmod(0o755)
    monkeypatch.setattr(playbook, "ansible_playbook_exe", lambda: str(fake))
    seen: list[str] = []
    t0 = time.monotonic()
    res = run_playbook(
        p, pb, selection(["h1", "h2"]), extra_vars_files=[secret], progress=seen.append, workdir=work, timeout=2
    )
    took = time.monotonic() - t0
    assert not res.ok and res.rc == 124 and 2 <= took < 2 + 10, (res.rc, took, res.log)
    assert res.tasks == 1 and any("A task that hangs" in m for m in seen)
    assert "runner.yml on h1, h2: timed out after 2s" in res.error and "PID" in res.error
    assert res.error in seen[-1] and res.log_path.read_text().rstrip().endswith(res.error)
    pids = [int((marker / f"{n}.pid").read_text()) for n in ("main", "worker", "deaf")]
    assert all(_gone(pid) for pid in pids), "a process of the run outlived the timeout"


def test_timeout_must_be_positive(setup):
    p, pb, marker, secret, work = setup
    with pytest.raises(PlaybookInputError, match="timeout"):
        run_playbook(p, pb, selection(["h1"]), extra_vars_files=[secret], workdir=work, timeout=0)
