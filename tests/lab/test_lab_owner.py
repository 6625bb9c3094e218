"""Two checkouts cannot run the same lab: the second is told which checkout owns it, and nothing changes."""

from __future__ import annotations

import pytest

from egovops.lab import LabError, lab_down, lab_up
from egovops.lab.lifecycle import residue
from egovops.model import load_inventory

pytestmark = pytest.mark.lab


def test_a_second_checkout_is_refused(scratch_inventory, tmp_path, monkeypatch):
    inv = scratch_inventory("ownlab", "198.19.224.0/20", "fd00:34:0:e3::/64")
    p = load_inventory(inv)
    lab_down(p)
    try:
        lab_up(p, limit="!city:*")  # the smallest lab: core, national stand-in, provincial + DR hosts
        before = residue(p)
        monkeypatch.setenv("EGOVOPS_LAB_DIR", str(tmp_path / "other-checkout" / ".lab"))
        with pytest.raises(LabError, match="another checkout"):
            lab_up(p, limit="!city:*")
        with pytest.raises(LabError, match="another checkout"):
            lab_down(p)
        monkeypatch.delenv("EGOVOPS_LAB_DIR")
        assert residue(p) == before
    finally:
        monkeypatch.delenv("EGOVOPS_LAB_DIR", raising=False)
        lab_down(p)
    assert not any(residue(p).values())


def test_a_management_network_clash_is_refused_and_changes_nothing(testlab, scratch_inventory):
    p_test, _ = testlab
    inv = scratch_inventory("clashlab", str(p_test.noc.management_v4), "fd00:34:0:e5::/64")
    p = load_inventory(inv)
    with pytest.raises(LabError, match="overlaps"):
        lab_up(p, limit="!city:*")
    assert residue(p)["namespaces"] == [] and residue(p)["links"] == []
    lab_down(p)
