"""Run any playbook of ``playbooks/`` against a host selection: one way to drive Ansible.

Why a wrapper and not a bare ``ansible-playbook``: the inventory is the one derived from the model
at run time (:attr:`Selection.inventory_yaml`, never hand-edited), hosts are reached as the
inventory's admin account with ``become`` (sudo; its password as a temporary 0600 vars file, see
:mod:`egovops.harden.login`), the lab's key is used, secrets
reach Ansible only as files passed with ``-e @file`` (never on a command line or in a log), ansible
runs with pipelining and without fact gathering, progress is shown per task, and the PLAY RECAP is
turned into a per-host summary that the CLI prints as a table or JSON and deploy steps summarise.

The baseline (``egovops harden``) is one caller (:mod:`egovops.harden.baseline`); monitoring and DR
run their playbooks through :func:`run_playbook` too.
"""

from __future__ import annotations

import importlib.util
import json
import os
import queue
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from egovops.harden.login import become_vars_file, host_login
from egovops.harden.targets import REPO, Selection
from egovops.model.province import Province

PLAYBOOKS = REPO / "playbooks"
RECAP = re.compile(
    r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)"
    r"\s+rescued=(\d+)\s+ignored=(\d+)"
)
TASK = re.compile(r"^TASK \[(.*)\] \*+")

ExtraVar = str | int | float | bool
# Bound of one ansible-playbook run (seconds). Why this default: the slowest caller measured so far
# (harden's first run on the 19-host lab) takes about a minute and DR's object tier a few minutes;
# half an hour leaves a production province room and still ends a run that hangs (an SSH login
# waiting for ever, a task blocked on a lock) instead of holding the change lock for good.
DEFAULT_TIMEOUT = 1800.0
TIMEOUT_RC = 124  # like timeout(1): the run was stopped, not finished
KILL_GRACE = 5.0  # SIGTERM first (ansible stops its workers), SIGKILL after this


class PlaybookInputError(ValueError):
    """A required input is missing or wrong (named in the message); nothing was run."""


@dataclass
class HostRecap:
    host: str
    ok: int
    changed: int
    unreachable: int
    failed: int
    skipped: int


@dataclass
class PlaybookRun:
    rc: int
    seconds: float
    check: bool
    hosts: list[HostRecap] = field(default_factory=list)
    log: str = ""
    tasks: int = 0
    playbook: str = ""
    log_path: Path | None = None
    error: str = ""  # why the run was stopped (the timeout, naming the playbook and hosts); "" otherwise

    @property
    def ok(self) -> bool:
        """Ansible succeeded and no host failed or was unreachable (an empty recap with rc 0 is ok:
        e.g. every task skipped by --tags)."""
        return self.rc == 0 and not self.error and all(h.failed == 0 and h.unreachable == 0 for h in self.hosts)

    @property
    def changed(self) -> int:
        return sum(h.changed for h in self.hosts)


def parse_recap(lines: Iterable[str]) -> list[HostRecap]:
    """The PLAY RECAP lines of an ansible-playbook run, one per host."""
    return [
        HostRecap(m.group(1), *(int(m.group(i)) for i in (2, 3, 4, 5, 6)))
        for m in (RECAP.match(line) for line in lines)
        if m
    ]


def work_dir(province: Province, playbook: Path) -> Path:
    """Where a run of ``playbook`` keeps its inventory copy and log (one folder per playbook, so
    runs of different playbooks never overwrite each other's files)."""
    return REPO / "build" / "playbooks" / province.meta.name / playbook.stem


def mitogen_env() -> dict[str, str]:
    """Mitogen's linear strategy, when the package is installed (a project dependency).

    Why: measured on the 19-host lab (2 cores), the plain ssh connection costs ~0.33 CPU-s per module
    run on the host (sudo, a new Python, AnsiballZ unpacking and imports), so the baseline's ~72
    module runs per host were CPU-bound at ~240 s per re-run whatever the forks or strategy. Mitogen
    keeps one Python per host, already root through one sudo, and runs the same modules in it (same
    module code, check mode and diff; not a bypass). Host keys are still enforced: mitogen maps
    host_key_checking to StrictHostKeyChecking=yes and passes ANSIBLE_SSH_ARGS (our known_hosts).
    ``EGOVOPS_ANSIBLE_MITOGEN=0`` falls back to the plain ssh connection (to compare or debug).
    """
    if os.environ.get("EGOVOPS_ANSIBLE_MITOGEN", "1") == "0" or "ANSIBLE_STRATEGY" in os.environ:
        return {}  # asked for the plain path, or for a strategy of one's own (e.g. a bench's --env)
    spec = importlib.util.find_spec("ansible_mitogen")
    if spec is None or not spec.submodule_search_locations:
        return {}
    strategies = Path(next(iter(spec.submodule_search_locations))) / "plugins" / "strategy"
    return {"ANSIBLE_STRATEGY_PLUGINS": str(strategies), "ANSIBLE_STRATEGY": "mitogen_linear"}


