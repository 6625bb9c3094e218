"""An `egovops lab up` killed half-way: `lab up` resumes it, and `lab down` still leaves nothing
(no namespace, process, mount, veth or FRR pathspace) — whatever stage the kill interrupted.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from egovops.lab import lab_down, lab_state, lab_up, procs, status
from egovops.lab.lifecycle import lab_pids, residue
from egovops.model import load_inventory

pytestmark = pytest.mark.lab
REPO = Path(__file__).resolve().parents[2]
EMPTY = {"namespaces": [], "links": [], "mounts": [], "frr_dirs": [], "cgroups": []}


def _kill_up_midway(inv: Path, at: str) -> None:
    """Run `egovops lab up` and SIGKILL it as soon as it reports the stage ``at`` (bounded: 120 s)."""
    proc = subprocess.Popen([str(REPO / ".venv/bin/egovops"), "lab", "up", "--inventory", str(inv), "--limit", "city:hefei"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if at in line or time.monotonic() > deadline:
                break
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


# stages: namespaces and links built / routers started / hosts booting
@pytest.mark.parametrize("at", ["management bridge", "routers:", "hosts:"])
def test_down_after_a_killed_up_leaves_nothing(scratch_inventory, at):
    inv = scratch_inventory("killlab", "198.19.208.0/20", "fd00:34:0:e2::/64")
    p = load_inventory(inv)
    lab_down(p)
    _kill_up_midway(inv, at)
    assert residue(p)["namespaces"], "the kill came after nothing was built: the test proves nothing"
    pids = lab_pids(p)
    lab_down(p)
    assert residue(p) == EMPTY
    assert [x for x in pids if procs.alive(x)] == []
    assert "killlab" not in Path("/proc/mounts").read_text()


def test_up_resumes_after_a_kill(scratch_inventory):
    inv = scratch_inventory("killlab", "198.19.208.0/20", "fd00:34:0:e2::/64")
    p = load_inventory(inv)
    lab_down(p)
    try:
        _kill_up_midway(inv, "routers:")
        st = lab_state(p)
        assert st is not None and not st.all_up
        res = lab_up(p, limit="city:hefei")
        assert res.changed
        full = status(p)
        assert full.all_up and all(d.ssh_ipv4 and d.ssh_ipv6 for d in full.devices)
    finally:
        lab_down(p)
    assert residue(p) == EMPTY
