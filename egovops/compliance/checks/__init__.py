"""The compliance checks: one function per catalogue control, run against a testinfra host.

A check takes ``(host, ctx)`` — a testinfra ``Host`` (paramiko backend) and the :class:`Ctx` with the
host's inventory variables and the baseline role's parameters — and returns an :class:`Outcome`:
``pass``/``fail``/``error`` with the evidence, i.e. the value observed on the host. A check that
cannot observe what it needs returns ``error`` (never ``pass``). The catalogue's ``checked_by``
names the function; :func:`resolve` finds it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from egovops.compliance.catalogue import Control

Status = Literal["pass", "fail", "error"]


@dataclass
class Outcome:
    status: Status
    evidence: str

    @staticmethod
    def of(ok: bool, evidence: str) -> Outcome:
        return Outcome("pass" if ok else "fail", evidence)


@dataclass
class Ctx:
    """What a check compares against: the host's inventory variables and the role's parameters."""

    node: str
    hostvars: dict[str, Any]
    params: dict[str, Any]
    host: Any = None  # testinfra Host
    cache: dict[str, Any] = field(default_factory=dict)

    def p(self, name: str) -> Any:
        """A baseline parameter (``baseline_<name>``) — the role's defaults are the one source."""
        return self.params[f"baseline_{name}"]

    def run(self, cmd: str) -> Any:
        return self.host.run(cmd)

    def read(self, path: str) -> str | None:
        """Text of a remote file, or None when it does not exist (cached for the run)."""
        key = f"file:{path}"
        if key not in self.cache:
            r = self.host.run(f"cat {quote(path)}")
            self.cache[key] = r.stdout if r.rc == 0 else None
        return self.cache[key]

    @cached_property
    def sshd(self) -> dict[str, str]:
        """The effective sshd configuration (``sshd -T``), lower-case keys; empty when sshd -T fails."""
        r = self.host.run("/usr/sbin/sshd -T 2>&1")
        out: dict[str, str] = {}
        if r.rc != 0:
            out["__error__"] = r.stdout.strip()[:200]
            return out
        for line in r.stdout.splitlines():
            k, _, v = line.partition(" ")
            if k in out and k in ("denyusers",):
                out[k] += " " + v
            else:
                out.setdefault(k, v)
        return out


def quote(s: str) -> str:
    import shlex
    return shlex.quote(s)


CheckFn = Callable[[Any, Ctx], Outcome]


def resolve(control: Control) -> CheckFn:
    """The check function a control names in ``checked_by`` (``<module>:<function>``)."""
    mod = importlib.import_module(f"egovops.compliance.checks.{control.check_module}")
    fn = getattr(mod, control.check_function, None)
    if fn is None:
        raise LookupError(f"{control.id}: checked_by {control.checked_by} does not exist")
    return fn


def kv(text: str | None, sep: str = "=") -> dict[str, str]:
    """Parse ``key<sep>value`` / ``key value`` lines (comments ignored); the first occurrence wins."""
    out: dict[str, str] = {}
    for line in (text or "").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if sep in line:
            k, _, v = line.partition(sep)
        else:
            parts = line.split(None, 1)
            k, v = parts[0], (parts[1] if len(parts) > 1 else "")
        out.setdefault(k.strip(), v.strip())
    return out


def active_lines(text: str | None) -> list[str]:
    return [ln.strip() for ln in (text or "").splitlines() if ln.strip() and not ln.strip().startswith("#")]
