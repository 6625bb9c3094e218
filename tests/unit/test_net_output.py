"""Device and host text is printed literally on every net table and progress path: a router line
holding ``[/dev/sda]`` (rich markup's closing tag) or ``:cloud:`` must appear as is, never crash."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

import egovops.cli.net as net
from egovops.network.verify import VerifyReport

pytestmark = pytest.mark.unit

EVIL = "[/dev/sda] [bold]x[/] :cloud:"


@pytest.fixture
def captured(monkeypatch):
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(net, "console", Console(file=out, width=400, highlight=False, emoji=False))
    monkeypatch.setattr(net, "err_console", Console(file=err, width=400, highlight=False, emoji=False))
    monkeypatch.setenv("EGOVOPS_PROGRESS", "1")
    return out, err


def test_progress_paths_print_device_text_literally(captured):
    _, err = captured
    cb = net._progress(False, 3)
    for event, detail in (("connect", EVIL), ("apply", EVIL), ("verify", EVIL), ("rollback", EVIL),
                          ("confirmed", EVIL), ("done", "failed"), ("done", EVIL)):
        cb(EVIL, event, detail)
    cb("*", "wave", EVIL)
    cb("*", "stop", EVIL)
    text = err.getvalue()
    assert text.count(EVIL) >= 9 and "[/dev/sda]" in text


def test_push_diff_and_device_table_print_literally(captured):
    out, _ = captured
    dev = {"name": EVIL, "status": "would-change", "added": 1, "removed": 1,
           "diff": [f"+ description {EVIL}", f"- description {EVIL}", f"  interface {EVIL} {{...}}"],
           "seconds": {"connect": 0.1}, "error": EVIL}
    data = {"devices": [dev, {**dev, "status": "not-touched"}], "ok": False, "seconds": 1.0,
            "summary": {"changed": 0, "unchanged": 0, "would-change": 1, "rolled-back": 0, "failed": 0,
                        "not-touched": 1, "total": 2},
            "waves": [[EVIL], [EVIL]], "stopped": EVIL, "untouched": [EVIL], "report": EVIL}
    net._print_push(data, show_diff=True)
    text = out.getvalue()
    assert text.count(EVIL) >= 8 and f"+ description {EVIL}" in text


def test_verify_tables_print_literally(captured):
    out, _ = captured
    rep = VerifyReport(
        reachability=[{"check": "reachability", "to": EVIL, "family": "ipv4", "ok": False},
                      {"check": "reachability", "to": EVIL, "family": "ipv6", "ok": True}],
        matrix=[{"check": "matrix", "from": EVIL, "to": EVIL, "family": "ipv6", "address": EVIL, "ok": False}],
        protocols=[{"check": "protocols", "router": EVIL, "ok": False, "error": EVIL}])
    data = rep.as_dict()
    net._print_verify(rep, data, [EVIL], EVIL, [EVIL])
    text = out.getvalue()
    assert text.count(EVIL) >= 5 and "UNREACHABLE" in text
