"""Waivers: validation (every problem named, with its entry), glob matching, expiry, unused waivers."""

from __future__ import annotations

import datetime as dt

import pytest

from egovops.compliance import waivers as wv
from egovops.compliance.catalogue import load
from egovops.compliance.results import Result

pytestmark = pytest.mark.unit


def row(node: str, control: str, status: str) -> Result:
    return Result(node, "hefei", "合肥", control, "security_audit", status, "evidence")


def write(tmp_path, text: str):
    p = tmp_path / "w.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_valid_file_and_application(tmp_path):
    p = write(tmp_path, """
waivers:
  - {control: L3-CES3-01, hosts: "hef*", reason: no kernel audit, approver: 张三, expires: 2030-01-01}
  - {control: L3-CES3-02, hosts: [dr-*, hefei], reason: same, approver: 张三, expires: "2020-01-01"}
  - {control: L3-CES1-01, hosts: "*", reason: unused, approver: 张三, expires: 2030-01-01}
""")
    ws = wv.load(p, load())
    rows = [row("hefei", "L3-CES3-01", "error"), row("chuzhou", "L3-CES3-01", "fail"),
            row("hefei", "L3-CES3-02", "fail"), row("hefei", "L3-CES1-01", "pass")]
    unused = wv.apply(rows, ws, dt.date(2026, 11, 23))
    assert rows[0].status == "waived" and rows[0].observed_status == "error" and rows[0].waiver["approver"] == "张三"
    assert rows[1].status == "fail"  # glob does not cover chuzhou
    assert rows[2].status == "fail" and "expired on 2020-01-01" in rows[2].evidence and rows[2].waiver["expired"]
    assert rows[3].status == "pass"  # a waiver never touches a pass
    assert unused == []  # the L3-CES1-01 waiver matched a (passing) row


def test_unused_waiver_is_reported(tmp_path):
    p = write(tmp_path, "waivers:\n  - {control: L3-CES9-01, hosts: nowhere, reason: r, approver: a, expires: 2030-01-01}\n")
    assert wv.apply([row("hefei", "L3-CES9-01", "fail")], wv.load(p, load()), dt.date(2026, 1, 1))[0]["hosts"] == ["nowhere"]


def test_every_problem_is_named(tmp_path):
    p = write(tmp_path, """
waivers:
  - {control: L3-XXX, hosts: "*", reason: r, approver: a, expires: 2030-01-01}
  - {control: L3-CES1-01, hosts: "*", reason: "", approver: a, expires: soon}
  - {control: L3-CES1-01, reason: r, approver: a, expires: 2030-01-01, colour: red}
""")
    with pytest.raises(wv.WaiverError) as e:
        wv.load(p, load())
    text = "\n".join(e.value.problems)
    assert "#1: control 'L3-XXX' is not in the catalogue" in text
    assert "#2: reason is required" in text and "#2: expires must be a date" in text
    assert "#3: unknown field(s) colour" in text and "#3: hosts must be" in text


def test_a_timestamp_is_not_a_date(tmp_path):
    """YAML reads `2030-01-01 10:00:00` as a datetime, which cannot be compared with today's date:
    named as bad input when the file is loaded, not a crash after the whole scan."""
    p = write(tmp_path, "waivers:\n  - {control: L3-CES3-01, hosts: '*', reason: r, approver: a,"
                        " expires: 2030-01-01 10:00:00}\n")
    with pytest.raises(wv.WaiverError) as e:
        wv.load(p, load())
    assert e.value.problems == [f"{p}:2 waiver #1: expires must be a date (YYYY-MM-DD)"]  # file:line


@pytest.mark.parametrize("text", ["", "[1, 2]", "waivers: {a: 1}", "waivers: [\n"])
def test_malformed_files(tmp_path, text):
    with pytest.raises(wv.WaiverError):
        wv.load(write(tmp_path, text), load())


def test_unreadable_file_is_named(tmp_path):
    p = tmp_path / "w.yaml"
    p.write_bytes(b"waivers:\n  - {control: L3-CES3-01, reason: \xff}\n")
    with pytest.raises(wv.WaiverError) as e:
        wv.load(p, load())
    assert e.value.problems[0].startswith(f"{p}: cannot read:")


def test_lab_waivers_file_is_valid_and_explains_itself():
    from egovops.compliance.waiver_sources import LAB_WAIVERS
    ws = wv.load(LAB_WAIVERS, load())
    assert {w.control for w in ws} == {"L3-CES3-01", "L3-CES3-02"}
    assert all(len(w.reason) > 40 and w.expires > dt.date(2026, 11, 1) for w in ws)
