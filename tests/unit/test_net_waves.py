"""Canary, batches and the failure budget; one shared hold window per wave; fail-closed state reads."""

from __future__ import annotations

import time

import pytest
from test_net_push import FakeRouter, Fleet, Reach, config, plan, run

from egovops.network.device import DeviceError
from egovops.network.push import parse_batch, plan_waves

pytestmark = pytest.mark.unit


def fleet_of(n: int):
    routers = [FakeRouter(f"r{i}", config(f"r{i}", area=0)) for i in range(n)]
    return routers, Fleet(routers)


def test_plan_waves_and_batch_specs():
    assert plan_waves(7, 1, 3) == [[0], [1, 2, 3], [4, 5, 6]]
    assert plan_waves(5, 0, None) == [[0, 1, 2, 3, 4]]
    assert plan_waves(3, 5, 2) == [[0, 1, 2]]
    assert parse_batch("10", 122) == 10 and parse_batch("10%", 122) == 13 and parse_batch("100%", 5) == 5
    for bad in ("0", "-1", "0%", "101%", "x", "5.5"):
        with pytest.raises(ValueError, match="--batch"):
            parse_batch(bad, 10)


def test_breaking_canary_is_rolled_back_and_nobody_else_is_touched():
    routers, fleet = fleet_of(6)
    # the template change breaks OSPF (area 0 -> 1 on the link): every router would lose its adjacency
    rep = run(fleet, [plan(r.name, config(r.name, area=1)) for r in routers], canary=1, batch_size=2)
    by = {r.name: r for r in rep.results}
    assert by["r0"].status == "rolled-back" and "adjacencies lost" in by["r0"].error
    assert rep.untouched == ["r1", "r2", "r3", "r4", "r5"]
    assert all(routers[i].applied == [] for i in range(1, 6))          # not even connected-and-applied
    assert "canary failed" in rep.stopped and not rep.ok
    assert rep.as_dict()["summary"]["not-touched"] == 5


def test_failure_budget_stops_after_k_failures_between_batches():
    routers, fleet = fleet_of(6)
    for r in routers[:3]:
        r.refuse_connect = True                       # the first batch fails on 2 of 2, then 1 more
    rep = run(fleet, [plan(r.name, config(r.name, cost=20)) for r in routers], batch_size=2, max_fail=2)
    assert [r.status for r in rep.results[:2]] == ["failed", "failed"]
    assert rep.untouched == ["r2", "r3", "r4", "r5"] and "--max-fail 2" in rep.stopped
    ok = run(Fleet(fleet_of(6)[0]), [plan(f"r{i}", config(f"r{i}", cost=20)) for i in range(6)], batch_size=2, max_fail=2)
    assert ok.ok and ok.untouched == [] and len(ok.waves) == 3


def test_canary_ok_then_batches_proceed():
    routers, fleet = fleet_of(5)
    rep = run(fleet, [plan(r.name, config(r.name, cost=30)) for r in routers], canary=1, batch_size=2)
    assert rep.ok and rep.waves == [["r0"], ["r1", "r2"], ["r3", "r4"]]
    assert all(r.saved == 1 for r in routers)


def test_one_shared_hold_window_per_wave():
    """12 devices, 2 workers, 1 s hold each: one wave costs ~one hold, not 12/2 holds."""
    routers, fleet = fleet_of(12)
    t0 = time.monotonic()
    rep = run(fleet, [plan(r.name, config(r.name, cost=50)) for r in routers], workers=2, min_hold=1.0,
              settle_timeout=10, confirm_timeout=30)
    took = time.monotonic() - t0
    assert rep.ok and all(r.verify["ok"] for r in rep.results)
    assert 1.0 <= took < 3.0, took                   # serial holds per worker slot would take >= 6 s


class SlowApply(FakeRouter):
    """A device whose change takes a while to apply (a loaded box): the wave's staging spans time."""

    def __init__(self, *a, apply_s: float = 0.15, **k) -> None:
        super().__init__(*a, **k)
        self.apply_s, self.applied_at, self.read_at, self.saved_at = apply_s, 0.0, [], 0.0

    def state(self) -> dict:
        self.read_at.append(time.monotonic())
        return super().state()


class SlowApplyFleet(Fleet):
    def opener(self, target, creds):
        s = super().opener(target, creds)
        r, apply, save = s.r, s.apply, s.confirm

        def slow_apply(commands):
            time.sleep(r.apply_s)
            out = apply(commands)
            r.applied_at = time.monotonic()
            return out

        def confirm():
            save()
            r.saved_at = time.monotonic()
        s.apply, s.confirm = slow_apply, confirm
        return s


class Anchored(Reach):
    """The NOC vantage behind ``province-rt`` (every test device's peer): distances are known."""

    anchor = "province-rt"


