"""The DR drills: real failures on the lab, measured (every load and wait bounded in count and time).

* ``province-primary-loss``: a bounded writer inserts case rows through libpq's multi-host
  connection string (``target_session_attrs=read-write``) and objects into the provincial store;
  the current primary's PostgreSQL and object store are killed with SIGKILL; the same-city standby
  is promoted (``pg_promote``); the writer reconnects by itself. RTO = kill -> first acknowledged
  write on the new primary; lost writes = acknowledged ids missing afterwards; RPO = the time
  span of the lost writes (0 when none). Objects: every written object read back at each DR site
  that replicates the province, SHA-256 compared.
* ``remote-restore``: sentinel rows written and archived, then the database restored from the
  remote site's pgBackRest repository alone into a scratch cluster on that site; sentinels looked
  for there; the province's objects verified at the remote site by checksum.
* ``city-pair-loss``: the object tier's drill (:func:`egovops.dr.objects.drill_city_pair_loss`).

Each drill returns a :class:`DrillResult` (JSON keys fixed, see ``as_dict``); ``ok`` is False when
a target of the tier (from dr.yaml) or a correctness check is missed.
"""

from __future__ import annotations

import datetime as dt
import secrets as pysecrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from egovops.dr import postgres as pg
from egovops.dr.postgres import DrError, DrInputError
from egovops.model.province import Province

Progress = Callable[[str], None]
SCENARIOS = ("province-primary-loss", "remote-restore", "city-pair-loss")

# bounds (every load and wait)
MAX_WRITES = 5000
WRITER_SECONDS = 120.0
PRE_KILL_ACKS = 40
PRE_KILL_SECONDS = 20.0
POST_ACKS = 40
FAILOVER_SECONDS = 60.0
OBJECTS_PER_DRILL = 20
SENTINELS = 5
RESTORE_SECONDS = 180.0
SCRATCH_CLUSTER = "drrestore"
SCRATCH_PORT = 5433


@dataclass
class DrillResult:
    scenario: str
    inventory: str
    drill_id: str
    ok: bool = False
    acknowledged_writes: int = 0
    lost_writes: int = 0
    lost_ids: list[str] = field(default_factory=list)
    unacknowledged_present: int = 0
    rto_seconds: float | None = None
    rpo_seconds: float | None = None
    objects_written: int = 0
    objects_checked: int = 0
    objects_missing: int = 0
    objects_mismatched: int = 0
    old_primary: str | None = None
    new_primary: str | None = None
    tier: str = ""
    targets: dict[str, Any] = field(default_factory=dict)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    report: str | None = None
    _t0: float = field(default_factory=time.monotonic, repr=False)

    def event(self, what: str, progress: Progress = lambda m: None) -> float:
        t = round(time.monotonic() - self._t0, 3)
        self.timeline.append({"t": t, "at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
                              "event": what})
        progress(f"[{t:6.2f}s] {what}")
        return t

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("_t0")
        return d


def targets_for(province: Province, tier: str) -> dict[str, Any]:
    t = next(t for t in province.dr_tiers if t.name == tier)
    return {"tier": tier, "rpo_seconds": t.rpo_seconds, "rto_seconds": t.rto_seconds, "mode": t.mode}


# ---------------------------------------------------------------- the bounded writer

@dataclass
class Ack:
    seq: int
    case_no: str
    at: float          # monotonic
    host: str


class Writer(threading.Thread):
    """Inserts one case row per attempt (autocommit) until stopped or a bound is hit; records every
    acknowledged write with its id. Reconnects with the same connection string after any error."""

    def __init__(self, conninfo: str, drill_id: str, max_writes: int = MAX_WRITES, seconds: float = WRITER_SECONDS,
                 interval: float = 0.02, city: str = "") -> None:
        super().__init__(daemon=True, name=f"dr-writer-{drill_id}")
        self.conninfo, self.drill_id, self.max_writes, self.seconds, self.interval = (
            conninfo, drill_id, max_writes, seconds, interval)
        self.city = city
        self.acks: list[Ack] = []
        self.errors: list[tuple[float, str]] = []
        self.attempts = 0
        self.stop_event = threading.Event()
        self.lock = threading.Lock()

    def case_no(self, seq: int) -> str:
        return f"DRILL-{self.drill_id}-{seq:06d}"

    def run(self) -> None:
        import psycopg
        deadline = time.monotonic() + self.seconds
        conn = None
        while not self.stop_event.is_set() and self.attempts < self.max_writes and time.monotonic() < deadline:
            try:
                if conn is None:
                    conn = psycopg.connect(self.conninfo, autocommit=True)
                self.attempts += 1
                seq = self.attempts
                conn.execute("INSERT INTO cases (case_no, city, item, status, applicant, payload) "
                             "VALUES (%s, %s, %s, %s, %s, %s::jsonb)",
                             (self.case_no(seq), self.city, "DR drill write", "accepted", "egovops dr drill",
                              f'{{"drill": "{self.drill_id}", "seq": {seq}}}'))
                with self.lock:
                    self.acks.append(Ack(seq, self.case_no(seq), time.monotonic(), conn.info.host))
            except Exception as exc:  # noqa: BLE001 — any failure: not acknowledged; reconnect
                with self.lock:
                    self.errors.append((time.monotonic(), f"{type(exc).__name__}: {exc}"[:200]))
                if conn is not None:
                    try:
                        conn.close()
                    except Exception:  # noqa: BLE001
                        pass
                conn = None
                self.stop_event.wait(0.1)
                continue
            self.stop_event.wait(self.interval)
        if conn is not None:
            conn.close()

    def acks_after(self, t: float) -> list[Ack]:
        with self.lock:
            return [a for a in self.acks if a.at > t]


