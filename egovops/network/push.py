"""The push engine: diff, apply, verify, then confirm — or restore the rollback point, per device.

Three phases, each over a bounded worker pool, so one slow or dead device never holds up the
others and the fleet's adjacencies can re-form while devices are verified:

1. **stage** — connect, read the running config (kept on disk as the rollback point), diff it
   against the intended config, apply only the diff. FRR applies at once; VRP applies to the
   candidate and ``commit trial`` starts the device-side confirm timer.
2. **verify** — for every device that changed: the OSPF/OSPFv3/BFD/BGP adjacencies that were up
   before must be up again, held for at least ``min_hold`` seconds (a bad area change takes a
   dead interval to show), and its loopbacks must answer from the NOC vantage over IPv4 and IPv6.
   A lost adjacency whose far end was changed in the same push and whose own side was not
   touched (neither that interface nor a routing process) is the far end's to answer for, so a
   bad change on one router does not roll back its innocent neighbours.
3. **confirm or restore** — verified devices are confirmed (FRR: ``write memory``; VRP: ``commit``).
   Devices that failed verification, or were not verified within ``confirm_timeout`` of being
   staged, are restored: VRP aborts the trial; FRR gets the reverse diff (running → rollback
   point) applied, and the result is compared with the rollback point.

If the engine is interrupted, every staged but unconfirmed device is restored before it exits.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from egovops.network import confdiff
from egovops.network.credentials import Credentials
from egovops.network.device import DeviceError, Session, Target, open_session
from egovops.network.vantage import Vantage

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
    backup_dir: Optional[Path] = None


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
    status: str = "pending"         # unchanged | changed | would-change | rolled-back | failed
    added: int = 0
    removed: int = 0
    diff: list[str] = field(default_factory=list)
    unmanaged: list[str] = field(default_factory=list)
    error: Optional[str] = None
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
    session: Optional[Session] = None
    before: str = ""
    before_state: dict[str, Any] = field(default_factory=dict)
    diff: Optional[confdiff.ConfigDiff] = None
    staged_at: float = 0.0
    touched: set[str] = field(default_factory=set)   # top-level sections the diff touched
    verified: Optional[bool] = None


@dataclass
class PushReport:
    results: list[DeviceResult]
    seconds: float
    dry_run: bool

    def counts(self) -> dict[str, int]:
        c = {"total": len(self.results), "ok": 0, "changed": 0, "unchanged": 0, "would-change": 0,
             "rolled-back": 0, "failed": 0}
        for r in self.results:
            c[r.status] = c.get(r.status, 0) + 1
            if r.status in ("changed", "unchanged", "would-change"):
                c["ok"] += 1
        return c

    @property
    def ok(self) -> bool:
        return all(r.status in ("changed", "unchanged", "would-change") for r in self.results)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "dry_run": self.dry_run, "seconds": round(self.seconds, 2), "summary": self.counts(),
                "devices": [r.as_dict() for r in self.results]}


STATE_KINDS = ("ospf", "ospf6", "bfd", "bgp")


def _iface_of(key: str) -> str:
    """Interface of an adjacency key (``<neighbour>@<interface>``); BGP keys are the peer address itself."""
    return key.split("@", 1)[1] if "@" in key else key


class PushEngine:
    def __init__(self, plans: list[Plan], creds: Credentials, options: PushOptions,
                 vantage: Optional[Vantage] = None, opener: Opener = open_session,
                 progress: Progress = lambda d, e, x: None) -> None:
        self.plans, self.creds, self.opt = plans, creds, options
        self.vantage, self.opener, self.progress = vantage, opener, progress
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ phase 1: stage
    def _stage(self, lv: _Live) -> None:
        p, r = lv.plan, lv.result
        dialect = confdiff.DIALECTS[p.target.vendor]
        t0 = time.monotonic()
        self.progress(p.target.name, "connect", p.target.host)
        lv.session = self.opener(p.target, self.creds)
        r.seconds["connect"] = round(time.monotonic() - t0, 3)
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
            lv.before_state = lv.session.protocol_state()
        cmds = confdiff.commands(d, p.intended, dialect)
        self.progress(p.target.name, "apply", f"+{r.added} -{r.removed}")
        t1 = time.monotonic()
        lv.staged_at = time.monotonic()          # from here on, a failure means: restore
        lv.session.apply(cmds)
        lv.session.stage(self.opt.confirm_timeout)
        r.seconds["apply"] = round(time.monotonic() - t1, 3)
        r.status = "staged"
        # free the session: at most --workers sessions are ever open; verify/confirm reconnect
        self._close(lv)

    def _session(self, lv: _Live) -> Session:
        if lv.session is None:
            lv.session = self.opener(lv.plan.target, self.creds)
        return lv.session

    # ------------------------------------------------------------------ phase 2: verify
    def _excused(self, lv: _Live, key: str, changed: set[str]) -> bool:
        """A lost adjacency is excused when its far end changed in this push and we did not touch our side."""
        iface = _iface_of(key)
        peer = lv.plan.peers.get(iface)
        ours = f"interface {iface}" in lv.touched or any(t.startswith(ROUTING_SECTIONS) for t in lv.touched)
        return bool(peer) and peer in changed and not ours

    def _verify(self, lv: _Live, changed: set[str]) -> None:
        p, r = lv.plan, lv.result
        t0 = time.monotonic()
        deadline = min(lv.staged_at + self.opt.confirm_timeout, t0 + self.opt.settle_timeout)
        had_adjacencies = any(lv.before_state.get(k) for k in STATE_KINDS)
        hold_until = lv.staged_at + (self.opt.min_hold if had_adjacencies else 0)
        self.progress(p.target.name, "verify", "")
        last: dict[str, Any] = {}
        while True:
            state = self._session(lv).protocol_state()
            lost = {k: sorted(set(lv.before_state.get(k) or ()) - set(state.get(k) or ())) for k in STATE_KINDS}
            blamed = {k: [x for x in v if not self._excused(lv, x, changed)] for k, v in lost.items()}
            blamed = {k: v for k, v in blamed.items() if v}
            excused = {k: sorted(set(lost[k]) - set(blamed.get(k, []))) for k in lost if lost[k]}
            reach = {a: self.vantage.reachable(a) for a in p.loopbacks} if self.vantage else {}
            last = {"lost": blamed, "excused": {k: v for k, v in excused.items() if v},
                    "reachable": reach, "vantage": getattr(self.vantage, "name", None)}
            now = time.monotonic()
            if not blamed and all(reach.values()) and now >= hold_until:
                lv.verified = True
                break
            if now >= deadline:
                lv.verified = False
                break
            time.sleep(0.5)
        r.verify = {**last, "ok": lv.verified, "seconds": round(time.monotonic() - t0, 2)}
        r.seconds["verify"] = round(time.monotonic() - t0, 3)
        if not lv.verified:
            why = []
            if last["lost"]:
                why.append("adjacencies lost: " + ", ".join(f"{k} {', '.join(v)}" for k, v in last["lost"].items()))
            bad = [a for a, ok in last["reachable"].items() if not ok]
            if bad:
                why.append(f"unreachable from {last['vantage']}: {', '.join(bad)}")
            if time.monotonic() >= lv.staged_at + self.opt.confirm_timeout:
                why.append(f"not confirmed within --confirm-timeout {self.opt.confirm_timeout:g}s")
            r.error = "verification failed: " + ("; ".join(why) or "timed out")

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
            self._session(lv)
            aborted = False
            try:
                aborted = lv.session.abort()
            except Exception:
                aborted = False
            if not aborted:
                current = lv.session.running_config()
                back = confdiff.diff(current, lv.before, dialect, full=True)
                cmds = confdiff.commands(back, lv.before, dialect)
                try:
                    lv.session.apply(cmds)
                except DeviceError as exc:   # best effort: every line that can be restored is; compare below
                    r.rollback["apply_error"] = str(exc)
            after = lv.session.running_config()
            equal = confdiff.equivalent(after, lv.before, dialect)
            r.rollback.update({"restored": equal, "equal_to_before": equal, "seconds": round(time.monotonic() - t0, 2)})
            r.status = "rolled-back" if equal else "failed"
            if not equal:
                r.error = (r.error or "") + "; rollback applied but the running config differs from the rollback point"
        except Exception as exc:
            r.rollback = {"restored": False, "error": str(exc)}
            r.status = "failed"
            r.error = f"{r.error + '; ' if r.error else ''}rollback impossible: {exc}"

    def _settle(self, lv: _Live, changed: set[str]) -> None:
        if self.opt.verify:
            self._verify(lv, changed)
        else:
            lv.verified = True
        if lv.verified:
            self._confirm(lv)
        else:
            self._restore(lv)
        self._close(lv)

    def _close(self, lv: _Live) -> None:
        if lv.session is not None:
            lv.session.close()
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
            futs = {pool.submit(self._guard, lv, phase, lambda lv=lv: fn(lv)): lv for lv in lives}
            for f in as_completed(futs):
                f.result()
        finally:
            # interrupted: devices not yet started are left alone (not staged only to be restored)
            pool.shutdown(wait=True, cancel_futures=True)

    def run(self) -> PushReport:
        t0 = time.monotonic()
        lives = [_Live(p, DeviceResult(p.target.name)) for p in self.plans]
        try:
            self._pool(lives, "stage", self._stage)
            staged = [lv for lv in lives if lv.result.status == "staged"]
            changed = {lv.plan.target.name for lv in lives if lv.staged_at or lv.result.status == "failed"}
            # each device is confirmed or restored as soon as its own verification concludes
            self._pool(staged, "verify", lambda lv: self._settle(lv, changed))
        finally:
            # interrupted (Ctrl-C, crash): nothing stays staged and unconfirmed
            for lv in lives:
                if lv.result.status == "staged":
                    lv.result.error = lv.result.error or "push interrupted before confirm"
                    self._restore(lv)
                self._close(lv)
        for lv in lives:
            self._done(lv)
        return PushReport([lv.result for lv in lives], time.monotonic() - t0, self.opt.dry_run)