def _slow_wave(hold: float):
    routers = [SlowApply(f"r{i}", config(f"r{i}")) for i in range(8)]
    t0 = time.monotonic()
    rep = run(SlowApplyFleet(routers), [plan(r.name, config(r.name, cost=60)) for r in routers], workers=2,
              min_hold=hold, settle_timeout=10, confirm_timeout=30, vantage=Anchored())
    assert rep.ok and all(r.status == "changed" for r in rep.results)
    last_change = max(r.applied_at for r in routers)
    for r in routers:
        verify_read = r.read_at[-1]                          # the first read is the state before the change
        assert verify_read >= r.applied_at + hold - 0.01, r.name
        assert verify_read >= last_change, r.name
    return routers, rep, time.monotonic() - t0, last_change - t0


@pytest.mark.parametrize("hold", [1.0, 0.3])
def test_holds_overlap_each_device_verified_after_its_own_hold_and_the_last_change(hold):
    """8 devices, 2 workers, 0.15 s per apply (staging spans ~0.6 s): every device's verify read comes at
    least the hold after its own change AND after the wave's last change (with a 0.3 s hold the early
    devices' holds end before the last change: they must wait for it). With a 1 s hold, devices changed
    early are verified and confirmed before the last device's hold is over (the holds overlap), and the
    wave costs about one hold after its last change."""
    routers, rep, took, last_change = _slow_wave(hold)
    if hold < 1.0:
        return
    last_hold_end = max(r.applied_at for r in routers) + hold
    early = [r for r in routers if r.saved_at < last_hold_end - 0.1]
    assert len(early) >= 4, [round(last_hold_end - r.saved_at, 2) for r in routers]
    assert took < last_change + hold + 0.8, took          # one hold after the last change, little after it
    w = rep.wave_seconds[0]
    assert w["stage"] >= 0.5 and 0.8 <= w["hold"] <= 1.2, w


DELAY, HOLD = 0.3, 1.0      # how long b's change takes to show (a dead timer), well inside the hold


class LateB(Fleet):
    """b's apply takes a whole hold (a loaded box), so a - changed first - would be due right at b's change."""

    def opener(self, target, creds):
        s = super().opener(target, creds)
        r, apply = s.r, s.apply

        def slow(cmds):
            if r.name == "b" and not getattr(r, "applied_at", 0):
                time.sleep(HOLD)
            out = apply(cmds)
            r.applied_at = getattr(r, "applied_at", 0) or time.monotonic()
            return out
        s.apply = slow
        return s


def _b_broke_it(b) -> bool:
    t = getattr(b, "applied_at", 0)
    return bool(t) and time.monotonic() >= t + DELAY and "log syslog informational" in b.dev.text()


def _ab_plans(peer_a: str, peer_b: str):
    return [plan("a", config("a", cost=20), lo="198.18.5.10", peer=peer_a),          # a touches its interface
            plan("b", config("b") + "log syslog informational\n", lo="198.18.5.11", peer=peer_b)]  # b: a global line


def test_an_adjacency_cut_by_a_neighbour_changed_later_in_the_wave_is_seen():
    """a and b are peers; b's later change (a global line) cuts the a-b adjacency: a is verified only after
    b's change has held too, so the push is not ok (with the holds overlapping naively, a was confirmed at
    b's change and b's loss excused: push ok, adjacency down - found by review)."""
    a, b = FakeRouter("a", config("a")), FakeRouter("b", config("b"))
    for r in (a, b):
        r.state = lambda: {"ospf": set() if _b_broke_it(b) else {"198.18.0.1@up-d"}, "ospf6": set(), "bfd": set(),
                           "bgp": set(), "parsed": True}
    rep = run(LateB([a, b]), _ab_plans("b", "a"), vantage=Anchored(), workers=1, min_hold=HOLD,
              settle_timeout=1.5, confirm_timeout=10)
    assert _b_broke_it(b) and not rep.ok, {r.name: (r.status, r.error) for r in rep.results}


@pytest.mark.parametrize("anchored", [False, True])
def test_a_loopback_cut_off_by_a_later_change_elsewhere_fails_the_push(anchored):
    """b is not a's peer nor nearer the vantage, yet its change cuts a's loopback off (say, it announces
    it). Without known distances a waits for the whole wave's hold and is not confirmed; with them a is
    confirmed at its own hold, and the probe of the whole wave after the last hold fails the push (the
    report names a's loopback; no further wave is touched)."""
    a, b = FakeRouter("a", config("a")), FakeRouter("b", config("b"))

    class V(Anchored if anchored else Reach):
        def reachable(self, addr):
            return not (addr == "198.18.5.10" and _b_broke_it(b))

    rep = run(LateB([a, b]), _ab_plans("province-rt", "province-rt"), vantage=V(), workers=1, min_hold=HOLD,
              settle_timeout=1.5, confirm_timeout=10)
    assert _b_broke_it(b) and not rep.ok, {r.name: (r.status, r.error) for r in rep.results}
    by = {r.name: r for r in rep.results}
    if anchored:
        assert by["a"].status == "changed" and by["a"].verify["after_wave"] == {"unreachable": ["198.18.5.10"]}
        assert rep.wave_failures and "a 198.18.5.10" in rep.wave_failures[0] and "failed" in rep.stopped
        assert rep.as_dict()["wave_failures"] == rep.wave_failures
    else:
        assert by["a"].status == "rolled-back"