def _wait(cond: Callable[[], bool], seconds: float, step: float = 0.1) -> bool:
    """Bounded wait: True when ``cond`` held within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return cond()


def new_drill_id() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + pysecrets.token_hex(2)


# ---------------------------------------------------------------- preconditions

def require_healthy_pair(province: Province) -> tuple[str, str]:
    """(primary, standby) of a healthy synchronous pair, or DrInputError: the drill changes nothing."""
    from egovops.dr.status import postgres_rows
    rows, primary = postgres_rows(province)
    system = rows[0]
    if primary is None or not system.healthy:
        raise DrInputError(f"DR is not up on {province.meta.name}: the database pair is not healthy "
                           f"({system.problem or system.state}); run `egovops dr up` (or `egovops dr failback`) first")
    return system.source, system.target


# ---------------------------------------------------------------- objects

def _object_targets(province: Province, source: str) -> list[str]:
    from egovops.dr import objects
    from egovops.render import seaweed
    up = set(objects.deployed_sites(province))
    return [lk.target for lk in seaweed.links(province) if lk.source == source and lk.target in up]


def verify_written(province: Province, written: list[Any], targets: list[str]) -> dict[str, Any]:
    """Each written object read back at each target's replica bucket; SHA-256 compared."""
    from egovops.dr import objects, objects_s3
    from egovops.render import seaweed
    checked = missing = mismatched = 0
    bad: list[str] = []
    for target in targets:
        s3 = objects.client(province, target)
        for w in written:
            rb = seaweed.replica_bucket(w.site)
            name = f"{w.bucket}/{w.key}"
            checked += 1
            try:
                got = objects_s3.sha256_of(s3, rb, name)
            except Exception as exc:  # noqa: BLE001
                code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
                if code in ("NoSuchKey", "404"):
                    missing += 1
                    bad.append(f"{target}: {name} missing")
                    continue
                raise DrError(f"{target}: cannot read {rb}/{name}: {exc}") from None
            if got != w.sha256:
                mismatched += 1
                bad.append(f"{target}: {name} checksum differs")
    return {"checked": checked, "missing": missing, "mismatched": mismatched, "bad": bad[:20]}


ObjectCheck = Callable[[], tuple[int, int, int, dict[str, Any] | None]]


def record_objects(res: DrillResult, where: str, check: ObjectCheck, progress: Progress) -> None:
    """Run one object check and put its counts (checked, missing, differing) in the drill result.

    Why one function: every drill ends with the same fail-closed step; a check that cannot run
    (store down, credentials missing) is a problem of the drill, never zero objects checked.
    """
    try:
        checked, missing, mismatched, details = check()
    except Exception as exc:  # noqa: BLE001 — reported as the drill's problem, with what failed
        res.problems.append(f"objects {where} could not be verified: {exc}")
        return
    res.objects_checked, res.objects_missing, res.objects_mismatched = checked, missing, mismatched
    if details is not None:
        res.details["objects"] = details
    res.event(f"objects {where}: {checked} checked, {missing} missing, {mismatched} differing", progress)


# ---------------------------------------------------------------- province-primary-loss

