"""Processes the lab started: PID files, verified identity, parallel bounded stop.

The lab stops only processes it started: those named by its own PID files (checked against
``/proc/<pid>/cmdline`` so a recycled PID is never hit) and those running inside its own network
namespaces. Never by name.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterable
from pathlib import Path


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def alive(pid: int) -> bool:
    if pid <= 0:  # kill(0) / kill(-1) would address process groups, never a single process
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # zombies count as gone
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def pid_if_ours(path: Path, marker: str) -> int | None:
    """The PID in ``path`` if that process is alive and its command line contains ``marker``."""
    pid = read_pid(path)
    if not (pid and pid > 1 and alive(pid)):
        return None
    for _ in range(5):  # a process in the middle of execve briefly shows an empty command line
        cl = cmdline(pid)
        if cl:
            return pid if marker in cl else None
        time.sleep(0.02)
    return None


def stop_recorded(folder: Path, marker: str, *, grace: float = 5.0) -> list[int]:
    """Stop every live process named by a ``*.pid`` file directly in ``folder`` whose command line
    contains ``marker`` (a recycled PID is left alone), then remove those PID files. Returns the PIDs stopped."""
    files = sorted(folder.glob("*.pid")) if folder.is_dir() else []
    pids = [p for p in (pid_if_ours(f, marker) for f in files) if p]
    stop(pids, grace=grace)
    for f in files:
        f.unlink(missing_ok=True)
    return pids


def netns_inode(ns_path: Path) -> int | None:
    try:
        return os.stat(ns_path).st_ino
    except OSError:
        return None


def pids_in_netns(inodes: set[int]) -> list[int]:
    """PIDs of every process whose network namespace is one of ``inodes`` (the lab's namespaces)."""
    out = []
    me = os.getpid()
    for d in Path("/proc").iterdir():
        if not d.name.isdigit() or int(d.name) == me:
            continue
        try:
            if os.stat(d / "ns/net").st_ino in inodes:
                out.append(int(d.name))
        except OSError:
            continue
    return out


def stop(pids: Iterable[int], *, grace: float = 5.0) -> list[int]:
    """SIGTERM all, wait up to ``grace`` seconds (all in parallel), SIGKILL what is left; return the killed."""
    pids = [p for p in set(pids) if p > 1]
    for p in pids:
        try:
            os.kill(p, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + grace
    left = pids
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = [p for p in left if alive(p)]
    for p in left:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 5
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = [p for p in left if alive(p)]
    return pids
