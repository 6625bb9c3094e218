#!/usr/bin/env python3
"""Do the lock files still agree with pyproject.toml? (bootstrap warns, tests/unit/test_dev_lock.py fails)

A dependency added to pyproject.toml but not to the lock would be installed unpinned by bootstrap,
and a lock pinning a version outside pyproject's range would be refused by pip or install
something pyproject does not allow. Each disagreement is named with its package and the fix
(``make lock``). Exit 0 when they agree, 1 otherwise.
"""

from __future__ import annotations

import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")
VIA_PROJECT = "egovops (pyproject.toml)"


@dataclass(frozen=True)
class Lock:
    path: Path
    pins: dict[str, Version]
    direct: set[str]  # packages the lock says are there because pyproject.toml asks for them


def read_lock(path: Path) -> Lock:
    pins: dict[str, Version] = {}
    direct: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        m = PIN.match(line)
        if not m:
            continue
        name = canonicalize_name(m.group(1))
        pins[name] = Version(m.group(2))
        if VIA_PROJECT in line:
            direct.add(name)
    return Lock(path, pins, direct)


def requirements(pyproject: Path, extras: tuple[str, ...] = ()) -> list[Requirement]:
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    reqs = [Requirement(r) for r in data.get("dependencies", [])]
    for extra in extras:
        reqs += [Requirement(r) for r in data.get("optional-dependencies", {}).get(extra, [])]
    return reqs


def problems(pyproject: Path, lock_file: Path, extras: tuple[str, ...] = ()) -> list[str]:
    """Every disagreement between pyproject's requirements (plus ``extras``) and ``lock_file``."""
    if not lock_file.is_file():
        return [f"{lock_file.name}: missing (run make lock)"]
    lock = read_lock(lock_file)
    if not lock.pins:
        return [f"{lock_file.name}: no pinned package in it (run make lock)"]
    out = []
    wanted = set()
    for req in requirements(pyproject, extras):
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        name = canonicalize_name(req.name)
        wanted.add(name)
        have = lock.pins.get(name)
        if have is None:
            out.append(
                f"{lock_file.name}: {req.name} is required by pyproject.toml ({req}) but not locked (run make lock)"
            )
        elif req.specifier and not req.specifier.contains(have, prereleases=True):
            out.append(f"{lock_file.name}: {req.name}=={have} is outside pyproject.toml's {req} (run make lock)")
    for stale in sorted(lock.direct - wanted):
        out.append(
            f"{lock_file.name}: {stale} is locked as a pyproject.toml dependency but pyproject.toml no longer "
            f"asks for it (run make lock)"
        )
    return out


def all_problems(repo: Path = REPO) -> list[str]:
    py = repo / "pyproject.toml"
    return problems(py, repo / "requirements.lock") + problems(py, repo / "requirements-dev.lock", ("dev",))


def main() -> int:
    found = all_problems()
    for p in found:
        print(p, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
