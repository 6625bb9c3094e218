"""Shared fixtures for the unit tests: the real inventories, and a flattened lab copy to mutate.

Loading the province takes a fraction of a second, so the resolved provinces are cached per
session (per xdist worker); tests that break an inventory work on their own copy in tmp_path.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from egovops.model import Province, load_inventory, schema

REPO = Path(__file__).resolve().parents[2]
ANHUI = REPO / "inventories" / "anhui"
LAB = REPO / "inventories" / "lab"


def flatten_lab(dest: Path) -> Path:
    """Copy the lab inventory into ``dest`` as one self-contained folder (no ``base:``).

    The lab is inventories/anhui plus its own inventory.yaml and addressing.yaml; a flat copy lets
    a test break any one file without touching the repository, and makes every problem point
    at a file inside ``dest``.
    """
    dest.mkdir(parents=True, exist_ok=True)
    for fname in schema.FILES:
        src = LAB / fname if (LAB / fname).is_file() else ANHUI / fname
        shutil.copyfile(src, dest / fname)
    meta = dest / "inventory.yaml"
    lines = [ln for ln in meta.read_text(encoding="utf-8").splitlines(keepends=True) if not ln.startswith("base:")]
    meta.write_text("".join(lines), encoding="utf-8")
    return dest


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def lab_province() -> Province:
    """The lab inventory as the repository holds it (read-only: Province is frozen)."""
    return load_inventory(LAB)


@pytest.fixture(scope="session")
def anhui_province() -> Province:
    return load_inventory(ANHUI)


@pytest.fixture
def flat_lab(tmp_path: Path) -> Path:
    """A fresh, flattened, valid copy of the lab inventory that the test may mutate."""
    return flatten_lab(tmp_path / "inv")
