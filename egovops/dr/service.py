"""The DR service layer: typed options in, typed results out. The ``egovops dr`` CLI and the ``dr``
deploy step call these functions and nothing else, so there is one way to bring DR up, read its
status, run a drill and fail back.

Bad input (:class:`DrInputError`, CLI exit 2) is detected before anything changes: an unknown
scenario, DR not up for a drill, a city that is not up or has no partner.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from egovops.dr import drills
from egovops.dr import postgres as pg
from egovops.dr.drills import SCENARIOS, DrillResult
from egovops.dr.postgres import DrError, DrInputError
from egovops.dr.status import DrStatus, dr_status
from egovops.model.province import Province

Progress = Callable[[str], None]
SWITCHOVER_SECONDS = 60.0


@dataclass(frozen=True)
class UpOptions:
    objects: bool = True          # bring the object tier up first (objects.ensure)
    database: bool = True


@dataclass
class UpResult:
    ok: bool
    seconds: float
    objects: dict[str, Any] | None = None
    database: dict[str, Any] | None = None
    status: dict[str, Any] | None = None
    changed: int = 0
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DrillOptions:
    scenario: str
    city: str | None = None    # city-pair-loss: the city whose store is lost
    objects: bool = True          # province-primary-loss: also write and verify objects


@dataclass
class FailbackResult:
    ok: bool
    action: str                   # none | reattached | switched-back
    primary: str | None
    standby: str | None
    seconds: float
    timeline: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    status: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------- input checks

def check_lab_hosts(province: Province, sites: list[str]) -> None:
    """In a lab, every named site must be up (else DrInputError naming them)."""
    if province.meta.environment != "lab":
        return
    from egovops.lab import lab_state
    st = lab_state(province)
    up = {h.name for h in st.hosts if h.up} if st else set()
    down = [s for s in sites if s not in up]
    if down:
        raise DrInputError(f"lab {province.meta.name}: {', '.join(down)} not up; bring the DR sites up with "
                           f"`egovops lab up` first")


def check_drill(province: Province, opts: DrillOptions) -> None:
    if opts.scenario not in SCENARIOS:
        raise DrInputError(f"unknown scenario {opts.scenario!r}: one of {', '.join(SCENARIOS)}")
    dp = pg.pair(province)
    if opts.scenario == "city-pair-loss":
        if not opts.city:
            raise DrInputError("city-pair-loss needs --city (a city of a backup pair in dr.yaml)")
        cities = {n.slug for n in province.cities}
        if opts.city not in cities:
            raise DrInputError(f"--city {opts.city!r} is no city of inventory {province.meta.name}")
        from egovops.render import seaweed
        try:
            partner = seaweed.partner(province, opts.city)
        except ValueError as exc:
            raise DrInputError(str(exc)) from None
        check_lab_hosts(province, [opts.city, partner])
    else:
        check_lab_hosts(province, [dp.source, dp.target, dp.repo])


# ---------------------------------------------------------------- up / status

def up(province: Province, opts: UpOptions = UpOptions(), progress: Progress = lambda m: None) -> UpResult:
    """Bring DR up (idempotent): the object stores and their replication, then the database tier;
    ends with the status of every tier and pair."""
    t0 = time.monotonic()
    dp = pg.pair(province)
    check_lab_hosts(province, [dp.source, dp.target, dp.repo])
    res = UpResult(False, 0.0)
    if opts.objects:
        from egovops.dr import objects
        progress("object tier: stores, buckets, native replication")
        o = objects.ensure(province, None, progress)
        res.objects = o.as_dict()
        res.changed += o.changed
        res.problems += o.problems
    if opts.database and not res.problems:
        primary, standby, _ = pg.current_roles(province)
        progress(f"database tier: primary {primary or dp.source}, standby {standby or dp.target}")
        run = pg.apply(province, primary or dp.source, standby or dp.target, progress=progress)
        res.database = {"rc": run.rc, "seconds": run.seconds, "changed": run.changed,
                        "hosts": [h.__dict__ for h in run.hosts], "log": str(run.log_path)}
        res.changed += run.changed
        if not run.ok:
            bad = [h.host for h in run.hosts if h.failed or h.unreachable]
            res.problems.append(f"roles/dr_postgres failed on {', '.join(bad) or 'ansible rc ' + str(run.rc)}; "
                                f"log: {run.log_path}")
    st = dr_status(province, progress, objects=opts.objects)
    res.status = st.as_dict()
    if not st.ok:
        res.problems += [f"{p.store}/{p.tier} {p.source}->{p.target}: {p.problem or p.state}"
                         for p in st.pairs if not p.healthy]
    res.ok = not res.problems
    res.seconds = round(time.monotonic() - t0, 2)
    return res


def status(province: Province, progress: Progress = lambda m: None) -> DrStatus:
    return dr_status(province, progress, objects=_objects_configured(province))


def _objects_configured(province: Province) -> bool:
    return getattr(province, "object_store", None) is not None


# ---------------------------------------------------------------- drills

def drill(province: Province, opts: DrillOptions, progress: Progress = lambda m: None) -> DrillResult:
    """Run one drill (input checked first) and write its Markdown + JSON report under build/dr/."""
    from egovops.dr import report
    check_drill(province, opts)
    if opts.scenario == "province-primary-loss":
        res = drills.province_primary_loss(province, progress, with_objects=opts.objects and _objects_configured(province))
    elif opts.scenario == "remote-restore":
        res = drills.remote_restore(province, progress)
    else:
        res = drills.city_pair_loss(province, str(opts.city), progress)
    res.report = str(report.write(res))
    return res


# ---------------------------------------------------------------- failback

def failback(province: Province, progress: Progress = lambda m: None) -> FailbackResult:
    """Bring the pair back, one step per call:

    * the standby is missing (after a failover): the former primary is re-cloned as the standby of
      the current primary (``reattached``);
    * the pair is healthy but swapped: planned switchover back to the inventory's roles — clean stop
      of the current primary (its last WAL reaches the standby), promotion of the intended primary,
      re-clone of the other as its standby (``switched-back``);
    * already healthy in the inventory's roles: nothing to do (``none``).
    """
    from egovops.dr.remote import ssh
    from egovops.dr.status import postgres_rows
    t0 = time.monotonic()
    dp = pg.pair(province)
    check_lab_hosts(province, [dp.source, dp.target, dp.repo])
    rows, primary = postgres_rows(province)
    if primary is None:
        raise DrInputError(f"no server of the pair {dp.source}/{dp.target} runs as primary: there is nothing to fail "
                           f"back to ({rows[0].problem})")
    standby = dp.target if primary == dp.source else dp.source
    res = FailbackResult(False, "none", primary, standby, 0.0)

    def event(what: str) -> None:
        t = round(time.monotonic() - t0, 3)
        res.timeline.append({"t": t, "event": what})
        progress(f"[{t:6.2f}s] {what}")

    healthy = rows[0].healthy
    if healthy and primary == dp.source:
        event(f"pair healthy in the inventory's roles ({primary} -> {standby}): nothing to fail back")
    elif not healthy:
        res.action = "reattached"
        event(f"re-attaching {standby} as the synchronous standby of {primary} (re-clone)")
        ssh(province, standby, reattach_prepare_command(province), timeout=60)
        event(f"{standby}: units unmasked; object store restarted where it runs")
        run = pg.apply(province, primary, standby, reclone=True, progress=progress)
        if not run.ok:
            res.problems.append(f"roles/dr_postgres failed (rc {run.rc}); log: {run.log_path}")
        event(f"roles/dr_postgres applied: {run.changed} change(s) in {run.seconds:.0f}s")
    else:
        res.action = "switched-back"
        new_primary, new_standby = dp.source, dp.target
        event(f"planned switchover: {primary} -> {new_primary}")
        ssh(province, primary, f"systemctl stop {pg.UNIT}", timeout=60)
        event(f"{primary}: PostgreSQL stopped cleanly (its last WAL streamed to {new_primary})")
        if not drills._wait(lambda: _caught_up(province, primary, new_primary), SWITCHOVER_SECONDS, step=0.5):
            ssh(province, primary, f"systemctl start {pg.UNIT}", timeout=60)
            raise DrError(f"{new_primary} did not replay {primary}'s shutdown checkpoint within "
                          f"{SWITCHOVER_SECONDS:.0f}s; {primary} restarted as primary, nothing else changed")
        event(f"{new_primary} replayed everything up to {primary}'s shutdown checkpoint")
        r = ssh(province, new_primary, pg.psql_command(drills.PROMOTE_SQL), timeout=45)
        if r.stdout.strip() != "t":
            raise DrError(f"pg_promote on {new_primary} answered {r.stdout.strip()!r}")
        event(f"{new_primary} promoted")
        run = pg.apply(province, new_primary, new_standby, reclone=True, progress=progress)
        if not run.ok:
            res.problems.append(f"roles/dr_postgres failed (rc {run.rc}); log: {run.log_path}")
        event(f"{new_standby} re-cloned as the synchronous standby of {new_primary}: {run.changed} change(s)")
        res.primary, res.standby = new_primary, new_standby
    st = status(province)
    res.status = st.as_dict()
    system = next(p for p in st.pairs if p.store == "postgres" and p.tier == dp.system_tier)
    if not system.healthy:
        res.problems.append(f"the pair is not healthy afterwards: {system.problem or system.state}")
    res.ok = not res.problems
    res.seconds = round(time.monotonic() - t0, 2)
    return res


def reattach_prepare_command(province: Province) -> str:
    """Undo the drill's runtime masks on the former primary and restart its object store (if any).
    PostgreSQL stays stopped: roles/dr_postgres re-clones it before it starts."""
    from egovops.render import seaweed
    obj = f"{seaweed.UNIT}.service"
    return (f"systemctl unmask --runtime {pg.UNIT} {obj} && systemctl reset-failed {pg.UNIT} {obj} 2>/dev/null; "
            f"if systemctl cat {obj} >/dev/null 2>&1; then systemctl start {obj}; fi")


def _caught_up(province: Province, old: str, new: str) -> bool:
    """The standby replayed the stopped primary's shutdown checkpoint (nothing acknowledged is left behind)."""
    from egovops.dr.remote import ssh
    ck = ssh(province, old, f"runuser -u postgres -- /usr/lib/postgresql/{pg.VERSION}/bin/pg_controldata {pg.DATA_DIR}",
             timeout=20, check=False).stdout
    state = next((ln.split(":", 1)[1].strip() for ln in ck.splitlines() if ln.startswith("Database cluster state")), "")
    loc = next((ln.split(":", 1)[1].strip() for ln in ck.splitlines() if ln.startswith("Latest checkpoint location")), "")
    if state != "shut down" or not loc:
        return False
    r = ssh(province, new, pg.psql_command(f"SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '{loc}') >= 0"),
            timeout=20, check=False)
    return r.stdout.strip() == "t"
