"""The push engine: diff, apply, verify, then confirm — or restore the rollback point, per device.

The fleet is pushed in **waves**: first the canary devices (``canary``), then batches of
``batch_size``. A wave runs in four phases over a bounded worker pool, so one slow or dead device
never holds up the others:

1. **stage** — connect, read the running config (kept on disk as the rollback point) and the
   protocol state, diff against the intended config, apply only the diff. FRR applies at once;
   VRP applies to the candidate and ``commit trial`` starts the device-side confirm timer. The
   session stays open for the rest of the wave (at most one session per device of the wave).
2. **hold** — a device is verified once ``min_hold`` has passed since its own change and since
   every change of its wave that can change what is verified for it: its adjacency peers' and those
   of every device nearer the vantage (its path; distances from the router the vantage sits behind,
   ``vantage.anchor``; unknown → the whole wave's changes), and not before the wave's last change is
   in place. Waves are staged nearest the vantage first. So the holds overlap — the devices whose
   dependencies held early are verified and confirmed while the last ones still hold — and a wave
   waits ``min_hold`` once after its last change, not once per device or worker slot.
3. **verify, in rounds of the devices due** — one reachability probe of the due devices' loopbacks
   from the NOC vantage (IPv4 and IPv6; ``fping`` sends to all at once), and per device one read of its
   protocol state over the session still open: the OSPF/OSPFv3/BFD/BGP adjacencies that were up
   before must be up again. A lost adjacency whose far end changed in the same wave and whose own
   side was not touched is the far end's to answer for. A state that cannot be read or parsed is
   an error for that device (restored, reported) — never "no adjacencies". Undecided devices are
   read again every second until ``settle_timeout``.
4. **confirm or restore, per device** — as soon as a device's verdict is in: verified devices are
   confirmed (FRR: ``write memory``; VRP: ``commit persist``). Devices that failed, or were not
   verified in time, are restored: VRP aborts the trial (an abort that times out or loses the
   channel is tried once more on a fresh session); FRR — and VRP when the abort is refused or fails
   twice — gets the reverse diff (running →
   rollback point) applied and committed, and the running config read back is compared with the
   rollback point (per-device, exact). A restore that cannot be done or checked leaves the device
   ``unknown`` (listed), never ok.

Once every change of a wave has held, ONE more probe of all the wave's loopbacks runs (beside the
last verification rounds) and is judged for the confirmed devices: a change farther from the vantage
could still have cut a confirmed device off. A loss there is
the wave's failure (``wave_failures``, listed with the loopbacks; the push is not ok).

After each wave the failure budget is checked (a wave failure stops the push too): a failed canary, or ``max_fail`` failed devices,
stops the push — no further device is touched, and the report lists them as ``not-touched``.
If the engine is interrupted, every staged but unconfirmed device is restored before it exits.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from egovops.network import confdiff
from egovops.network.credentials import Credentials, mask_secrets, mask_text
from egovops.network.device import DeviceError, Session, Target, open_session
from egovops.network.vantage import Vantage, reach_many

log = logging.getLogger(__name__)

Opener = Callable[[Target, Credentials], Session]
Progress = Callable[[str, str, str], None]     # (device, event, detail)

ROUTING_SECTIONS = ("router ", "bfd", "ospf ", "ospfv3 ", "bgp ")


@dataclass
class PushOptions:
    dry_run: bool = False
    workers: int = 8
    confirm_timeout: float = 120.0   # staged -> confirmed, or the device is restored
    device_timeout: float = 30.0     # per command / session
    settle_timeout: float = 60.0     # how long verification waits for adjacencies and reachability
    min_hold: float = 5.0            # adjacencies must stay up at least this long after the change
    verify: bool = True
    backup_dir: Path | None = None
    canary: int = 0                  # devices pushed (and verified) alone before any other
    batch_size: int | None = None # devices per wave after the canary (None: all the rest at once)
    max_fail: int | None = None   # stop after this many failed devices (None: never stop early)


@dataclass
class Plan:
    """What the engine needs to know about one device besides its connection."""

    target: Target
    intended: str
    loopbacks: tuple[str, ...] = ()                  # addresses the NOC must reach after the change
    peers: dict[str, str] = field(default_factory=dict)  # interface or BGP peer address -> peer device
    exact: bool = False                              # restore exactly (rollback --to): no unmanaged scope


@dataclass
class DeviceResult:
    name: str
    # unchanged | changed | would-change | rolled-back | failed | not-touched | unknown (the restore
    # itself failed or could not be checked: what the device runs now is not known — fail closed)
    status: str = "pending"
    added: int = 0
    removed: int = 0
    diff: list[str] = field(default_factory=list)
    unmanaged: list[str] = field(default_factory=list)
    error: str | None = None
    verify: dict[str, Any] = field(default_factory=dict)
    rollback: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("name", "status", "added", "removed", "diff", "unmanaged", "error",
                                               "verify", "rollback", "seconds")}


@dataclass
class _Live:
    plan: Plan
    result: DeviceResult
    session: Session | None = None
    before: str = ""
    before_state: dict[str, Any] = field(default_factory=dict)
    diff: confdiff.ConfigDiff | None = None
    staged_at: float = 0.0
    touched: set[str] = field(default_factory=set)   # top-level sections the diff touched
    verified: bool | None = None
    hold_until: float = 0.0
    deadline: float = 0.0
    verify_started: float = 0.0
    last: dict[str, Any] = field(default_factory=dict)
    state_now: dict[str, Any] | None = None          # this verify round's state, read but not yet checked


@dataclass
class PushReport:
    results: list[DeviceResult]
    seconds: float
    dry_run: bool
    waves: list[list[str]] = field(default_factory=list)
    stopped: str | None = None            # why the push stopped early (canary failed, budget spent)
    secrets: tuple[str, ...] = field(default=(), repr=False)   # masked in every output (never serialised)
    wave_seconds: list[dict[str, float]] = field(default_factory=list)   # where each wave's time went
    # wave-level failures found after every device of a wave was decided (the final reachability probe)
    wave_failures: list[str] = field(default_factory=list)

    @property
    def untouched(self) -> list[str]:
        return [r.name for r in self.results if r.status == "not-touched"]

    @property
    def unknown(self) -> list[str]:
        """Devices whose rollback failed or could not be checked: their running state is unknown."""
        return [r.name for r in self.results if r.status == "unknown"]

    def counts(self) -> dict[str, int]:
        c = {"total": len(self.results), "ok": 0, "changed": 0, "unchanged": 0, "would-change": 0,
             "rolled-back": 0, "failed": 0, "not-touched": 0, "unknown": 0}
        for r in self.results:
            c[r.status] = c.get(r.status, 0) + 1
            if r.status in ("changed", "unchanged", "would-change"):
                c["ok"] += 1
        return c

    @property
    def ok(self) -> bool:
        return not self.wave_failures and all(r.status in ("changed", "unchanged", "would-change") for r in self.results)

    def as_dict(self) -> dict[str, Any]:
        """The report as written and printed: device text with every secret masked (one helper)."""
        d = {"ok": self.ok, "dry_run": self.dry_run, "seconds": round(self.seconds, 2), "summary": self.counts(),
             "waves": self.waves, "wave_seconds": self.wave_seconds, "stopped": self.stopped,
             "wave_failures": self.wave_failures,
             "untouched": self.untouched, "unknown": self.unknown,
             "devices": [r.as_dict() for r in self.results]}
        return dict(mask_secrets(d, self.secrets))


def plan_waves(n: int, canary: int = 0, batch_size: int | None = None) -> list[list[int]]:
    """Indices per wave: the canary first, then batches (the last may be smaller)."""
    if canary < 0 or (batch_size is not None and batch_size < 1):
        raise ValueError("canary must be >= 0 and batch size >= 1")
    idx = list(range(n))
    waves = [idx[:canary]] if canary else []
    rest = idx[canary:]
    size = batch_size or max(1, len(rest))
    waves += [rest[i:i + size] for i in range(0, len(rest), size)]
    return [w for w in waves if w]


def parse_batch(spec: str, total: int) -> int:
    """``--batch 10`` (devices) or ``--batch 25%`` (of the selection, rounded up) → devices per wave."""
    import math

    s = str(spec).strip()
    try:
        if s.endswith("%"):
            pct = float(s[:-1])
            if not 0 < pct <= 100:
                raise ValueError
            return max(1, math.ceil(total * pct / 100))
        n = int(s)
        if n < 1:
            raise ValueError
        return n
    except ValueError:
        raise ValueError(f"--batch {spec!r}: expected a device count >= 1 or a percentage in (0, 100]%") from None


STATE_KINDS = ("ospf", "ospf6", "bfd", "bgp")
FAILED = ("failed", "rolled-back", "unknown")     # statuses that count against the failure budget


def _iface_of(key: str) -> str:
    """Interface of an adjacency key (``<neighbour>@<interface>``); BGP keys are the peer address itself."""
    return key.split("@", 1)[1] if "@" in key else key


class PushEngine:
    def __init__(self, plans: list[Plan], creds: Credentials, options: PushOptions,
                 vantage: Vantage | None = None, opener: Opener = open_session,
                 progress: Progress = lambda d, e, x: None, secrets: Iterable[str] = ()) -> None:
        self.plans, self.creds, self.opt = plans, creds, options
        self.vantage, self.opener = vantage, opener
        # the password and any other secret (routing keys) are masked in progress lines and the report
        self.secrets = tuple(s for s in (creds.password.reveal() if creds.password else "", *secrets) if s)
        self.progress: Progress = lambda d, e, x: progress(d, e, mask_text(str(x), self.secrets))
        self._lock = threading.Lock()
        self._changed: set[str] = set()          # devices changed (staged) in this push so far
        self.wave_seconds: list[dict[str, float]] = []   # per wave: stage, hold, verify (+confirm) seconds
        self.wave_failures: list[str] = []
        self._dist = self._distances()

    # ------------------------------------------------------------------ phase 1: stage
    def _stage(self, lv: _Live) -> None:
        p, r = lv.plan, lv.result
        dialect = confdiff.DIALECTS[p.target.vendor]
        t0 = time.monotonic()
        self.progress(p.target.name, "connect", p.target.host)
        lv.session = self.opener(p.target, self.creds)
        r.seconds["connect"] = round(time.monotonic() - t0, 3)
        snapshot = getattr(lv.session, "snapshot", None)
        state: dict[str, Any] | None = None
        if callable(snapshot) and self.opt.verify and not self.opt.dry_run:
            lv.before, state = snapshot()         # config + state in one round trip (FRR)
        else:
            lv.before = lv.session.running_config()
        d = confdiff.diff(lv.before, p.intended, dialect, full=p.exact)
        lv.diff = d
        r.diff, r.unmanaged = confdiff.render_diff(d), d.unmanaged
        r.added, r.removed = confdiff.summary(d)["add"], confdiff.summary(d)["remove"]
        if d.empty:
            r.status = "unchanged"
            self._close(lv)
            return
        if self.opt.dry_run:
            r.status = "would-change"
            self._close(lv)
            return
        if self.opt.backup_dir:
            self.opt.backup_dir.mkdir(parents=True, exist_ok=True)
            (self.opt.backup_dir / f"{p.target.name}.{'conf' if p.target.vendor == 'frr' else 'cfg'}").write_text(lv.before)
        lv.touched = {c.path[0] if c.path else c.line for c in d.changes}
        if self.opt.verify:
            # fail closed: a state that cannot be read raises here, before anything is applied
            lv.before_state = state if state is not None else lv.session.protocol_state()
        cmds = confdiff.commands(d, p.intended, dialect)
        self.progress(p.target.name, "apply", f"+{r.added} -{r.removed}")
        t1 = time.monotonic()
        lv.staged_at = time.monotonic()          # from here on, a failure means: restore
        with self._lock:
            self._changed.add(p.target.name)     # neighbours' lost adjacencies towards it are excused
        lv.session.apply(cmds)
        lv.session.stage(self.opt.confirm_timeout)
        r.seconds["apply"] = round(time.monotonic() - t1, 3)
        had_adjacencies = any(lv.before_state.get(k) for k in STATE_KINDS)
        lv.hold_until = time.monotonic() + (self.opt.min_hold if had_adjacencies and self.opt.verify else 0)
        r.status = "staged"                      # last: the wave's scheduler picks it up from here
        # the session stays open for verify and confirm (one per device of the wave, no reconnect)

    def _session(self, lv: _Live) -> Session:
        if lv.session is None:
            lv.session = self.opener(lv.plan.target, self.creds)
        return lv.session

    # ------------------------------------------------------------------ phase 2: verify (the wave together)
    def _excused(self, lv: _Live, key: str, changed: set[str]) -> bool:
        """A lost adjacency is excused when its far end changed in this wave and we did not touch our side."""
        iface = _iface_of(key)
        peer = lv.plan.peers.get(iface)
        ours = f"interface {iface}" in lv.touched or any(t.startswith(ROUTING_SECTIONS) for t in lv.touched)
        return bool(peer) and peer in changed and not ours

    def _read_state(self, lv: _Live) -> None:
        """This round's protocol state of the device (fail closed: a state not read or parsed raises)."""
        state = self._session(lv).protocol_state()
        if state.get("parsed") is not True:
            raise DeviceError(f"{lv.plan.target.name}: protocol state was not read")
        lv.state_now = state

    def _check(self, lv: _Live, changed: set[str], reached: dict[str, bool]) -> None:
        """One verification round for one device: this round's state (read by :meth:`_read_state`) against
        the state before the change, and the wave's reachability probe; sets ``lv.verified``."""
        p = lv.plan
        state, lv.state_now = lv.state_now, None        # consumed: an undecided device is read again next round
        if state is None or state.get("parsed") is not True:
            raise DeviceError(f"{p.target.name}: protocol state was not read")
        lost = {k: sorted(set(lv.before_state.get(k) or ()) - set(state.get(k) or ())) for k in STATE_KINDS}
        blamed = {k: [x for x in v if not self._excused(lv, x, changed)] for k, v in lost.items()}
        blamed = {k: v for k, v in blamed.items() if v}
        excused = {k: sorted(set(lost[k]) - set(blamed.get(k, []))) for k in lost if lost[k]}
        mine = {a: reached.get(a, False) for a in p.loopbacks} if self.vantage else {}
        lv.last = {"lost": blamed, "excused": {k: v for k, v in excused.items() if v},
                   "reachable": mine, "vantage": getattr(self.vantage, "name", None)}
        if not blamed and all(mine.values()):
            lv.verified = True
        elif time.monotonic() >= lv.deadline:
            lv.verified = False

    def _verdict(self, lv: _Live) -> None:
        r, last = lv.result, lv.last
        r.verify = {**last, "ok": lv.verified, "seconds": round(time.monotonic() - lv.verify_started, 2)}
        r.seconds["verify"] = round(time.monotonic() - lv.verify_started, 3)
        if not lv.verified:
            why = []
            if last.get("lost"):
                why.append("adjacencies lost: " + ", ".join(f"{k} {', '.join(v)}" for k, v in last["lost"].items()))
            bad = [a for a, ok in last.get("reachable", {}).items() if not ok]
            if bad:
                why.append(f"unreachable from {last['vantage']}: {', '.join(bad)}")
            if time.monotonic() >= lv.staged_at + self.opt.confirm_timeout:
                why.append(f"not confirmed within --confirm-timeout {self.opt.confirm_timeout:g}s")
            r.error = "verification failed: " + ("; ".join(why) or "timed out")

    def _verify_one(self, lv: _Live, changed: set[str], reach: Future[dict[str, bool]] | None,
                    wait: bool = True) -> None:
        """Read the device's state, then check once; when decided, confirm or restore at once.

        With ``wait`` False a device whose state is read before the wave's reachability probe is in
        is left for the round's second pass (the worker moves on to the next device's read instead
        of waiting for the probe)."""
        if self.opt.verify:
            if lv.state_now is None:
                self._read_state(lv)
            if reach is not None and not wait and not reach.done():
                return
            self._check(lv, changed, reach.result() if reach is not None else {})
        else:
            lv.verified = True
        if lv.verified is None:
            return
        if self.opt.verify:
            self._verdict(lv)
        if lv.verified:
            self._confirm(lv)
        else:
            self._restore(lv)
        self._close(lv)

    def _distances(self) -> dict[str, int]:
        """Hops from the router the vantage sits behind (``vantage.anchor``) over the plans' peer links.

        Empty when the vantage names no anchor or the anchor is not among the peers: then every device of
        a wave waits for the whole wave's hold (nothing is known about who carries whose reachability)."""
        anchor = getattr(self.vantage, "anchor", None)
        graph: dict[str, set[str]] = {}
        for p in self.plans:
            for peer in p.peers.values():
                graph.setdefault(p.target.name, set()).add(peer)
                graph.setdefault(peer, set()).add(p.target.name)
        if not anchor or anchor not in graph:
            return {}
        dist, todo = {anchor: 0}, [anchor]
        while todo:
            nxt = []
            for n in todo:
                for m in graph.get(n, ()):
                    if m not in dist:
                        dist[m] = dist[n] + 1
                        nxt.append(m)
            todo = nxt
        return dist

    def _hops(self, name: str) -> int:
        """Hops from the vantage's router (farther than any known device when not known)."""
        return self._dist.get(name, len(self._dist) + 1)

    def _due(self, lv: _Live, staged: list[_Live], staged_done: float) -> float:
        """When ``lv`` may be verified: ``min_hold`` after its own change and after every change of its
        wave that can change what is verified for it — its adjacency peers' (the adjacency check) and
        every device nearer the vantage than it (its reachability: the path from the vantage) — and not
        before the wave's last change is in place. Unknown distances: after the whole wave's hold."""
        d = self._dist.get(lv.plan.target.name)
        if d is None:
            deps = staged
        else:
            peers = set(lv.plan.peers.values())
            deps = [x for x in staged if x is lv or x.plan.target.name in peers or self._hops(x.plan.target.name) < d]
        return max([staged_done] + [x.hold_until for x in deps])

    def _probe_at(self, at: float, stop: threading.Event, vantage: Vantage, lives: list[_Live]) -> dict[str, bool]:
        """Reachability of the wave's loopbacks from ``at`` on (never before), settling like a device's own
        verification: what does not answer is probed again every second until ``settle_timeout`` after
        ``at`` — only for devices not already failed or restored (a first push holds nothing and must
        wait for routing to converge). Ended at once by ``stop`` (an interrupted wave observes nothing)."""
        while time.monotonic() < at:
            if stop.wait(min(0.2, max(0.0, at - time.monotonic()))):
                return {}
        seen = dict(reach_many(vantage, [a for lv in lives for a in lv.plan.loopbacks], self.opt.workers))
        deadline = at + self.opt.settle_timeout
        while True:
            missing = [a for lv in lives if lv.result.status not in FAILED for a in lv.plan.loopbacks if not seen.get(a)]
            if not missing or time.monotonic() >= deadline or stop.wait(1.0):
                return seen
            seen.update(reach_many(vantage, missing, self.opt.workers))

    def _after_wave(self, staged: list[_Live], reach: dict[str, bool]) -> None:
        """Judge the wave's final reachability probe (started once every change of the wave had held).

        Why: a device is confirmed as soon as its own dependencies have held; a change farther from the
        vantage (say, a router announcing another's loopback) could still cut it off afterwards. Such a
        loss is the wave's failure — reported with the unreachable loopbacks, and no further wave is
        touched — not the confirmed device's (its own change was verified)."""
        where = getattr(self.vantage, "name", "the vantage")
        bad: dict[str, list[str]] = {}
        for lv in staged:
            if lv.result.status != "changed":
                continue
            lost = [a for a in lv.plan.loopbacks if not reach.get(a, False)]
            if lost:
                bad[lv.plan.target.name] = lost
                lv.result.verify["after_wave"] = {"unreachable": lost}
                lv.result.error = f"confirmed, but unreachable from {where} after the wave's last hold: {', '.join(lost)}"
        if bad:
            self.wave_failures.append(f"after the wave's last hold, unreachable from {where}: "
                                      + "; ".join(f"{n} {', '.join(v)}" for n, v in sorted(bad.items())))

    def _wave(self, wave: list[_Live]) -> None:
        """Apply to the whole wave, then verify each device once its hold is over — the holds overlap.

        1. stage every device of the wave (``workers`` in parallel);
        2. holds: a device is due for verification (:meth:`_due`) once the wave's last change is in
           place and ``min_hold`` has passed since its own change and its dependencies' (in-wave peers,
           devices nearer the vantage); a device with no adjacencies to lose holds nothing. The holds run
           side by side: devices whose dependencies held early are verified and confirmed while the last
           ones still hold, so the wave waits ``min_hold`` once after its last change, and the verify
           work of most devices is done inside that window, not after it (the wave's final probe too);
        3. verification rounds over the due devices: ONE reachability probe of all their loopbacks from
           the vantage (started first, it runs while the devices' states are read), and per device one
           state read; a device whose verdict is in is confirmed or restored at once in the same task.
           An undecided device is read again a second later, until its deadline (``settle_timeout``
           after it became due, at most ``confirm_timeout`` after its change), then restored.
        So a wave costs one stage pass and one hold — not one hold per worker slot, nor a verify pass
        after the hold. Timings per wave: ``stage``; ``hold`` (from the last change until the last
        hold ended, overlapped by the verification of the devices already due); ``verify`` (after
        the last hold: the last devices' verification, and any re-reads).
        """
        t0 = time.monotonic()
        timing = {"devices": len(wave), "stage": 0.0, "hold": 0.0, "verify": 0.0, "rounds": 0}
        self.wave_seconds.append(timing)
        # nearest the vantage first: the changes others' reachability depends on are held first
        self._pool(sorted(wave, key=lambda lv: self._hops(lv.plan.target.name)), "stage", self._stage)
        staged_done = time.monotonic()
        timing["stage"] = round(staged_done - t0, 2)
        staged = [lv for lv in wave if lv.result.status == "staged"]
        if not staged:
            return
        due_at = {id(lv): self._due(lv, staged, staged_done) for lv in staged}   # when each is (next) read
        hold_end = max(due_at.values())
        if self.opt.verify and hold_end > staged_done:
            self.progress("*", "hold", f"{len(staged)} device(s) changed; each is verified {self.opt.min_hold:g}s "
                                       f"after its own and its dependencies' changes (the last in {hold_end - staged_done:.1f}s)")
        # excused losses: only towards a device changed in THIS wave (an earlier wave's device was verified)
        changed = self._changed & {lv.plan.target.name for lv in wave}
        probe, final_ex = ThreadPoolExecutor(max_workers=1), ThreadPoolExecutor(max_workers=1)
        final: Future[dict[str, bool]] | None = None
        addrs_all = [a for lv in staged for a in lv.plan.loopbacks]
        vantage = self.vantage if self.opt.verify and addrs_all else None    # None: no final probe
        stop = threading.Event()
        if vantage is not None:
            # the wave's final probe, started the moment every change has held (beside the last rounds)
            final = final_ex.submit(self._probe_at, hold_end, stop, vantage, staged)
        rounds = 0
        try:
            while True:
                now = time.monotonic()
                todo = [lv for lv in staged if lv.result.status == "staged"]
                if not todo:
                    break
                due = [lv for lv in todo if due_at[id(lv)] <= now]
                if not due:
                    # bounded: every device is due by its hold's end (at most min_hold away), or a second
                    # after its last read; small steps keep Ctrl-C prompt
                    time.sleep(min(0.2, max(0.0, min(due_at[id(lv)] for lv in todo) - now)))
                    continue
                rounds += 1
                for lv in due:
                    if not lv.verify_started:
                        lv.verify_started = now
                        lv.deadline = min(lv.staged_at + self.opt.confirm_timeout, now + self.opt.settle_timeout)
                        if self.opt.verify:
                            self.progress(lv.plan.target.name, "verify", "")
                reach: Future[dict[str, bool]] | None = None
                if self.opt.verify and self.vantage is not None:
                    addrs = [a for lv in due for a in lv.plan.loopbacks]
                    reach = probe.submit(reach_many, self.vantage, addrs, self.opt.workers)
                # first pass: every due device's state read (while the probe runs), decided where the probe
                # is in; second pass: the devices read before the probe was in, decided now
                self._pool(due, "verify", functools.partial(self._verify_one, changed=changed, reach=reach, wait=False))
                read = [lv for lv in due if lv.result.status == "staged" and lv.state_now is not None]
                self._pool(read, "verify", functools.partial(self._verify_one, changed=changed, reach=reach))
                for lv in due:
                    due_at[id(lv)] = now + 1.0          # undecided: read again a second after this round began
            if final is not None:
                t_final = time.monotonic()
                self._after_wave(staged, final.result())
                timing["final_probe_wait"] = round(time.monotonic() - t_final, 2)
        finally:
            stop.set()                                   # an interrupted wave does not wait for the hold
            probe.shutdown(wait=True, cancel_futures=True)
            final_ex.shutdown(wait=True, cancel_futures=True)
            end = time.monotonic()
            timing["hold"] = round(max(0.0, hold_end - staged_done), 2)
            timing["verify"] = round(max(0.0, end - max(hold_end, staged_done)), 2)
            timing["rounds"] = rounds

    # ------------------------------------------------------------------ phase 3: confirm / restore
    def _confirm(self, lv: _Live) -> None:
        if time.monotonic() > lv.staged_at + self.opt.confirm_timeout:
            raise DeviceError(f"{lv.plan.target.name}: confirm window of {self.opt.confirm_timeout:g}s passed")
        t0 = time.monotonic()
        self._session(lv).confirm()
        lv.result.seconds["confirm"] = round(time.monotonic() - t0, 3)
        lv.result.status = "changed"
        self.progress(lv.plan.target.name, "confirmed", "")

    def _restore(self, lv: _Live) -> None:
        """Put the rollback point back; record whether the running config now equals it."""
        p, r = lv.plan, lv.result
        dialect = confdiff.DIALECTS[p.target.vendor]
        self.progress(p.target.name, "rollback", r.error or "")
        t0 = time.monotonic()
        try:
            sess = self._session(lv)
            aborted = False
            try:
                aborted = sess.abort()
            except Exception as exc:     # e.g. VRP lost the abort or it timed out
                r.rollback["abort_error"] = str(exc)
                aborted = False
                # the channel is in an unknown state (half an answer, config mode): a fresh session. The
                # named trial outlives the session, so the device's own abort is tried once more from
                # there; only if that fails too does the reverse diff (on yet another session) follow
                self._close(lv)
                sess = self._session(lv)
                try:
                    aborted = sess.abort()
                    r.rollback["abort_retried"] = True
                except Exception as exc2:
                    r.rollback["abort_retry_error"] = str(exc2)
                    self._close(lv)
                    sess = self._session(lv)
            current = sess.running_config()
            if aborted and not confdiff.equivalent(current, lv.before, dialect):
                # the device acknowledged the abort but did not roll back: not trusted, reverse diff
                r.rollback["abort_error"] = "abort acknowledged but the running config still differs from the rollback point"
                aborted = False
            after = current
            if not aborted:
                # the reverse diff, applied AND committed (VRP: ``commit``; FRR: live at once)
                back = confdiff.diff(current, lv.before, dialect, full=True)
                cmds = confdiff.commands(back, lv.before, dialect)
                r.rollback["reverse_commands"] = len(cmds)
                try:
                    sess.restore(cmds)
                    r.rollback["reverse_committed"] = bool(cmds)    # nothing to send: nothing committed
                except DeviceError as exc:   # best effort: every line that can be restored is; compare below
                    r.rollback.update({"reverse_committed": False, "apply_error": str(exc)})
                # proven only by reading the running config back: equal to the rollback point, or unknown
                after = sess.running_config()
            equal = confdiff.equivalent(after, lv.before, dialect)
            r.rollback.update({"restored": equal, "equal_to_before": equal, "aborted": aborted,
                               "seconds": round(time.monotonic() - t0, 2)})
            r.status = "rolled-back" if equal else "unknown"
            if not equal:
                r.error = ((r.error or "") + "; rollback applied but the running config differs from the rollback "
                           "point: device state UNKNOWN, check it by hand")
        except Exception as exc:    # could not restore or could not read back: nobody knows what it runs
            r.rollback.update({"restored": False, "error": str(exc)})
            r.status = "unknown"
            r.error = f"{r.error + '; ' if r.error else ''}rollback impossible: {exc}: device state UNKNOWN"

    def _close(self, lv: _Live) -> None:
        if lv.session is not None:
            try:
                lv.session.close()
            finally:
                lv.session = None

    def _done(self, lv: _Live) -> None:
        if lv.result.status not in ("staged", "pending") and not getattr(lv, "_reported", False):
            lv._reported = True  # type: ignore[attr-defined]
            self.progress(lv.plan.target.name, "done", lv.result.status)

    def _guard(self, lv: _Live, phase: str, fn: Callable[[], None]) -> None:
        try:
            fn()
            self._done(lv)
        except Exception as exc:  # one device's failure never touches the others
            msg = str(exc) if isinstance(exc, DeviceError) else f"{lv.plan.target.name}: {type(exc).__name__}: {exc}"
            lv.result.error = f"{phase}: {msg}"
            if lv.staged_at:
                self._restore(lv)
            else:
                lv.result.status = "failed"
            self._close(lv)
            self._done(lv)
            log.debug("%s failed in %s: %s", lv.plan.target.name, phase, msg)

    def _pool(self, lives: list[_Live], phase: str, fn: Callable[[_Live], None]) -> None:
        if not lives:
            return
        pool = ThreadPoolExecutor(max_workers=max(1, min(self.opt.workers, len(lives))))
        try:
            futs = {pool.submit(self._guard, lv, phase, functools.partial(fn, lv)): lv for lv in lives}
            for f in as_completed(futs):
                f.result()
        finally:
            # interrupted: devices not yet started are left alone (not staged only to be restored)
            pool.shutdown(wait=True, cancel_futures=True)

    def _stop_reason(self, wave_no: int, canary: bool, wave: list[_Live], failures: int) -> str | None:
        bad = [lv.plan.target.name for lv in wave if lv.result.status in FAILED]
        if canary and bad:
            return f"canary failed ({', '.join(bad)}): no further device touched"
        if self.wave_failures:               # only this wave's: an earlier one would have stopped the push
            return f"wave {wave_no + 1} failed ({self.wave_failures[-1]}): no further device touched"
        if self.opt.max_fail is not None and failures >= self.opt.max_fail:
            return f"{failures} device(s) failed (--max-fail {self.opt.max_fail}): no further device touched"
        return None

    def run(self) -> PushReport:
        t0 = time.monotonic()
        lives = [_Live(p, DeviceResult(p.target.name)) for p in self.plans]
        if self.opt.dry_run:
            waves = [list(range(len(lives)))] if lives else []
        else:
            waves = plan_waves(len(lives), self.opt.canary, self.opt.batch_size)
        stopped: str | None = None
        failures = 0
        try:
            for n, idx in enumerate(waves):
                wave = [lives[i] for i in idx]
                if stopped:
                    for lv in wave:
                        lv.result.status = "not-touched"
                        lv.result.error = f"not touched: {stopped}"
                    continue
                is_canary = n == 0 and self.opt.canary > 0 and not self.opt.dry_run
                if len(waves) > 1:
                    self.progress("*", "wave", f"{n + 1}/{len(waves)}{' (canary)' if is_canary else ''}: "
                                               f"{len(wave)} device(s)")
                self._wave(wave)
                failures += sum(lv.result.status in FAILED for lv in wave)
                stopped = self._stop_reason(n, is_canary, wave, failures)
                if stopped:
                    self.progress("*", "stop", stopped)
        finally:
            # interrupted (Ctrl-C, crash): nothing stays staged and unconfirmed
            for lv in lives:
                if lv.result.status == "staged":
                    lv.result.error = lv.result.error or "push interrupted before confirm"
                    self._restore(lv)
                self._close(lv)
        for lv in lives:
            self._done(lv)
        return PushReport([lv.result for lv in lives], time.monotonic() - t0, self.opt.dry_run,
                          waves=[[lives[i].plan.target.name for i in w] for w in waves], stopped=stopped,
                          secrets=self.secrets, wave_seconds=self.wave_seconds, wave_failures=self.wave_failures)
