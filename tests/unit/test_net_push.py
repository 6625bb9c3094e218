"""The push engine with simulated devices: idempotence, dry run, rollback on failed verification,
confirm timeout, isolation of failures, a device dying mid-push, worker bound, no secret in reports."""

from __future__ import annotations

import json
import logging
import threading
import time

import pytest
from test_net_diff import FrrInterpreter

from egovops.network import confdiff as cd
from egovops.network.credentials import MASK, Credentials, Secret, install_redaction
from egovops.network.device import DeviceError, Target
from egovops.network.push import Plan, PushEngine, PushOptions

pytestmark = pytest.mark.unit

CANARY = "canary-push-Pw-91d2"
CREDS = Credentials("ops", Secret(CANARY), "test")


def config(name: str, area: int = 0, cost: int = 10, peer_iface: str = "up-d") -> str:
    return (f"hostname {name}\n!\ninterface {peer_iface}\n ip address 198.18.84.1/31\n ip ospf area {area}\n"
            f" ip ospf cost {cost}\nexit\n!\nrouter ospf\n ospf router-id 198.18.5.1\nexit\n")


class FakeRouter:
    """A device: a config tree, adjacencies derived from it, reachability, and failure switches."""

    def __init__(self, name: str, running: str, neighbour_area: int = 0) -> None:
        self.name, self.dev = name, FrrInterpreter(running)
        self.neighbour_area = neighbour_area
        self.alive = True
        self.refuse_connect = False
        self.die_during_apply = False
        self.saved = 0
        self.applied: list[list[str]] = []

    def state(self) -> dict:
        text = self.dev.text()
        up = f" ip ospf area {self.neighbour_area}" in text or f"ip ospf area {self.neighbour_area}\n" in text
        return {"ospf": {"198.18.0.1@up-d"} if up else set(), "ospf6": set(), "bfd": set(), "bgp": set(),
                "parsed": True}


class FakeSession:
    def __init__(self, router: FakeRouter, target: Target) -> None:
        self.r, self.target = router, target

    def _check(self) -> None:
        if not self.r.alive:
            raise DeviceError(f"{self.r.name}: connection lost")

    def running_config(self) -> str:
        self._check()
        return self.r.dev.text()

    def apply(self, commands):
        self._check()
        self.r.applied.append(list(commands))
        if self.r.die_during_apply:
            self.r.dev.run(commands[: len(commands) // 2] + [c for c in ("exit",) if commands[: len(commands) // 2]
                                                              and commands[0].startswith("interface")])
            self.r.alive = False
            raise DeviceError(f"{self.r.name}: connection lost")
        self.r.dev.run(commands)
        return ""

    def stage(self, t):
        self._check()

    def confirm(self):
        self._check()
        self.r.saved += 1

    def abort(self):
        return False

    def restore(self, commands):
        self.apply(commands)              # FRR: the reverse diff is live as applied

    def save(self):
        self.r.saved += 1

    def protocol_state(self):
        self._check()
        return self.r.state()

    def close(self):
        pass


class Fleet:
    def __init__(self, routers: list[FakeRouter]) -> None:
        self.by = {r.name: r for r in routers}
        self.open_now = 0
        self.max_open = 0
        self.lock = threading.Lock()

    def opener(self, target: Target, creds: Credentials):
        assert creds.password.reveal() == CANARY
        r = self.by[target.name]
        if r.refuse_connect or not r.alive:
            raise DeviceError(f"{target.name}: cannot connect to {target.host}:22: timed out")
        with self.lock:
            self.open_now += 1
            self.max_open = max(self.max_open, self.open_now)
        s = FakeSession(r, target)
        orig = s.close

        def close():
            with self.lock:
                self.open_now -= 1
            orig()
        s.close = close
        time.sleep(0.01)
        return s


class Reach:
    name = "test vantage"

    def __init__(self, down: set[str] = frozenset()) -> None:
        self.down = set(down)

    def reachable(self, address: str) -> bool:
        return address not in self.down


def plan(name: str, intended: str, lo: str = "198.18.5.1", peer: str = "province-rt") -> Plan:
    return Plan(Target(name, "frr", f"mgmt-{name}"), intended, loopbacks=(lo, "fd00:34:0:1::501"),
                peers={"up-d": peer})


def run(fleet: Fleet, plans: list[Plan], vantage=None, **opt) -> PushReport:  # noqa: F821
    o = PushOptions(**{"workers": 4, "confirm_timeout": 5, "settle_timeout": 2, "min_hold": 0.2, **opt})
    return PushEngine(plans, CREDS, o, vantage=vantage or Reach(), opener=fleet.opener).run()


