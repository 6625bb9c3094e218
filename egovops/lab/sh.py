"""Running commands for the lab: always bounded in time, failures carry the command and its stderr."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence


class LabError(RuntimeError):
    """A lab operation failed; the message names what and why (never a secret)."""


class LabInputError(LabError):
    """The request itself is wrong (not a lab inventory, a --limit matching nothing): exit 2, nothing changed."""


def run(cmd: Sequence[str], *, timeout: float = 60, check: bool = True, input: str | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``cmd`` (no shell) with a timeout; raise LabError naming the command on failure."""
    try:
        res = subprocess.run(list(cmd), input=input, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise LabError(f"timed out after {timeout:.0f}s: {' '.join(cmd)[:200]}") from None
    except FileNotFoundError:
        raise LabError(f"command not found: {cmd[0]} (run scripts/bootstrap to install the lab's packages)") from None
    if check and res.returncode != 0:
        raise LabError(f"failed ({res.returncode}): {' '.join(cmd)[:200]}: {res.stderr.strip()[-500:]}")
    return res


def ip_batch(lines: list[str], *, netns: str | None = None, force: bool = False, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run many ``ip`` commands in one process (``ip -batch -``): ~100x faster than one process each.

    With ``force`` the batch continues past errors (used by teardown, where "already gone" is fine).
    """
    if not lines:
        return subprocess.CompletedProcess([], 0, "", "")
    cmd = ["ip"] + (["-n", netns] if netns else []) + (["-force"] if force else []) + ["-batch", "-"]
    return run(cmd, input="\n".join(lines) + "\n", timeout=timeout, check=not force)
