"""Planned interface addresses vs what a router has (net verify and egov_interface_address_present):
IPv4 and IPv6 judged separately, absent neighbours' links left out, unreadable answers fail closed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from egovops.model import load_inventory
from egovops.network.verify import address_rows, expected_addresses, present_devices

pytestmark = pytest.mark.unit
LAB = Path(__file__).resolve().parents[2] / "inventories" / "lab"


@pytest.fixture(scope="module")
def lab():
    return load_inventory(LAB)


def _frr_json(lab, name: str, present: set[str], drop: set[str] = frozenset()) -> str:
    """FRR's `show interface json` for a router that has every planned address except ``drop``."""
    out: dict = {}
    for ifname, _fam, addr in expected_addresses(lab, name, present):
        out.setdefault(ifname, {"ipAddresses": [{"address": "fe80::1/64"}]})
        if addr not in drop:
            out[ifname]["ipAddresses"].append({"address": addr})
    return json.dumps(out)


def test_only_links_to_present_devices_count(lab) -> None:
    present = present_devices(lab, ["province-rt", "hefei-rt"])
    assert "hefei" in present and "chuzhou" not in present
    rows = expected_addresses(lab, "hefei-rt", present)
    ifaces = {i for i, _, _ in rows}
    assert ifaces == {"lo", "up-d", "up-v", "lan-hefei"}
    assert len(expected_addresses(lab, "hefei-rt")) > len(rows)      # counties' links when all are there


def test_a_missing_ipv6_address_is_reported_alone(lab) -> None:
    present = present_devices(lab, ["province-rt", "hefei-rt"])
    v6 = next(a for i, f, a in expected_addresses(lab, "hefei-rt", present) if i == "up-d" and f == "ipv6")
    rows = address_rows(lab, "hefei-rt", _frr_json(lab, "hefei-rt", present, {v6}), present)
    missing = [(r["iface"], r["family"]) for r in rows if not r["present"]]
    assert missing == [("up-d", "ipv6")]
    rows = address_rows(lab, "hefei-rt", _frr_json(lab, "hefei-rt", present), present)
    assert all(r["present"] for r in rows)


def test_address_compared_as_address_not_text(lab) -> None:
    """fd00:34:0:2::201/127 written differently (leading zeros) is the same address."""
    present = present_devices(lab, ["province-rt", "hefei-rt"])
    doc = json.loads(_frr_json(lab, "hefei-rt", present))
    for info in doc.values():
        for a in info["ipAddresses"]:
            if a["address"].startswith("fd00:34:0:2::"):
                a["address"] = a["address"].replace("fd00:34:0:2::", "fd00:0034:0000:0002::")
    assert all(r["present"] for r in address_rows(lab, "hefei-rt", json.dumps(doc), present))


@pytest.mark.parametrize("answer", ["% Unknown command", "{}", "[]", ""])
def test_unreadable_interface_table_fails_closed(lab, answer: str) -> None:
    with pytest.raises(ValueError):
        address_rows(lab, "hefei-rt", answer, {"province-rt", "hefei-rt"})
