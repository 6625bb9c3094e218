"""The per-inventory change lock: one change (push, rollback, harden, deploy, lab up/down) at a time.

Why: two pushes started half a second apart on one inventory both ran; one changed a router while
the other was inside its verify window and reported it unchanged. Every command that changes
devices or hosts of an inventory therefore holds this lock for its whole run. A second command on
the same inventory waits a bounded time, then fails with :class:`ChangeLocked` naming the holder
(command, PID, start time) — the CLI turns that into exit 2 (nothing was changed).

The lock is a ``filelock.FileLock`` (flock on Linux: released by the kernel when the holder dies,
so a crashed push never leaves a stale lock). Who holds it is written beside it in
``<name>.holder.json`` after the lock is taken; the file is only informative.

Re-entrant within one process: ``deploy`` holds it for the whole pipeline, and its steps (lab up,
net push, harden) take it again without deadlocking on themselves.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

DEFAULT_WAIT = 10.0                # seconds a command waits for the holder before giving up
MAX_WAIT = 3600.0
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class ChangeLocked(RuntimeError):
    """Another change holds the inventory's lock (message names the holder); exit 2, nothing changed."""

    def __init__(self, inventory: str, holder: dict, waited: float) -> None:
        self.inventory, self.holder, self.waited = inventory, holder, waited
        who = (f"`{holder.get('command', '?')}` (PID {holder.get('pid', '?')}, started {holder.get('started', '?')})"
               if holder else "another process (holder not yet recorded)")
        super().__init__(f"inventory {inventory!r} is locked by {who}; waited {waited:.0f}s — "
                         f"retry when it has finished (or pass a longer --lock-wait)")


def lock_dir() -> Path:
    """``EGOVOPS_LOCK_DIR`` or ``.locks/`` of the checkout (beside ``.lab/``; ignored by git)."""
    env = os.environ.get("EGOVOPS_LOCK_DIR")
    return Path(env).resolve() if env else Path(__file__).resolve().parents[1] / ".locks"


def lock_path(inventory_name: str) -> Path:
    if not _NAME.match(inventory_name):
        raise ValueError(f"inventory name {inventory_name!r} cannot name a lock file")
    return lock_dir() / f"{inventory_name}.lock"


def holder_path(inventory_name: str) -> Path:
    return lock_dir() / f"{inventory_name}.holder.json"


def read_holder(inventory_name: str) -> dict:
    """Who holds (or last held) the lock; {} when unknown or unreadable."""
    try:
        data = json.loads(holder_path(inventory_name).read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def command_line() -> str:
    """This process's command as a user typed it (``egovops net push --limit …``)."""
    argv = list(sys.argv)
    if argv and argv[0].endswith(("/egovops", "egovops")):
        argv[0] = "egovops"
    return " ".join(argv)[:300]


_held: dict[str, tuple[FileLock, int]] = {}
_guard = threading.Lock()


@contextlib.contextmanager
def change_lock(inventory_name: str, command: str | None = None, wait: float = DEFAULT_WAIT) -> Iterator[dict]:
    """Hold the inventory's change lock; wait at most ``wait`` seconds, else raise :class:`ChangeLocked`.

    Yields the holder record written for this run.
    """
    if not 0 <= wait <= MAX_WAIT:
        raise ValueError(f"lock wait {wait!r}: expected 0..{MAX_WAIT:g} seconds")
    path = lock_path(inventory_name)
    key = str(path)
    with _guard:
        if key in _held:                       # re-entrant: this process already holds it
            lk, n = _held[key]
            _held[key] = (lk, n + 1)
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield read_holder(inventory_name)
        finally:
            with _guard:
                lk, n = _held[key]
                _held[key] = (lk, n - 1)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    lk = FileLock(str(path), thread_local=False)
    t0 = time.monotonic()
    try:
        lk.acquire(timeout=wait, poll_interval=0.1)
    except Timeout:
        raise ChangeLocked(inventory_name, read_holder(inventory_name), time.monotonic() - t0) from None
    holder = {"command": command or command_line(), "pid": os.getpid(),
              "started": datetime.now(UTC).isoformat(timespec="seconds"), "inventory": inventory_name}
    try:
        tmp = holder_path(inventory_name).with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(holder) + "\n")
        tmp.replace(holder_path(inventory_name))
        with _guard:
            _held[key] = (lk, 1)
        yield holder
    finally:
        with _guard:
            _held.pop(key, None)
        lk.release()


def run_stamp() -> str:
    """A folder name unique per run: UTC time to the microsecond plus the PID.

    Why: rollback points and reports stamped to the second were shared by two pushes started in
    the same second (one overwrote the other's rollback point).
    """
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ") + f"-{os.getpid()}"


def unique_dir(parent: Path, stem: str | None = None) -> Path:
    """Create and return a new folder under ``parent`` that no other run can share (mkdir is atomic)."""
    parent.mkdir(parents=True, exist_ok=True)
    base = stem or run_stamp()
    for n in range(100):
        d = parent / (base if n == 0 else f"{base}.{n}")
        try:
            d.mkdir()
            return d
        except FileExistsError:
            continue
    raise RuntimeError(f"no free run folder under {parent}")
