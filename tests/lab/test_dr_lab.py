"""DR on a real (small) lab: lab `pglab` (tests/fixtures/inventories/pglab, its own management
network), --limit city:hefei,city:anqing = province + dr-local + dr-remote + one city pair.

One module-scoped lab, tests in the order an operator would go: DR up and healthy, the provincial
primary killed with no acknowledged write lost and the RTO measured, failback (re-attach, then
switch back), the drill passing again, and a restore from the remote repository alone.
Tears down only a lab it brought up itself.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from egovops.model import load_inventory

pytestmark = pytest.mark.lab

REPO = Path(__file__).resolve().parents[2]
PGLAB = REPO / "tests" / "fixtures" / "inventories" / "pglab"
LIMIT = "city:hefei,city:anqing"


@pytest.fixture(scope="module")
def drlab():
    from tests.lab.conftest import lab_skip_reason
    reason = lab_skip_reason()
    if reason:
        pytest.skip(reason)
    from egovops.dr.service import UpOptions, up
    from egovops.lab import lab_down, lab_state, lab_up
    from egovops.lab.lifecycle import locked
    p = load_inventory(PGLAB)
    with locked(p):
        brought = lab_state(p) is None
        lab_up(p, limit=LIMIT)
    # routes between the sites (the stores replicate and pgBackRest archives over the extranet)
    # (two bounded attempts: under load a push may roll a device back and succeed on the re-run)
    for _attempt in (1, 2):
        push = subprocess.run([sys.executable, "-m", "egovops.cli.main", "net", "push", "--inventory", str(PGLAB)],
                              cwd=REPO, timeout=600, capture_output=True, text=True)
        if push.returncode == 0:
            break
    assert push.returncode == 0, push.stdout[-2000:] + push.stderr[-2000:]
    res = up(p, UpOptions())
    yield p, res
    if brought:
        lab_down(p)


def test_dr_up_is_healthy_and_idempotent(drlab):
    from egovops.dr.service import status
    p, res = drlab
    assert res.ok, res.problems
    st = status(p)
    rows = {(r.store, r.tier, r.source, r.target): r for r in st.pairs}
    assert rows[("postgres", "system", "province", "dr-local")].state == "streaming/sync"
    assert rows[("postgres", "data", "province", "dr-remote")].last_verified_backup is not None
    assert ("objects", "cooperation", "hefei", "anqing") in rows and ("objects", "cooperation", "anqing", "hefei") in rows
    assert st.ok, [r.problem for r in st.pairs if not r.healthy]


def test_primary_loss_failback_and_drill_again(drlab):
    from egovops.dr.service import DrillOptions, drill, failback, status
    p, _ = drlab
    first = drill(p, DrillOptions("province-primary-loss"))
    assert first.ok, first.problems
    assert first.lost_writes == 0 and first.acknowledged_writes >= 80
    assert first.rto_seconds is not None and first.rto_seconds < 30  # the lab goal
    assert first.objects_checked > 0 and first.objects_missing == 0
    assert first.new_primary == "dr-local" and Path(first.report).is_file()
    assert status(p).primary == "dr-local"
    back1 = failback(p)
    assert back1.ok and back1.action == "reattached", back1.problems
    back2 = failback(p)
    assert back2.ok and back2.action == "switched-back", back2.problems
    st = status(p)
    assert st.primary == "province" and not st.roles_swapped and st.ok
    again = drill(p, DrillOptions("province-primary-loss", objects=False))
    assert again.ok and again.lost_writes == 0, again.problems
    assert failback(p).action == "reattached"
    assert failback(p).action == "switched-back"


def test_remote_restore_from_the_repository_alone(drlab):
    from egovops.dr.service import DrillOptions, drill
    p, _ = drlab
    res = drill(p, DrillOptions("remote-restore"))
    assert res.ok, res.problems
    assert res.acknowledged_writes > 0 and res.lost_writes == 0
    assert res.objects_checked > 0 and res.objects_missing == 0
