"""The lock files and pyproject.toml agree (scripts/lockcheck.py): a dependency added, dropped or
re-ranged in pyproject.toml without `make lock` fails here, naming the package."""

from __future__ import annotations

import importlib.util
import shutil
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]


def lockcheck() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lockcheck", REPO / "scripts" / "lockcheck.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["lockcheck"] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    for f in ("pyproject.toml", "requirements.lock", "requirements-dev.lock"):
        shutil.copyfile(REPO / f, tmp_path / f)
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_committed_locks_agree_with_pyproject():
    assert lockcheck().all_problems() == []


def test_a_dependency_added_without_make_lock_is_named(copy: Path):
    edit(copy / "pyproject.toml", '  "filelock>=3.13",\n', '  "filelock>=3.13",\n  "egov-not-locked-pkg>=1",\n')
    found = lockcheck().all_problems(copy)
    assert len(found) == 2, found  # runtime and dev lock
    assert all("egov-not-locked-pkg" in p and "make lock" in p for p in found)


def test_a_dev_dependency_is_checked_against_the_dev_lock_only(copy: Path):
    edit(copy / "pyproject.toml", '"pre-commit>=4",', '"pre-commit>=4", "egov-dev-only>=1",')
    found = lockcheck().all_problems(copy)
    assert len(found) == 1 and found[0].startswith("requirements-dev.lock: egov-dev-only"), found


def test_a_range_the_lock_does_not_satisfy_is_named(copy: Path):
    edit(copy / "pyproject.toml", '"filelock>=3.13"', '"filelock>=99"')
    found = lockcheck().all_problems(copy)
    assert found and all("filelock==" in p and "filelock>=99" in p for p in found), found


def test_a_dependency_dropped_from_pyproject_is_a_stale_lock_entry(copy: Path):
    edit(copy / "pyproject.toml", '  "filelock>=3.13",\n', "")
    found = lockcheck().all_problems(copy)
    assert found and all("filelock" in p and "no longer" in p for p in found), found


def test_a_missing_lock_is_named(copy: Path):
    (copy / "requirements-dev.lock").unlink()
    assert lockcheck().all_problems(copy) == ["requirements-dev.lock: missing (run make lock)"]


def test_pulumi_is_pinned_exactly_while_the_mock_runner_uses_its_internals():
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    pulumi = [d for d in deps if d.split("=")[0].split(">")[0].strip() == "pulumi"]
    assert len(pulumi) == 1 and "==" in pulumi[0], pulumi
    assert "pulumi.runtime" in (REPO / "egovops" / "stacks" / "mockrun.py").read_text()
