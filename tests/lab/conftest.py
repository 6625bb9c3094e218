"""Lab fixtures shared by every capability's lab tests.

``testlab`` (session): the testlab inventory (tests/fixtures/inventories/testlab, whose management
network differs from inventories/lab, so it coexists with a developer's lab) brought up with
``--limit city:hefei,city:chuzhou``. Holding the lab's flock it reuses a running testlab or brings
one up, and at session end tears down only a lab it brought up itself. Returns
``LabFixture(province, state)`` (unpacks as a tuple).

Every lab test is skipped with a clear reason when not root. ``scratch_inventory`` makes a
throw-away lab inventory (own name, own management network) for tests that must destroy their lab.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NamedTuple

import pytest

from egovops.model import Province, load_inventory

REPO = Path(__file__).resolve().parents[2]
TESTLAB = REPO / "tests" / "fixtures" / "inventories" / "testlab"
TESTLAB_LIMIT = "city:hefei,city:chuzhou"

ROOT_REASON = "lab tests need root (network namespaces, FRR, systemd-nspawn); run `make test` as root"
TOOLS = ("ip", "systemd-nspawn", "/usr/lib/frr/frrinit.sh", "/usr/sbin/sshd", "debootstrap", "zstd")


def lab_skip_reason() -> str | None:
    if os.geteuid() != 0:
        return ROOT_REASON
    missing = [t for t in TOOLS if not (shutil.which(t) or Path(t).exists())]
    if missing:
        return f"lab tools missing: {', '.join(missing)} (run scripts/bootstrap as root)"
    return None


def pytest_collection_modifyitems(config, items):
    """Skip lab tests when not root; run the full-size lab test last (it grows the shared testlab)."""
    reason = lab_skip_reason()
    for item in items:
        if reason and item.get_closest_marker("lab"):
            item.add_marker(pytest.mark.skip(reason=reason))
    items.sort(key=lambda i: "test_lab_full" in i.nodeid)


class LabFixture(NamedTuple):
    province: Province
    state: object  # egovops.lab.LabState


@pytest.fixture(scope="session")
def testlab_province() -> Province:
    return load_inventory(TESTLAB)


@pytest.fixture(scope="session")
def testlab(testlab_province: Province):
    reason = lab_skip_reason()
    if reason:
        pytest.skip(reason)
    from egovops.lab import lab_down, lab_state, lab_up
    from egovops.lab.lifecycle import locked

    p = testlab_province
    with locked(p):
        brought = lab_state(p) is None
        res = lab_up(p, limit=TESTLAB_LIMIT)
    yield LabFixture(p, res.state)
    if brought:
        lab_down(p)


@pytest.fixture
def scratch_inventory(tmp_path: Path):
    """A throw-away lab inventory: the testlab plus its own name and management network."""
    def make(name: str, mgmt4: str = "198.19.176.0/20", mgmt6: str = "fd00:34:0:e0::/64") -> Path:
        d = tmp_path / name
        d.mkdir()
        (d / "inventory.yaml").write_text(
            f"name: {name}\nname_zh: 临时实验环境\nenvironment: lab\nversion: test\nbase: {TESTLAB}\n")
        text = (TESTLAB / "addressing.yaml").read_text()
        text = text.replace("198.19.16.0/20", mgmt4).replace("fd00:34:0:fe::/64", mgmt6)
        (d / "addressing.yaml").write_text(text)
        return d
    return make
