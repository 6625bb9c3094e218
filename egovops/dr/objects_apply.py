"""Apply the object tier to hosts: run ``playbooks/dr_objects.yml`` (roles/object_store) with the plan.

Inputs reach Ansible as files only: the derived inventory (``egovops.render.ansible``), the plan of
every selected host (``object_store_plan``, from :mod:`egovops.render.seaweed`) and the S3 identities
(a 0600 vars file in the secrets dir; the role's tasks touching it use ``no_log``). Host keys are
verified against the lab's own keys (:func:`egovops.dr.remote.known_hosts`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from egovops.dr.remote import known_hosts
from egovops.model.province import Province
from egovops.render import seaweed
from egovops.render.ansible import render as render_inventory

REPO = Path(__file__).resolve().parents[2]
PLAYBOOK = REPO / "playbooks" / "dr_objects.yml"
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)")
TASK = re.compile(r"^TASK \[(.*)\] \*+")
ANSIBLE_TIMEOUT = 900.0
ADMIN_ACTIONS = ["Admin", "Read", "List", "Tagging", "Write"]


@dataclass
class ApplyRun:
    rc: int
    seconds: float
    changed: int = 0
    failed_hosts: list[str] = field(default_factory=list)
    log_path: Path | None = None

    @property
    def ok(self) -> bool:
        return self.rc == 0 and not self.failed_hosts


def work_dir(province: Province) -> Path:
    return REPO / "build" / "dr" / province.meta.name / "objects"


def identities(province: Province) -> list[dict[str, Any]]:
    """The stores' S3 identities: the admin (controller) and pgBackRest (its bucket only)."""
    from egovops.dr.objects import credentials

    pg_bucket = seaweed.spec(province).pgbackrest_bucket
    a_key, a_secret = credentials(province, "admin")
    p_key, p_secret = credentials(province, "pgbackrest")
    return [
        {"name": "egovops-admin", "access_key": a_key, "secret_key": a_secret, "actions": ADMIN_ACTIONS},
        {"name": "pgbackrest", "access_key": p_key, "secret_key": p_secret,
         "actions": [f"{a}:{pg_bucket}" for a in ("Read", "Write", "List", "Tagging")]},
    ]


def _private(path: Path, text: str) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


def write_inputs(province: Province, sites: list[str]) -> tuple[Path, Path, Path]:
    """(inventory, plan vars, secret vars) files for one run. JSON is valid YAML for ``-e @file``."""
    d = work_dir(province)
    d.mkdir(parents=True, exist_ok=True)
    inv = d / "hosts.yaml"
    inv.write_text(render_inventory(province)["hosts.yaml"], encoding="utf-8")
    plan = {"object_store_plan": {s: seaweed.role_vars(province, s, among=sites) for s in sites}}
    plan_file = d / "plan.json"
    plan_file.write_text(json.dumps(plan, indent=1, sort_keys=True), encoding="utf-8")
    from egovops.dr.objects import credentials_file
    secret_dir = credentials_file(province).parent
    secret_file = _private(secret_dir / "objects-identities.vars.json",
                           json.dumps({"object_store_identities": identities(province)}))
    return inv, plan_file, secret_file


def ansible_env(province: Province, forks: int) -> dict[str, str]:
    kh = known_hosts(province)
    ssh_args = "-o ControlMaster=auto -o ControlPersist=60s -o StrictHostKeyChecking=yes -o LogLevel=ERROR"
    if kh is not None:
        ssh_args += f" -o UserKnownHostsFile={kh}"
    env = dict(os.environ)
    env.update({
        "ANSIBLE_PIPELINING": "True",
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        "ANSIBLE_ROLES_PATH": str(REPO / "roles"),
        "ANSIBLE_FORKS": str(max(1, forks)),
        "ANSIBLE_GATHERING": "explicit",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_SSH_ARGS": ssh_args,
        "ANSIBLE_LOCALHOST_WARNING": "False",
        "ANSIBLE_DEPRECATION_WARNINGS": "False",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def command(province: Province, sites: list[str], inv: Path, plan: Path, secret: Path, check: bool) -> list[str]:
    exe = REPO / ".venv" / "bin" / "ansible-playbook"
    cmd = [str(exe) if exe.exists() else "ansible-playbook", "-i", str(inv), str(PLAYBOOK),
           "--limit", ",".join(sites), "-e", f"@{plan}", "-e", f"@{secret}"]
    key = os.environ.get("EGOVOPS_SSH_KEY")
    if province.meta.environment == "lab" and not key:
        from egovops.lab.secrets import private_key_path
        key = str(private_key_path(province))
    if key:
        cmd += ["--private-key", key]
    if check:
        cmd += ["--check", "--diff"]
    return cmd


def _run(cmd: list[str], province: Province, nsites: int, t0: float,
         progress: Callable[[str], None]) -> tuple[int, list[str], int]:
    """ansible-playbook with progress per task, killed after ANSIBLE_TIMEOUT: (rc, output lines, tasks)."""
    lines: list[str] = []
    ntask = 0
    rc = -1
    proc = subprocess.Popen(cmd, cwd=REPO, env=ansible_env(province, nsites), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, bufsize=1)
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            lines.append(line)
            m = TASK.match(line)
            if m:
                ntask += 1
                progress(f"[{time.monotonic() - t0:5.1f}s] {m.group(1)}")
            elif line.startswith(("fatal:", "failed:")) or "UNREACHABLE" in line:
                progress("  " + line.strip()[:200])
            if time.monotonic() - t0 > ANSIBLE_TIMEOUT:
                proc.kill()
                lines.append(f"egovops: ansible-playbook killed after {ANSIBLE_TIMEOUT:.0f}s\n")
                break
        rc = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    return rc, lines, ntask


def apply(province: Province, sites: list[str], progress: Callable[[str], None] = lambda m: None,
          check: bool = False) -> ApplyRun:
    """Run the role on ``sites`` (bounded by ANSIBLE_TIMEOUT); progress per task; log under build/dr/."""
    from egovops.harden.login import become_vars_file, host_login

    inv, plan, secret = write_inputs(province, sites)
    cmd = command(province, sites, inv, plan, secret, check)
    log_path = work_dir(province) / ("ansible-check.log" if check else "ansible.log")
    t0 = time.monotonic()
    # the hosts' admin account logs in, the play becomes root with sudo: its password as a 0600 file
    # that exists only for this run (egovops.harden.login)
    with become_vars_file(host_login(province)) as become:
        rc, lines, ntask = _run(cmd + (["-e", f"@{become}"] if become else []), province, len(sites), t0, progress)
    log_path.write_text("".join(lines), encoding="utf-8")
    changed, failed = 0, []
    for m in (RECAP.match(line) for line in lines):
        if m:
            changed += int(m.group(3))
            if int(m.group(4)) or int(m.group(5)):
                failed.append(m.group(1))
    return ApplyRun(rc, round(time.monotonic() - t0, 1), changed, failed, log_path)


def wait_ready(s3: Any, timeout: float = 60.0) -> None:
    """Until the S3 gateway answers a listing (its filer may lag the port by a second or two); bounded."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            s3.list_buckets()
            return
        except Exception as exc:  # noqa: BLE001 — retried until the deadline, then reported
            last = exc
            time.sleep(0.5)
    raise TimeoutError(f"S3 gateway not ready after {timeout:.0f}s: {last}")