def test_push_then_second_push_changes_nothing():
    routers = [FakeRouter(f"r{i}", "hostname x\n") for i in range(5)]
    fleet = Fleet(routers)
    plans = [plan(r.name, config(r.name)) for r in routers]
    rep = run(fleet, plans)
    assert rep.ok and rep.counts()["changed"] == 5
    assert all(cd.diff(r.dev.text(), config(r.name), cd.FRR).empty and r.saved == 1 for r in routers)
    applied = [len(r.applied) for r in routers]
    rep2 = run(fleet, plans)
    assert rep2.ok and rep2.counts()["unchanged"] == 5 and rep2.counts()["changed"] == 0
    assert [len(r.applied) for r in routers] == applied          # nothing sent at all


def test_dry_run_changes_nothing_and_reports_the_diff():
    r = FakeRouter("r1", config("r1", cost=10))
    before = r.dev.text()
    rep = run(Fleet([r]), [plan("r1", config("r1", cost=20))], dry_run=True)
    res = rep.results[0]
    assert res.status == "would-change" and (res.added, res.removed) == (1, 1)
    assert "+  ip ospf cost 20" in res.diff and "-  ip ospf cost 10" in res.diff
    assert r.dev.text() == before and not r.applied


def test_bad_change_is_rolled_back_others_succeed():
    good = [FakeRouter(f"g{i}", config(f"g{i}", cost=10)) for i in range(3)]
    bad = FakeRouter("city", config("city", area=0), neighbour_area=0)
    before = bad.dev.text()
    plans = [plan(g.name, config(g.name, cost=30)) for g in good] + [plan("city", config("city", area=10))]
    rep = run(Fleet(good + [bad]), plans)
    by = {r.name: r for r in rep.results}
    assert by["city"].status == "rolled-back"
    assert "adjacencies lost: ospf 198.18.0.1@up-d" in by["city"].error
    assert by["city"].rollback["equal_to_before"] is True
    assert cd.equivalent(bad.dev.text(), before, cd.FRR) and bad.saved == 0
    assert all(by[g.name].status == "changed" for g in good)
    assert not rep.ok and rep.counts()["rolled-back"] == 1


def test_unreachable_loopback_until_confirm_timeout_rolls_back():
    r = FakeRouter("r1", config("r1", cost=10))
    before = r.dev.text()
    t0 = time.monotonic()
    rep = run(Fleet([r]), [plan("r1", config("r1", cost=20), lo="198.18.9.9")], vantage=Reach({"198.18.9.9"}),
              confirm_timeout=1.0, settle_timeout=30)
    res = rep.results[0]
    assert res.status == "rolled-back"
    assert "unreachable from test vantage: 198.18.9.9" in res.error
    assert "--confirm-timeout 1s" in res.error
    assert time.monotonic() - t0 < 10
    assert cd.equivalent(r.dev.text(), before, cd.FRR)


def test_lost_adjacency_excused_when_the_far_end_changed_and_we_did_not_touch_it():
    # r1 changes only a global line; its neighbour (peer "nb") changes in the same push and drops the adjacency
    r1 = FakeRouter("r1", config("r1") + "log syslog informational\n", neighbour_area=0)
    nb = FakeRouter("nb", config("nb"), neighbour_area=0)
    r1.state = lambda: {"ospf": set(), "ospf6": set(), "bfd": set(), "bgp": set(), "parsed": True} \
        if r1.applied else {"ospf": {"198.18.0.1@up-d"}, "ospf6": set(), "bfd": set(), "bgp": set(), "parsed": True}
    plans = [plan("r1", config("r1"), peer="nb"), plan("nb", config("nb", cost=15), peer="r1")]
    rep = run(Fleet([r1, nb]), plans)
    by = {r.name: r for r in rep.results}
    assert by["r1"].status == "changed", by["r1"].error
    assert by["r1"].verify["excused"] == {"ospf": ["198.18.0.1@up-d"]}


def test_one_unreachable_device_fails_alone():
    a, b = FakeRouter("a", "hostname a\n"), FakeRouter("b", "hostname b\n")
    b.refuse_connect = True
    rep = run(Fleet([a, b]), [plan("a", config("a")), plan("b", config("b"))])
    by = {r.name: r for r in rep.results}
    assert by["a"].status == "changed"
    assert by["b"].status == "failed" and "b: cannot connect" in by["b"].error
    assert not rep.ok


def test_device_dying_mid_push_is_named_and_others_finish():
    routers = [FakeRouter(f"r{i}", config(f"r{i}", cost=10)) for i in range(4)]
    routers[2].die_during_apply = True
    rep = run(Fleet(routers), [plan(r.name, config(r.name, cost=40)) for r in routers])
    by = {r.name: r for r in rep.results}
    # half applied and the session gone: nobody knows what r2 runs now - said so, never "failed" and forgotten
    assert by["r2"].status == "unknown" and rep.unknown == ["r2"] and rep.as_dict()["unknown"] == ["r2"]
    assert "r2" in by["r2"].error and "rollback impossible" in by["r2"].error and "UNKNOWN" in by["r2"].error
    assert all(by[f"r{i}"].status == "changed" for i in (0, 1, 3))
    assert not rep.ok and rep.counts()["unknown"] == 1


