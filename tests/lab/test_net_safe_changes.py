"""Safe changes on real FRR routers (lab ``safelab``, hefei + chuzhou): two pushes on one inventory
never run at once; a template change that breaks OSPF pushed with a canary is rolled back on the
canary and no other router is touched; the deploy step and the CLI share one push (same report and
rollback folders)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from egovops.model import load_inventory
from egovops.network import credentials
from egovops.network.device import open_session
from egovops.network.targets import target_of

pytestmark = pytest.mark.lab

REPO = Path(__file__).resolve().parents[2]
SAFELAB = REPO / "tests" / "fixtures" / "inventories" / "safelab"
LIMIT = "city:hefei,city:chuzhou"
EGOVOPS = str(REPO / ".venv" / "bin" / "egovops")


def egovops(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([EGOVOPS, *args], cwd=REPO, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def safelab():
    from egovops.lab import lab_down, lab_state, lab_up
    from egovops.lab.lifecycle import locked

    p = load_inventory(SAFELAB)
    with locked(p):
        brought = lab_state(p) is None
        lab_up(p, limit=LIMIT)
    res = egovops("net", "push", "--inventory", str(SAFELAB))       # the rendered config everywhere
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    yield p
    if brought:
        lab_down(p)


def running(p, creds, name: str) -> str:
    s = open_session(target_of(p, name, "frr"), creds)
    try:
        return s.running_config()
    finally:
        s.close()


def _long_change(tmp_path: Path) -> list[str]:
    """A change that takes a while (apply, hold, verify): restore a backup in which one OSPF cost differs."""
    d = tmp_path / "backup"
    res = egovops("net", "backup", "--inventory", str(SAFELAB), "--limit", "hefei-rt", "--out", str(d))
    assert res.returncode == 0, res.stderr[-1000:]
    conf = d / "hefei-rt.conf"
    text, n = re.subn(r"^ ip ospf cost (\d+)$", lambda m: f" ip ospf cost {int(m.group(1)) + 1}", conf.read_text(),
                      count=1, flags=re.M)
    assert n == 1
    conf.write_text(text)
    return [EGOVOPS, "net", "rollback", "--inventory", str(SAFELAB), "--limit", "hefei-rt", "--to", str(d),
            "--min-hold", "5", "--json"]


def _holder_pid(timeout: float = 20) -> int | None:
    from egovops.changelock import read_holder

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        h = read_holder("safelab")
        if h.get("command", "").find("rollback") >= 0:
            return h.get("pid")
        time.sleep(0.05)
    return None


def test_two_changes_started_together_never_both_run(safelab, tmp_path):
    from egovops.changelock import holder_path

    holder_path("safelab").unlink(missing_ok=True)
    push = [EGOVOPS, "net", "push", "--inventory", str(SAFELAB), "--json"]
    first = subprocess.Popen(_long_change(tmp_path), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert _holder_pid() == first.pid
        second = subprocess.run([*push, "--lock-wait", "0"], cwd=REPO, capture_output=True, text=True, timeout=120)
        assert first.poll() is None, "the first change ended before the second started: not a concurrency test"
        assert second.returncode == 2, second.stdout[-1000:]
        err = json.loads(second.stdout)["error"]
        assert re.search(rf"locked by `.*egovops net rollback.*` \(PID {first.pid}, started ", err), err
        # a push that may wait (bounded) runs once the first change has finished, and restores the intent
        waited = subprocess.run([*push, "--lock-wait", "120"], cwd=REPO, capture_output=True, text=True, timeout=180)
        out1, err1 = first.communicate(timeout=120)
        assert first.returncode == 0, err1[-1000:]
        assert waited.returncode == 0, waited.stderr[-1000:]
        doc = json.loads(waited.stdout)
        assert {d["name"]: d["status"] for d in doc["devices"]}["hefei-rt"] == "changed"   # it ran after the first
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()


def test_breaking_canary_is_rolled_back_and_no_other_router_touched(safelab, monkeypatch):
    from egovops.network import service, targets

    p = safelab
    creds = credentials.load(p)
    names = targets.select(p, None).routers
    before = {n: running(p, creds, n) for n in names}
    render = targets.render_intent

    def broken(it, vendor, *args):       # a "template change" that moves every OSPF link to area 9
        return re.sub(r"^( ip ospf area) \d+$", r"\1 9", render(it, vendor, *args), flags=re.M)

    monkeypatch.setattr(targets, "render_intent", broken)
    out = service.push(service.PushRequest(province=p, canary=1, batch="100%", max_fail=1, min_hold=5,
                                           settle_timeout=20, confirm_timeout=60))
    doc = json.loads(out.report_path.read_text())
    canary = names[0]
    by = {d["name"]: d for d in doc["devices"]}
    assert not out.ok and doc["stopped"].startswith("canary failed")
    assert by[canary]["status"] == "rolled-back" and "adjacencies lost" in by[canary]["error"]
    assert sorted(doc["untouched"]) == sorted(names[1:])
    assert all(by[n]["status"] == "not-touched" for n in names[1:])
    monkeypatch.setattr(targets, "render_intent", render)
    after = {n: running(p, creds, n) for n in names}
    assert after == before                                   # canary restored exactly, others never changed
    assert (out.rollback_dir / f"{canary}.conf").read_text() == before[canary]
    res = egovops("net", "verify", "--inventory", str(SAFELAB), "--wait", "60", "--no-matrix")
    assert res.returncode == 0, res.stdout[-2000:]


def test_deploy_step_and_cli_share_one_push(safelab, tmp_path):
    from egovops.deploy import DeployContext
    from egovops.network.step import push

    res = push(DeployContext(inventory=str(SAFELAB), out=tmp_path / "artefacts", province=safelab,
                             options={"limit": "city:chuzhou"}))
    assert res.status in ("ok", "changed"), res.summary
    report = Path(res.details["report"])
    assert report.parent == REPO / "build" / "net" / "safelab" / "reports" or \
        report.parent.resolve() == (Path.cwd() / "build/net/safelab/reports").resolve()
    doc = json.loads(report.read_text())
    assert {d["name"] for d in doc["devices"]} == {"chuzhou-rt"}          # --limit reached the step
    assert os.path.isdir(res.details["rollback_point"])
