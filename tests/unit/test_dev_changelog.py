"""The version is in one place (egovops/__init__.py) and CHANGELOG.md's newest release names it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

import egovops

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
RELEASE = re.compile(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$", re.M)


def test_the_newest_changelog_release_is_the_package_version():
    text = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in text
    releases = RELEASE.findall(text)
    assert releases, "no '## [x.y.z] - YYYY-MM-DD' release heading"
    assert releases[0][0] == egovops.__version__


def test_pyproject_reads_the_version_instead_of_repeating_it():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "egovops.__version__"}
