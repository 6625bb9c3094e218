"""The per-inventory change lock: one holder, bounded wait, the holder named; unique run folders."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from egovops import changelock
from egovops.changelock import ChangeLocked, change_lock, unique_dir

pytestmark = pytest.mark.unit

HOLD = """
import sys, time
from egovops.changelock import change_lock
with change_lock("lockinv", command="egovops net push --inventory lockinv"):
    print("held", flush=True)
    time.sleep(float(sys.argv[1]))
"""


@pytest.fixture(autouse=True)
def lockdir(tmp_path, monkeypatch):
    monkeypatch.setenv("EGOVOPS_LOCK_DIR", str(tmp_path / "locks"))
    return tmp_path / "locks"


def _holder(seconds: float) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-c", HOLD, str(seconds)], stdout=subprocess.PIPE, text=True,
                         env={**__import__("os").environ})
    assert p.stdout.readline().strip() == "held"
    return p


def test_second_change_fails_after_bounded_wait_naming_the_holder():
    p = _holder(10)
    try:
        t0 = time.monotonic()
        with pytest.raises(ChangeLocked) as exc:
            with change_lock("lockinv", wait=0.5):
                pytest.fail("both held the lock")
        waited = time.monotonic() - t0
        assert 0.4 <= waited < 3
        msg = str(exc.value)
        assert f"PID {p.pid}" in msg and "egovops net push --inventory lockinv" in msg
        assert exc.value.holder["pid"] == p.pid
    finally:
        p.kill()
        p.wait()


def test_waiter_gets_the_lock_once_the_holder_ends():
    p = _holder(1.0)
    try:
        t0 = time.monotonic()
        with change_lock("lockinv", command="second", wait=15) as h:
            assert h["pid"] != p.pid
            assert changelock.read_holder("lockinv")["command"] == "second"
        assert time.monotonic() - t0 >= 0.5          # it did wait for the first
    finally:
        p.kill()
        p.wait()


def test_a_killed_holder_leaves_no_stale_lock():
    p = _holder(60)
    p.kill()
    p.wait()
    with change_lock("lockinv", wait=2):
        pass


def test_reentrant_within_one_process_and_other_inventories_independent():
    with change_lock("lockinv", command="deploy", wait=0):
        with change_lock("lockinv", command="net push", wait=0) as h:
            assert h["command"] == "deploy"          # the outer holder stays recorded
        with change_lock("other", wait=0):
            pass
    with change_lock("lockinv", wait=0):
        pass


def test_bad_wait_and_bad_name_are_refused():
    with pytest.raises(ValueError):
        with change_lock("lockinv", wait=-1):
            pass
    with pytest.raises(ValueError):
        with change_lock("../etc/passwd"):
            pass


def test_unique_dirs_for_runs_in_the_same_second(tmp_path):
    dirs = {unique_dir(tmp_path) for _ in range(20)}
    assert len(dirs) == 20
    same = {unique_dir(tmp_path, "20261130T000000Z") for _ in range(3)}
    assert len(same) == 3


def test_harden_apply_takes_the_lock_check_mode_does_not(monkeypatch):
    import types

    from egovops.harden import baseline

    ran: list[bool] = []
    monkeypatch.setattr(baseline, "run_playbook", lambda *a, check=False, **k: ran.append(check) or "done")
    monkeypatch.setattr(baseline, "breakglass_vars", lambda p: "/dev/null")
    monkeypatch.setattr(baseline, "run_dir", lambda p: "/tmp")
    prov = types.SimpleNamespace(meta=types.SimpleNamespace(name="lockinv"))
    sel = types.SimpleNamespace(targets=["h1"])
    p = _holder(10)
    try:
        with pytest.raises(baseline.HardenInputError, match=f"PID {p.pid}"):
            baseline.run(prov, sel, lock_wait=0.3)
        assert ran == []                                  # nothing ran while another change held the lock
        assert baseline.run(prov, sel, check=True) == "done" and ran == [True]
    finally:
        p.kill()
        p.wait()
    assert baseline.run(prov, sel) == "done" and ran == [True, False]
