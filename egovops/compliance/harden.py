"""Run the level-3 baseline playbook (playbooks/baseline.yml) against the selected hosts.

Why a wrapper and not a bare ``ansible-playbook``: the inventory is derived from the model at run
time (never hand-edited), the lab's key and host-key policy are set, the break-glass password hash
comes from the secrets store (a file passed with ``-e @file``, never on a command line or in a log),
ansible runs with pipelining and without fact gathering, progress is shown per task and the PLAY
RECAP is turned into a per-host summary (table or JSON).
"""

from __future__ import annotations

import os
import re
import secrets as pysecrets
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from egovops.compliance.targets import REPO, Selection
from egovops.model.province import Province

PLAYBOOK = REPO / "playbooks" / "baseline.yml"
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)"
                   r"\s+rescued=(\d+)\s+ignored=(\d+)")
TASK = re.compile(r"^TASK \[(.*)\] \*+")


class HardenInputError(ValueError):
    """A required input is missing (named in the message); nothing was run."""


@dataclass
class HostRecap:
    host: str
    ok: int
    changed: int
    unreachable: int
    failed: int
    skipped: int


@dataclass
class HardenRun:
    rc: int
    seconds: float
    check: bool
    hosts: list[HostRecap] = field(default_factory=list)
    log: str = ""
    tasks: int = 0

    @property
    def ok(self) -> bool:
        return self.rc == 0 and all(h.failed == 0 and h.unreachable == 0 for h in self.hosts)

    @property
    def changed(self) -> int:
        return sum(h.changed for h in self.hosts)


def run_dir(province: Province) -> Path:
    return REPO / "build" / "harden" / province.meta.name


def breakglass_vars(province: Province) -> Path:
    """The extra-vars file holding the break-glass password hash (0600; the hash is a secret).

    Production: ``EGOVOPS_BREAKGLASS_VARS`` names a vault-provided file with
    ``baseline_breakglass_password_hash``. Lab: generated once under the lab's secrets folder
    (the password itself is kept beside it, 0600, for the console).
    """
    env = os.environ.get("EGOVOPS_BREAKGLASS_VARS")
    if env:
        p = Path(env)
        if not p.is_file():
            raise HardenInputError(f"EGOVOPS_BREAKGLASS_VARS={env}: no such file")
        return p
    if province.meta.environment != "lab":
        raise HardenInputError("no break-glass password hash: set EGOVOPS_BREAKGLASS_VARS to a vault-provided vars "
                               "file with baseline_breakglass_password_hash (control L3-CES1-07)")
    from egovops.lab import secrets_dir
    from egovops.lab.secrets import password_hash
    d = secrets_dir(province)
    d.mkdir(parents=True, exist_ok=True)
    vars_file = d / "breakglass.vars.yml"
    if not vars_file.exists():
        pw = pysecrets.token_urlsafe(18)
        for path, text in ((d / "breakglass.password", pw + "\n"),
                           (vars_file, f'baseline_breakglass_password_hash: "{password_hash(pw)}"\n')):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(text)
    return vars_file


def ansible_env(sel: Selection, forks: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "ANSIBLE_PIPELINING": "True",
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_ROLES_PATH": str(REPO / "roles"),
        "ANSIBLE_FORKS": str(max(1, forks)),
        "ANSIBLE_GATHERING": "explicit",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_SSH_ARGS": "-o ControlMaster=auto -o ControlPersist=120s -o UserKnownHostsFile=/dev/null "
                            "-o StrictHostKeyChecking=no -o LogLevel=ERROR",
        "ANSIBLE_LOCALHOST_WARNING": "False",
        "ANSIBLE_DEPRECATION_WARNINGS": "False",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def command(sel: Selection, inventory_file: Path, vars_file: Path, check: bool, tags: Optional[str],
            disruptive: bool, verbosity: int = 0) -> list[str]:
    venv_bin = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "ansible-playbook"
    exe = str(venv_bin) if venv_bin.exists() else "ansible-playbook"
    cmd = [exe, "-i", str(inventory_file), str(PLAYBOOK), "--limit", ",".join(t.node for t in sel.targets),
           "-e", f"@{vars_file}"]
    if sel.key:
        cmd += ["--private-key", sel.key]
    if check:
        cmd += ["--check", "--diff"]
    if tags:
        cmd += ["--tags", tags]
    if disruptive:
        cmd += ["-e", "baseline_disruptive=true"]
    if verbosity:
        cmd.append("-" + "v" * verbosity)
    return cmd


def run(province: Province, sel: Selection, check: bool = False, tags: Optional[str] = None,
        disruptive: bool = False, progress: Callable[[str], None] = lambda m: None, verbosity: int = 0) -> HardenRun:
    if not sel.targets:
        raise HardenInputError("no hosts selected (check --limit, and that the lab is up)")
    vars_file = breakglass_vars(province)
    d = run_dir(province)
    d.mkdir(parents=True, exist_ok=True)
    inv = d / "hosts.yaml"
    inv.write_text(sel.inventory_yaml, encoding="utf-8")
    cmd = command(sel, inv, vars_file, check, tags, disruptive, verbosity)
    t0 = time.monotonic()
    lines: list[str] = []
    ntask = 0
    proc = subprocess.Popen(cmd, cwd=REPO, env=ansible_env(sel, len(sel.targets)), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, bufsize=1)
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        m = TASK.match(line)
        if m:
            ntask += 1
            progress(f"[{time.monotonic() - t0:5.1f}s] task {ntask}: {m.group(1)}")
        elif line.startswith(("fatal:", "failed:")) or "UNREACHABLE" in line:
            progress("  " + line.strip()[:200])
    rc = proc.wait()
    log = "".join(lines)
    (d / ("harden-check.log" if check else "harden.log")).write_text(log, encoding="utf-8")
    hosts = [HostRecap(m.group(1), *(int(m.group(i)) for i in (2, 3, 4, 5, 6)))
             for m in (RECAP.match(l) for l in lines) if m]
    return HardenRun(rc, round(time.monotonic() - t0, 2), check, hosts, log, ntask)