def kill_command(province: Province, site: str) -> str:
    """Stop the site's PostgreSQL (and its object store, where one runs) hard, and keep them down
    (runtime mask) until failback re-attaches the site: the command the runbook quotes."""
    from egovops.render import seaweed
    obj = f"{seaweed.UNIT}.service"
    return (f"systemctl mask --runtime {pg.UNIT} && systemctl kill --signal=KILL {pg.UNIT} && "
            f"if systemctl is-active -q {obj}; then systemctl mask --runtime {obj} && "
            f"systemctl kill --signal=KILL {obj}; fi")


PROMOTE_SQL = "SELECT pg_promote(true, 30)"


def province_primary_loss(province: Province, progress: Progress = lambda m: None,
                          with_objects: bool = True) -> DrillResult:
    from egovops.dr.remote import ssh
    dp = pg.pair(province)
    primary, standby = require_healthy_pair(province)
    res = DrillResult("province-primary-loss", province.meta.name, new_drill_id(), tier=dp.system_tier,
                      targets=targets_for(province, dp.system_tier), old_primary=primary, new_primary=standby)
    res.event(f"pair healthy: {primary} (primary) -> {standby} (synchronous standby)", progress)
    writer = Writer(pg.conninfo(province, [primary, standby]), res.drill_id,
                    city=province.node(dp.source).city or dp.source)
    writer.start()
    written: list[Any] = []
    try:
        if not _wait(lambda: len(writer.acks) >= PRE_KILL_ACKS, PRE_KILL_SECONDS):
            raise DrError(f"the writer got only {len(writer.acks)} acknowledgements in {PRE_KILL_SECONDS:.0f}s "
                          f"before the kill ({writer.errors[-1][1] if writer.errors else 'no error'})")
        res.event(f"writer running: {len(writer.acks)} rows acknowledged by {primary}", progress)
        if with_objects:
            from egovops.dr import objects
            obj_site = dp.source
            written = objects.write_objects(province, obj_site, OBJECTS_PER_DRILL, f"drill-{res.drill_id}/")
            res.objects_written = len(written)
            res.event(f"{len(written)} objects acknowledged by the {obj_site} store", progress)
        ssh(province, primary, kill_command(province, primary), timeout=30)
        t_kill = time.monotonic()
        res.event(f"KILL: {primary}'s PostgreSQL{' and object store' if with_objects else ''} killed (SIGKILL)", progress)
        down = pg.probe(province, primary)
        if down.is_primary:
            raise DrError(f"{primary} still answers as primary after the kill")
        res.event(f"{primary} confirmed down ({down.problem or 'not primary'})", progress)
        r = ssh(province, standby, pg.psql_command(PROMOTE_SQL), timeout=45)
        if r.stdout.strip() != "t":
            raise DrError(f"pg_promote on {standby} answered {r.stdout.strip()!r}")
        res.event(f"PROMOTE: {standby} promoted (pg_promote)", progress)
        if not _wait(lambda: bool(writer.acks_after(t_kill)), FAILOVER_SECONDS):
            raise DrError(f"no write acknowledged within {FAILOVER_SECONDS:.0f}s of the kill "
                          f"({writer.errors[-1][1] if writer.errors else 'no error'})")
        first = writer.acks_after(t_kill)[0]
        res.rto_seconds = round(first.at - t_kill, 3)
        res.event(f"first write acknowledged after the kill by {first.host} ({first.case_no}): "
                  f"RTO {res.rto_seconds:.2f}s", progress)
        _wait(lambda: len(writer.acks_after(t_kill)) >= POST_ACKS, 20.0)
        res.event(f"writes resumed: {len(writer.acks_after(t_kill))} acknowledged after the kill", progress)
    except Exception as exc:  # noqa: BLE001 — the drill reports its failure with the timeline so far
        res.problems.append(f"{type(exc).__name__}: {exc}")
        res.event(f"drill aborted: {exc}", progress)
    finally:
        writer.stop_event.set()
        writer.join(timeout=15)
    res.acknowledged_writes = len(writer.acks)
    res.details["writer"] = {"attempts": writer.attempts, "errors": len(writer.errors),
                             "last_errors": [e for _, e in writer.errors[-3:]]}
    _count_lost(province, res, writer, progress)
    if with_objects and written:
        def at_dr_sites() -> tuple[int, int, int, dict[str, Any] | None]:
            v = verify_written(province, written, _object_targets(province, written[0].site))
            return v["checked"], v["missing"], v["mismatched"], v

        record_objects(res, "at the DR sites", at_dr_sites, progress)
    _judge(res, require_zero_loss=True)
    return res