def test_open_sessions_are_bounded_by_the_wave():
    routers = [FakeRouter(f"r{i}", "hostname x\n") for i in range(12)]
    fleet = Fleet(routers)
    rep = run(fleet, [plan(r.name, config(r.name)) for r in routers], workers=2, batch_size=3)
    assert rep.ok and 1 <= fleet.max_open <= 3 and len(rep.waves) == 4 and fleet.open_now == 0


def test_report_and_debug_logs_never_carry_the_password(caplog, monkeypatch):
    """The device libraries log what they send at DEBUG (netmiko's channel writes, paramiko's auth): the
    redaction the push service installs (credentials.install_redaction) must mask every such record."""
    routers = [FakeRouter("r1", "hostname x\n"), FakeRouter("r2", config("r2"))]
    routers[1].die_during_apply = True
    fleet = Fleet(routers)
    opener = fleet.opener

    def chatty(target: Target, creds: Credentials):  # as netmiko/paramiko do with debug logging on
        pw = creds.password.reveal()
        logging.getLogger("netmiko").debug("write_channel: b'%s\\n'", pw)
        logging.getLogger("paramiko.transport").debug(f"Auth with password {pw}")
        logging.getLogger("egovops.network.device").debug("login %s/%s", creds.username, pw)
        return opener(target, creds)

    fleet.opener = chatty
    loggers = [logging.getLogger(n) for n in ("", "netmiko", "paramiko", "paramiko.transport")]
    for name in ("netmiko", "paramiko", "paramiko.transport", "egovops.network.device"):
        lg = logging.getLogger(name)  # whatever an earlier test set: these records reach the root handlers
        monkeypatch.setattr(lg, "propagate", True)
        monkeypatch.setattr(lg, "disabled", False)
        monkeypatch.setattr(lg, "level", logging.NOTSET)
    monkeypatch.setattr(logging.root.manager, "disable", 0)
    with caplog.at_level(logging.DEBUG):
        f = install_redaction(CREDS)
        try:
            rep = run(fleet, [plan("r1", config("r1")), plan("r2", config("r2", cost=99))])
        finally:
            for lg in loggers:
                lg.removeFilter(f)
            for h in logging.getLogger().handlers:
                h.removeFilter(f)
    blob = json.dumps(rep.as_dict(), default=str)
    assert sum(MASK in r.getMessage() for r in caplog.records) >= 6  # logged (2 devices x 3) and masked
    assert CANARY not in blob and CANARY not in caplog.text
    assert "r2" in blob


def test_interrupt_leaves_devices_not_yet_started_untouched():
    routers = [FakeRouter(f"r{i}", "hostname x\n") for i in range(4)]
    fleet = Fleet(routers)
    opener = fleet.opener

    def interrupted(target, creds):
        if target.name == "r0":
            raise KeyboardInterrupt          # Ctrl-C while the first device is being staged
        return opener(target, creds)

    engine = PushEngine([plan(r.name, config(r.name)) for r in routers], CREDS,
                        PushOptions(workers=1, confirm_timeout=5, settle_timeout=2, min_hold=0.2),
                        vantage=Reach(), opener=interrupted)
    with pytest.raises(KeyboardInterrupt):
        engine.run()
    assert all(r.applied == [] for r in routers)     # nothing was staged after the interrupt
    assert fleet.open_now == 0


def test_password_quoted_by_a_device_error_is_masked_in_report_and_progress():
    """A device that refuses a line echoes it: the error (report JSON, table, progress) must not carry secrets."""
    routing_key = "ospf-Key-77aa"

    class Echoing(FakeSession):
        def apply(self, commands):
            raise DeviceError(f"{self.r.name}: the device refused: username ops password {CANARY}; "
                              f"ip ospf message-digest-key 1 md5 {routing_key}")

    routers = [FakeRouter("r1", config("r1"))]
    fleet = Fleet(routers)

    def opener(target, creds):
        s = fleet.opener(target, creds)
        e = Echoing(s.r, target)
        e.close = s.close
        return e

    lines: list[str] = []
    rep = PushEngine([plan("r1", config("r1", cost=77))], CREDS, PushOptions(workers=1, min_hold=0),
                     vantage=Reach(), opener=opener, progress=lambda d, e, x: lines.append(f"{d} {e} {x}"),
                     secrets=[routing_key]).run()
    data = rep.as_dict()
    blob = json.dumps(data)
    assert data["devices"][0]["status"] in ("rolled-back", "unknown")
    assert "the device refused" in blob and MASK in blob              # the error is reported, masked
    assert CANARY not in blob and routing_key not in blob
    assert lines and not any(CANARY in ln or routing_key in ln for ln in lines)
    assert any(MASK in ln for ln in lines)
    # the unmasked object is still the engine's own (never serialised without as_dict)
    assert CANARY in rep.results[0].error
