"""`egovops net` against real FRR routers of the test lab: push, verify v4+v6 end to end, idempotence,
automatic rollback of a bad change, a router killed mid-push, and no password anywhere in output."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from egovops.network import confdiff, credentials
from egovops.network.device import open_session
from egovops.network.push import PushEngine, PushOptions
from egovops.network.targets import plan_of, select
from egovops.network.vantage import lab_vantage

pytestmark = pytest.mark.lab

REPO = Path(__file__).resolve().parents[2]
EGOVOPS = str(REPO / ".venv" / "bin" / "egovops")


def cli(inv: Path, *args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([EGOVOPS, "net", *args, "--inventory", str(inv)], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def pushed(testlab, tmp_path_factory):
    """Push the test lab's routers through the CLI at the most verbose level with the real password
    in the environment (the canary), keeping every output, log and report."""
    p, _ = testlab
    inv = Path(p.source)
    creds = credentials.load(p)
    d = tmp_path_factory.mktemp("netpush")
    env = {"EGOVOPS_NET_USERNAME": creds.username, "EGOVOPS_NET_PASSWORD": creds.password.reveal()}
    res = cli(inv, "push", "-vv", "--log-file", str(d / "push.log"), "--report", str(d / "push.json"), env=env)
    return p, inv, creds, d, res, env


def test_push_succeeds_and_no_password_anywhere(pushed):
    p, inv, creds, d, res, env = pushed
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    report = json.loads((d / "push.json").read_text())
    assert report["ok"] and report["summary"]["failed"] == 0 and report["summary"]["rolled-back"] == 0
    assert {x["name"] for x in report["devices"]} >= {"province-rt", "national-rt", "hefei-rt", "chuzhou-rt"}
    log = (d / "push.log").read_text()
    assert "DEBUG" in log and "paramiko" in log            # the most verbose level really was on
    secret = creds.password.reveal()
    for name, text in (("stdout", res.stdout), ("stderr", res.stderr), ("log", log),
                       ("report", (d / "push.json").read_text())):
        assert secret not in text, f"the password leaked into the {name}"


def test_verify_full_dual_stack_reachability_and_adjacencies(pushed):
    p, inv, *_ = pushed
    res = cli(inv, "verify", "--json", "--wait", "90")
    data = json.loads(res.stdout)
    assert res.returncode == 0, json.dumps(data["broken"], indent=1)[:3000]
    assert data["summary"]["reachability"]["ok"] == data["summary"]["reachability"]["total"] >= 8
    fams = {(r["to"], r["family"]) for r in data["reachability"] if r["ok"]}
    assert ("national-rt", "ipv6") in fams and ("chuzhou-rt", "ipv4") in fams    # via eBGP and via OSPF
    assert data["summary"]["matrix"]["total"] >= 2 * 3 * 2 and data["matrix"] and all(m["ok"] for m in data["matrix"])
    prov = next(r for r in data["protocols"] if r["router"] == "province-rt")
    assert prov["up"]["bgp"] == "4/4" and prov["up"]["bfd"].split("/")[0] != "0"


def test_second_push_changes_nothing(pushed):
    p, inv, *_ = pushed
    res = cli(inv, "push", "--json")
    data = json.loads(res.stdout)
    assert res.returncode == 0 and data["summary"]["changed"] == 0
    assert data["summary"]["unchanged"] == data["summary"]["total"]
    assert cli(inv, "diff").returncode == 0                # no drift either


def test_bad_change_is_rolled_back_automatically(pushed, tmp_path):
    """A wrong OSPF area on chuzhou-rt's backbone interface (and a harmless change on hefei-rt), pushed
    through `net rollback --to` a crafted folder: chuzhou-rt is restored exactly, hefei-rt succeeds,
    the exit code says something failed."""
    p, inv, creds, *_ = pushed
    good = {n: plan_of(p, n, "frr").intended for n in ("chuzhou-rt", "hefei-rt")}
    i = good["chuzhou-rt"].index("interface up-d\n")
    j = good["chuzhou-rt"].index(" ip ospf area 0\n", i)
    bad = good["chuzhou-rt"][:j] + " ip ospf area 1\n" + good["chuzhou-rt"][j + len(" ip ospf area 0\n"):]
    (tmp_path / "chuzhou-rt.conf").write_text(bad)
    (tmp_path / "hefei-rt.conf").write_text(good["hefei-rt"].replace("exec-timeout 5 0", "exec-timeout 6 0"))
    s = open_session(plan_of(p, "chuzhou-rt", "frr").target, creds)
    before = s.running_config()
    s.close()
    try:
        res = cli(inv, "rollback", "--to", str(tmp_path), "--json", "--settle-timeout", "20", "--limit",
                  "chuzhou-rt,hefei-rt")
        data = json.loads(res.stdout)
        by = {d["name"]: d for d in data["devices"]}
        assert res.returncode == 1
        assert by["chuzhou-rt"]["status"] == "rolled-back", by["chuzhou-rt"]
        assert "ospf" in by["chuzhou-rt"]["error"] and by["chuzhou-rt"]["rollback"]["equal_to_before"]
        assert by["hefei-rt"]["status"] == "changed", by["hefei-rt"]
        s = open_session(plan_of(p, "chuzhou-rt", "frr").target, creds)
        after = s.running_config()
        s.close()
        assert confdiff.equivalent(before, after, confdiff.FRR)
    finally:
        assert cli(inv, "push", "--limit", "hefei-rt").returncode == 0   # back to the intended config


def test_router_killed_mid_push(scratch_inventory):
    """A throw-away lab; chuzhou-rt's FRR and sshd are killed (by PID) as its change is applied: the
    others finish, the report names it, the push fails."""
    from egovops.lab import lab_down, lab_up
    from egovops.lab import routers as lab_routers
    from egovops.model import load_inventory

    inv = scratch_inventory("netkill", "198.19.192.0/20", "fd00:34:0:d7::/64")
    p = load_inventory(inv)
    lab_up(p, limit="province-rt,national-rt,chuzhou-rt,hefei-rt,province")
    try:
        creds = credentials.load(p)
        names = select(p, None).routers
        from egovops.network.labprep import ensure_lab_router_sysctls

        assert sorted(ensure_lab_router_sysctls(p, names)) == sorted(names)   # fresh namespaces: the default 20
        assert ensure_lab_router_sysctls(p, names) == []                     # idempotent
        killed: list[int] = []

        def progress(device: str, event: str, detail: str) -> None:
            if device == "chuzhou-rt" and event == "apply" and not killed:
                for pid in lab_routers.pids(p, "chuzhou-rt"):
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)

        rep = PushEngine([plan_of(p, n, "frr") for n in names], creds,
                         PushOptions(workers=4, settle_timeout=45, confirm_timeout=90), vantage=lab_vantage(p),
                         progress=progress).run()
        by = {r.name: r for r in rep.results}
        assert killed, "the kill never happened: the test proves nothing"
        # killed while its change was applied: half applied, not restorable - its state is unknown, and said so
        assert by["chuzhou-rt"].status == "unknown" and "chuzhou-rt" in by["chuzhou-rt"].error, by["chuzhou-rt"]
        assert rep.unknown == ["chuzhou-rt"] and "UNKNOWN" in by["chuzhou-rt"].error
        for n in ("province-rt", "national-rt", "hefei-rt"):
            assert by[n].status == "changed", (n, by[n].error)
        assert not rep.ok
    finally:
        lab_down(p)


def test_backup_then_restore_it_exactly(pushed, tmp_path):
    """`net backup` writes every router's running config; after a change, `net rollback --to` the backup
    brings the router back to it exactly (and verification still passes)."""
    p, inv, creds, *_ = pushed
    res = cli(inv, "backup", "--out", str(tmp_path / "b"), "--json")
    data = json.loads(res.stdout)
    assert res.returncode == 0 and data["ok"]
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["inventory"] == p.meta.name and "hefei-rt" in manifest["routers"]
    saved = (tmp_path / "b" / "hefei-rt.conf").read_text()
    assert "router ospf" in saved and creds.password.reveal() not in saved
    # a change outside the intent, made by hand, is removed by restoring the backup
    s = open_session(plan_of(p, "hefei-rt", "frr").target, creds)
    s.apply(["ip prefix-list MANUAL seq 5 permit 198.18.255.0/24"])
    s.close()
    res = cli(inv, "rollback", "--to", str(tmp_path / "b"), "--limit", "hefei-rt", "--json")
    data = json.loads(res.stdout)
    assert res.returncode == 0, data["devices"]
    assert data["devices"][0]["status"] == "changed" and data["devices"][0]["removed"] == 1
    s = open_session(plan_of(p, "hefei-rt", "frr").target, creds)
    now = s.running_config()
    s.close()
    assert "MANUAL" not in now and confdiff.equivalent(now, saved, confdiff.FRR)