def _count_lost(province: Province, res: DrillResult, writer: Writer, progress: Progress) -> None:
    import psycopg
    try:
        with psycopg.connect(pg.conninfo(province, connect_timeout=3), autocommit=True) as conn:
            rows = conn.execute("SELECT case_no FROM cases WHERE case_no LIKE %s",
                                (f"DRILL-{res.drill_id}-%",)).fetchall()
            res.new_primary = next((s for s in (res.old_primary, res.new_primary)
                                    if s and str(province.node(s).management.ipv4.ip) == conn.info.host),
                                   res.new_primary)
    except Exception as exc:  # noqa: BLE001 — cannot count: the drill cannot claim zero loss
        res.problems.append(f"acknowledged writes could not be counted: {exc}")
        res.lost_writes = res.acknowledged_writes
        return
    present = {r[0] for r in rows}
    lost = [a for a in writer.acks if a.case_no not in present]
    res.lost_writes = len(lost)
    res.lost_ids = [a.case_no for a in lost[:50]]
    acked = {a.case_no for a in writer.acks}
    res.unacknowledged_present = len(present - acked)
    if lost:
        last = max(a.at for a in writer.acks)
        res.rpo_seconds = round(last - min(a.at for a in lost), 3)
    else:
        res.rpo_seconds = 0.0
    res.event(f"{res.acknowledged_writes} acknowledged writes, {res.lost_writes} lost "
              f"({res.unacknowledged_present} unacknowledged but present)", progress)


def _judge(res: DrillResult, require_zero_loss: bool) -> None:
    t = res.targets
    if res.rto_seconds is None:
        res.problems.append("RTO not measured")
    elif res.rto_seconds > t["rto_seconds"]:
        res.problems.append(f"RTO {res.rto_seconds:.1f}s exceeds the {t['tier']} tier's {t['rto_seconds']}s")
    if res.rpo_seconds is None:
        res.problems.append("RPO not measured")
    elif res.rpo_seconds > t["rpo_seconds"]:
        res.problems.append(f"RPO {res.rpo_seconds:.1f}s exceeds the {t['tier']} tier's {t['rpo_seconds']}s")
    if require_zero_loss and res.lost_writes:
        res.problems.append(f"{res.lost_writes} acknowledged write(s) lost on the synchronous tier")
    if res.objects_missing or res.objects_mismatched:
        res.problems.append(f"{res.objects_missing} object(s) missing, {res.objects_mismatched} differing at the DR sites")
    res.problems = list(dict.fromkeys(res.problems))
    res.ok = not res.problems


# ---------------------------------------------------------------- remote-restore

def scratch_paths() -> tuple[str, str]:
    return (f"/var/lib/postgresql/{pg.VERSION}/{SCRATCH_CLUSTER}", f"/etc/postgresql/{pg.VERSION}/{SCRATCH_CLUSTER}")


def drop_scratch_command() -> str:
    """Drop the scratch cluster, only if it carries this drill's marker (proof that egovops made it)."""
    data, conf = scratch_paths()
    return (f"if [ -d {conf} ]; then test -f {conf}/egovops-scratch || "
            f"{{ echo 'cluster {SCRATCH_CLUSTER} exists but egovops did not make it' >&2; exit 3; }}; "
            f"systemctl stop postgresql@{pg.VERSION}-{SCRATCH_CLUSTER}.service 2>/dev/null; "
            f"pg_dropcluster --stop {pg.VERSION} {SCRATCH_CLUSTER}; fi")


def restore_command() -> str:
    """Restore the newest backup plus the archive from the remote repository into a new scratch
    cluster (archive-mode=off: the scratch copy never pushes into the repository)."""
    data, conf = scratch_paths()
    return (f"{drop_scratch_command()} && "
            f"pg_createcluster {pg.VERSION} {SCRATCH_CLUSTER} -p {SCRATCH_PORT} >/dev/null && "
            f"touch {conf}/egovops-scratch && "
            f"find {data} -mindepth 1 -delete && "
            f"runuser -u postgres -- pgbackrest --stanza={pg.STANZA} --pg1-path={data} "
            f"--archive-mode=off --log-level-console=warn restore && "
            f"systemctl start postgresql@{pg.VERSION}-{SCRATCH_CLUSTER}.service")