def ansible_env(sel: Selection, forks: int, mitogen: bool = False) -> dict[str, str]:
    """The environment of ansible-playbook; ``mitogen``: run with :func:`mitogen_env`'s strategy."""
    env = dict(os.environ)
    env.update(
        {
            "ANSIBLE_PIPELINING": "True",
            "ANSIBLE_HOST_KEY_CHECKING": "True",
            "ANSIBLE_ROLES_PATH": str(REPO / "roles"),
            "ANSIBLE_FORKS": str(max(1, forks)),
            "ANSIBLE_GATHERING": "explicit",
            # connection timeout (ssh ConnectTimeout; Mitogen's whole connect: ssh, sudo, its bootstrap).
            # Ansible's 10 s default timed out 5 of 21 hosts of harden --check with Mitogen on the full
            # lab at load ~25 (1 Dec make deploy --industry); 60 s stays bounded
            "ANSIBLE_TIMEOUT": "60",
            "ANSIBLE_RETRY_FILES_ENABLED": "False",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            # host keys verified: the lab's own known_hosts, or the operator's (egovops.lab.known_hosts)
            "ANSIBLE_SSH_ARGS": "-o ControlMaster=auto -o ControlPersist=120s -o StrictHostKeyChecking=yes "
            + (f"-o UserKnownHostsFile={sel.known_hosts} " if sel.known_hosts else "")
            + "-o LogLevel=ERROR",
            "ANSIBLE_LOCALHOST_WARNING": "False",
            "ANSIBLE_DEPRECATION_WARNINGS": "False",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if mitogen:
        env.update(mitogen_env())
    return env


def ansible_playbook_exe() -> str:
    venv_bin = REPO / ".venv" / "bin" / "ansible-playbook"
    return str(venv_bin) if venv_bin.exists() else "ansible-playbook"


def command(
    sel: Selection,
    playbook: Path,
    inventory_file: Path,
    *,
    check: bool = False,
    tags: str | None = None,
    extra_vars_files: Iterable[Path] = (),
    extra_vars: Mapping[str, ExtraVar] | None = None,
    verbosity: int = 0,
) -> list[str]:
    """The ansible-playbook command line. Secrets only ever appear here as ``@file`` references."""
    cmd = [
        ansible_playbook_exe(),
        "-i",
        str(inventory_file),
        str(playbook),
        "--limit",
        ",".join(t.node for t in sel.targets),
    ]
    for f in extra_vars_files:
        cmd += ["-e", f"@{f}"]
    if sel.key:
        cmd += ["--private-key", sel.key]
    if check:
        cmd += ["--check", "--diff"]
    if tags:
        cmd += ["--tags", tags]
    if extra_vars:
        cmd += ["-e", json.dumps(dict(extra_vars), sort_keys=True)]
    if verbosity:
        cmd.append("-" + "v" * verbosity)
    return cmd


def run_playbook(
    province: Province,
    playbook: Path,
    sel: Selection,
    *,
    check: bool = False,
    tags: str | None = None,
    extra_vars_files: Iterable[Path] = (),
    extra_vars: Mapping[str, ExtraVar] | None = None,
    progress: Callable[[str], None] = lambda m: None,
    verbosity: int = 0,
    workdir: Path | None = None,
    log_name: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    mitogen: bool = False,
) -> PlaybookRun:
    """Run ``playbook`` on the selected hosts and return the per-host recap.

    ``extra_vars_files`` are passed as ``-e @file`` (use it for anything secret: the file stays
    0600 and its content never reaches a command line); ``extra_vars`` are plain, non-secret values
    (passed as one JSON ``-e``). The derived inventory and the full log are written to ``workdir``
    (default ``build/playbooks/<province>/<playbook stem>/``); the log is ``<stem>[-check].log``
    unless ``log_name`` is given. Raises :class:`PlaybookInputError` before running anything when no
    host is selected, the playbook or a vars file does not exist, or ``timeout`` is not positive.

    The run is bounded by ``timeout`` seconds: then ansible-playbook (and the workers and SSH
    clients it started, all in the process group of the PID we started) is terminated, then
    killed, and the run comes back not ok with ``rc`` 124 and ``error`` naming the playbook and
    the hosts (also the log's last line).

    ``mitogen``: run with Mitogen's strategy (:func:`mitogen_env`; the baseline does, measured faster
    on 19 hosts). Off by default: the other roles (DR's nested become_user, delegate_to) were not
    measured or tested with it.
    """
    playbook = Path(playbook)
    if not timeout > 0:
        raise PlaybookInputError(f"timeout {timeout!r}: must be a positive number of seconds")
    if not playbook.is_file():
        raise PlaybookInputError(f"playbook {playbook}: no such file")
    if not sel.targets:
        raise PlaybookInputError("no hosts selected (check --limit, and that the lab is up)")
    files = [Path(f) for f in extra_vars_files]
    for f in files:
        if not f.is_file():
            raise PlaybookInputError(f"extra vars file {f}: no such file")
    d = workdir or work_dir(province, playbook)
    d.mkdir(parents=True, exist_ok=True)
    inv = d / "hosts.yaml"
    inv.write_text(sel.inventory_yaml, encoding="utf-8")
    login = sel.login or host_login(province)
    with become_vars_file(login) as become:  # the sudo password: a 0600 file for this run only
        cmd = command(
            sel,
            playbook,
            inv,
            check=check,
            tags=tags,
            extra_vars_files=[*files, *([become] if become else [])],
            extra_vars=extra_vars,
            verbosity=verbosity,
        )
        return _execute(cmd, sel, check, playbook, d, progress, log_name, timeout, mitogen)


def _hosts(sel: Selection, most: int = 8) -> str:
    names = [t.node for t in sel.targets]
    return ", ".join(names[:most]) + (f" … ({len(names)} hosts)" if len(names) > most else "")


def _stop(proc: subprocess.Popen[str]) -> None:
    """Terminate, then kill, the process group of the PID we started (ansible-playbook, its forks and
    their SSH clients; never anything else: the group was made for this run by start_new_session)."""
    for sig, wait in ((signal.SIGTERM, KILL_GRACE), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        # the leader is gone; a fork or ssh child slow on (or ignoring) SIGTERM may not be: always
        # SIGKILL the group once (safe: Linux reuses no pgid while a member lives; none left -> no-op)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return


def _execute(
    cmd: list[str],
    sel: Selection,
    check: bool,
    playbook: Path,
    d: Path,
    progress: Callable[[str], None],
    log_name: str | None,
    timeout: float = DEFAULT_TIMEOUT,
    mitogen: bool = False,
) -> PlaybookRun:
    """Run the ansible-playbook command, streaming task progress, bounded by ``timeout``; write the log;
    parse the recap.

    Why a reader thread: a hung run prints nothing, so a deadline checked between output lines would
    never fire; the main thread waits on the queue with the time left instead.
    """
    t0 = time.monotonic()
    deadline = t0 + timeout
    lines: list[str] = []
    ntask = 0
    error = ""
    proc = subprocess.Popen(
        cmd,
        cwd=REPO,
        env=ansible_env(sel, len(sel.targets), mitogen),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
        start_new_session=True,  # its own process group: a timeout stops everything it started
    )
    stdout = proc.stdout
    assert stdout is not None
    out: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        try:
            for line in stdout:
                out.put(line)
        finally:
            out.put(None)

    threading.Thread(target=pump, name=f"ansible-{proc.pid}", daemon=True).start()
    try:
        while True:
            try:
                line = out.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            lines.append(line)
            m = TASK.match(line)
            if m:
                ntask += 1
                progress(f"[{time.monotonic() - t0:5.1f}s] task {ntask}: {m.group(1)}")
            elif line.startswith(("fatal:", "failed:")) or "UNREACHABLE" in line:
                progress("  " + line.strip()[:200])
        try:
            rc = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            error = (
                f"{playbook.name} on {_hosts(sel)}: timed out after {timeout:g}s; "
                f"ansible-playbook (PID {proc.pid}) and its workers stopped"
            )
            _stop(proc)
            rc = TIMEOUT_RC
    finally:
        if proc.poll() is None:  # interrupted (Ctrl-C) or failed above: nothing of this run is left behind
            _stop(proc)
    if error:
        lines.append(f"egovops: {error}\n")
        progress(error)
    log = "".join(lines)
    log_path = d / (log_name or f"{playbook.stem}{'-check' if check else ''}.log")
    log_path.write_text(log, encoding="utf-8")
    return PlaybookRun(
        rc, round(time.monotonic() - t0, 2), check, parse_recap(lines), log, ntask, playbook.name, log_path, error
    )