def test_a_loss_towards_an_earlier_waves_device_is_not_excused():
    """The canary a was verified in its own wave; b (wave 2) cuts the a-b adjacency with a global line:
    b's loss is b's to answer for (the excuse covers only devices changed in the same wave)."""
    a, b = FakeRouter("a", config("a")), FakeRouter("b", config("b"))
    for r in (a, b):
        r.state = lambda: {"ospf": set() if "log syslog informational" in b.dev.text() else {"198.18.0.1@up-d"},
                           "ospf6": set(), "bfd": set(), "bgp": set(), "parsed": True}
    rep = run(Fleet([a, b]), _ab_plans("b", "a"), canary=1, batch_size=1)
    by = {r.name: r for r in rep.results}
    assert by["a"].status == "changed" and by["b"].status == "rolled-back", (by["b"].status, by["b"].verify)
    assert not rep.ok


class BadState(FakeRouter):
    def __init__(self, *a, fail_after: int = 1, **k) -> None:
        super().__init__(*a, **k)
        self.reads = 0
        self.fail_after = fail_after

    def state(self) -> dict:
        self.reads += 1
        if self.reads > self.fail_after:
            raise DeviceError(f"{self.name}: protocol state not readable: 'show bfd peers json' answered "
                              f"'% bfdd is not running' (not JSON)")
        return super().state()


def test_unreadable_state_after_the_change_rolls_the_device_back():
    routers = [BadState("r0", config("r0")), FakeRouter("r1", config("r1"))]
    rep = run(Fleet(routers), [plan(r.name, config(r.name, cost=70)) for r in routers])
    by = {r.name: r for r in rep.results}
    assert by["r0"].status == "rolled-back" and "not readable" in by["r0"].error
    assert " ip ospf cost 10" in routers[0].dev.text() and by["r1"].status == "changed"


def test_unreadable_state_before_the_change_touches_nothing():
    routers = [BadState("r0", config("r0"), fail_after=0)]
    rep = run(Fleet(routers), [plan("r0", config("r0", cost=70))])
    assert rep.results[0].status == "failed" and routers[0].applied == []


class SlowProbe:
    """A vantage whose batch probe takes a while (fping over many loopbacks on a busy machine)."""

    name = "slow vantage"

    def __init__(self, seconds: float) -> None:
        self.seconds, self.done_at = seconds, 0.0

    def reachable_many(self, addresses, workers=16) -> dict[str, bool]:
        time.sleep(self.seconds)
        self.done_at = time.monotonic()
        return dict.fromkeys(addresses, True)


class TimedState(FakeRouter):
    def __init__(self, *a, **k) -> None:
        super().__init__(*a, **k)
        self.read_at: list[float] = []

    def state(self) -> dict:
        self.read_at.append(time.monotonic())
        return super().state()


def test_workers_read_every_state_while_the_probe_runs_and_decide_when_it_is_in():
    """8 devices, 2 workers, a 0.6 s probe: every device's state after the change is read before the probe
    is in (a worker waiting for the probe would leave 6 unread), and every device is then confirmed."""
    routers = [TimedState(f"r{i}", config(f"r{i}")) for i in range(8)]
    probe = SlowProbe(0.6)
    rep = run(Fleet(routers), [plan(r.name, config(r.name, cost=80)) for r in routers], vantage=probe,
              workers=2, min_hold=0.0)
    assert rep.ok and all(r.status == "changed" and r.verify["ok"] for r in rep.results)
    after = [r.read_at[-1] for r in routers]                   # the verify read (the first is before the change)
    assert all(len(r.read_at) == 2 for r in routers)
    assert sum(t < probe.done_at for t in after) == 8, [round(probe.done_at - t, 2) for t in after]
    assert all(r.saved == 1 for r in routers)


def test_a_first_push_waits_for_routing_to_converge_before_the_final_probe_judges():
    """Routers with no adjacencies before the change hold nothing, so the wave's final probe starts at
    once: loopbacks that answer only once routing has converged (0.6 s here) are probed again every
    second until the settle timeout, like each device's own verification (the first push of the real
    lab failed the wave without it)."""
    routers = [FakeRouter(f"r{i}", "hostname x\n") for i in range(3)]
    first: list[float] = []

    class Converging(Anchored):
        def reachable(self, addr):
            if any(r.applied for r in routers) and not first:
                first.append(time.monotonic())
            return bool(first) and time.monotonic() >= first[0] + 0.6

    rep = run(Fleet(routers), [plan(r.name, config(r.name)) for r in routers], vantage=Converging(),
              settle_timeout=5, min_hold=1.0)
    assert rep.ok and not rep.wave_failures, (rep.wave_failures, [(r.name, r.status, r.error) for r in rep.results])
    assert all(r.status == "changed" for r in rep.results)