def remote_restore(province: Province, progress: Progress = lambda m: None) -> DrillResult:
    import psycopg

    from egovops.dr.remote import ssh
    dp = pg.pair(province)
    primary, _standby = require_healthy_pair(province)
    res = DrillResult("remote-restore", province.meta.name, new_drill_id(), tier=dp.data_tier,
                      targets=targets_for(province, dp.data_tier), old_primary=primary, new_primary=dp.repo)
    res.event(f"primary {primary}; repository at {dp.repo}", progress)
    ids = [f"{res.drill_id}-{i}" for i in range(1, SENTINELS + 1)]
    cleanup = False
    try:
        with psycopg.connect(pg.conninfo(province, connect_timeout=3), autocommit=True) as conn:
            for i in ids:
                conn.execute("INSERT INTO dr_sentinels (id, note) VALUES (%s, %s)", (i, "remote-restore drill sentinel"))
        res.acknowledged_writes = len(ids)
        res.event(f"{len(ids)} sentinel rows acknowledged by {primary}", progress)
        ssh(province, primary, f"runuser -u postgres -- pgbackrest --stanza={pg.STANZA} --log-level-console=warn check",
            timeout=120)
        res.event("WAL switched and archived to the remote repository (pgbackrest check)", progress)
        t_restore = time.monotonic()
        cleanup = True
        ssh(province, dp.repo, restore_command(), timeout=RESTORE_SECONDS)
        res.event(f"restored into scratch cluster {SCRATCH_CLUSTER} on {dp.repo} (port {SCRATCH_PORT}), "
                  "replaying the archive", progress)
        q = pg.psql_command("SELECT NOT pg_is_in_recovery()", port=SCRATCH_PORT)
        if not _wait(lambda: ssh(province, dp.repo, q, timeout=20, check=False).stdout.strip() == "t",
                     RESTORE_SECONDS, step=1.0):
            raise DrError(f"scratch cluster on {dp.repo} did not finish recovery within {RESTORE_SECONDS:.0f}s")
        r = ssh(province, dp.repo, pg.psql_command(
            f"SELECT id FROM dr_sentinels WHERE id LIKE '{res.drill_id}-%' ORDER BY id", db=pg.DATABASE,
            port=SCRATCH_PORT), timeout=30)
        found = set(r.stdout.split())
        res.rto_seconds = round(time.monotonic() - t_restore, 3)
        lost = [i for i in ids if i not in found]
        res.lost_writes, res.lost_ids = len(lost), lost
        res.rpo_seconds = 0.0 if not lost else None
        res.event(f"sentinels found in the restored copy: {len(found)}/{len(ids)} (restore took "
                  f"{res.rto_seconds:.1f}s)", progress)
        info = pg.pgbackrest_info(province, dp.repo)
        nb = pg.newest_backup(info)
        res.details["backup"] = {"label": nb.get("label") if nb else None, "type": nb.get("type") if nb else None,
                                 "stop": nb["timestamp"]["stop"] if nb else None}
    except Exception as exc:  # noqa: BLE001
        res.problems.append(f"{type(exc).__name__}: {exc}")
        res.event(f"drill aborted: {exc}", progress)
    finally:
        if cleanup:
            try:
                ssh(province, dp.repo, drop_scratch_command(), timeout=60)
                res.event(f"scratch cluster {SCRATCH_CLUSTER} dropped", progress)
            except Exception as exc:  # noqa: BLE001
                res.problems.append(f"scratch cluster not dropped: {exc}")
    def at_repo() -> tuple[int, int, int, dict[str, Any] | None]:
        from egovops.dr import objects
        v = objects.verify(province, dp.source, dp.repo)
        return v.objects_checked, v.objects_missing, v.objects_mismatched, None

    record_objects(res, f"of {dp.source} at {dp.repo}", at_repo, progress)
    _judge(res, require_zero_loss=True)
    return res


# ---------------------------------------------------------------- city-pair-loss

def city_pair_loss(province: Province, city: str, progress: Progress = lambda m: None) -> DrillResult:
    from egovops.dr import objects
    tier = next((r.tier for r in province.replications if r.kind == "cooperation"), "cooperation")
    res = DrillResult("city-pair-loss", province.meta.name, new_drill_id(), tier=tier,
                      targets=targets_for(province, tier), old_primary=city)
    try:
        out = objects.drill_city_pair_loss(province, city, progress)
    except objects.ObjectsInputError as exc:
        raise DrInputError(str(exc)) from None
    res.details["objects_drill"] = out
    for k in ("acknowledged_writes", "lost_writes", "rto_seconds", "rpo_seconds", "objects_checked",
              "objects_missing", "objects_mismatched"):
        if out.get(k) is not None:
            setattr(res, k, out[k])
    res.new_primary = out.get("partner") or out.get("target")
    res.timeline = list(out.get("timeline") or [])
    res.problems = list(out.get("problems") or [])
    if out.get("ok") is False and not res.problems:
        res.problems.append("the object tier's drill reported failure")
    _judge(res, require_zero_loss=False)
    return res
