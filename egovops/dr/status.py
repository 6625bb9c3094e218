"""``dr status``: every DR tier and pair, read from the running servers, healthy or not (fail closed).

Rows (``store`` as in the metrics contract, monitors/README.md):

* ``postgres`` / system tier: the synchronous streaming pair (current primary -> current standby):
  the primary must report the standby ``streaming`` + ``sync`` and no replay gap.
* ``postgres`` / data tier: the WAL archive and base backups in the remote site's pgBackRest
  repository: archiving without failure since the last success, and a backup younger than the
  tier's RPO (``pgbackrest info``).
* ``objects`` / each tier and city pair: the object tier's own status (:func:`egovops.dr.objects.status`).

A row that could not be read is unhealthy with the reason in ``problem`` and ``readable`` False —
never healthy. The metrics collector and the deploy step use this same function.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from egovops.dr import postgres as pg
from egovops.model.province import Province

Progress = Callable[[str], None]
REPLAY_GAP_BYTES = 16 * 1024 * 1024  # a synchronous standby further behind than one WAL segment is not healthy


@dataclass
class PairStatus:
    tier: str
    store: str                         # postgres | objects
    source: str
    target: str
    state: str                         # e.g. "streaming/sync", "archiving", "filer.sync"
    healthy: bool
    readable: bool = True              # False: the state could not be read (unhealthy, fail closed)
    lag_seconds: float | None = None
    last_sync: float | None = None  # unix seconds
    last_verified_backup: float | None = None
    rpo_seconds: int | None = None
    problem: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DrStatus:
    inventory: str
    checked_at: float
    pairs: list[PairStatus] = field(default_factory=list)
    primary: str | None = None      # the database's current primary (None: no primary)
    intended_primary: str | None = None
    targets: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.pairs) and all(p.healthy for p in self.pairs)

    @property
    def complete(self) -> bool:
        """Every row was read (the metrics collector refuses to answer otherwise)."""
        return bool(self.pairs) and all(p.readable for p in self.pairs)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "inventory": self.inventory, "checked_at": self.checked_at, "primary": self.primary,
                "intended_primary": self.intended_primary, "roles_swapped": self.roles_swapped,
                "targets": self.targets, "pairs": [p.as_dict() for p in self.pairs]}

    @property
    def roles_swapped(self) -> bool:
        return self.primary is not None and self.primary != self.intended_primary


def tier_targets(province: Province) -> dict[str, dict[str, int]]:
    """Each tier's RPO/RTO from dr.yaml (seconds): the only source of targets."""
    return {t.name: {"rpo_seconds": t.rpo_seconds, "rto_seconds": t.rto_seconds} for t in province.dr_tiers}


def _rpo(province: Province, tier: str) -> int:
    return tier_targets(province)[tier]["rpo_seconds"]


def postgres_rows(province: Province, now: float | None = None) -> tuple[list[PairStatus], str | None]:
    """The database tier's two rows (system pair, remote repository) and the current primary."""
    now = now or time.time()
    dp = pg.pair(province)
    try:
        primary, standby, probes = pg.current_roles(province)
    except pg.DrError as exc:
        rows = [PairStatus(dp.system_tier, "postgres", dp.source, dp.target, "split brain", False, True,
                           rpo_seconds=_rpo(province, dp.system_tier), problem=str(exc)),
                PairStatus(dp.data_tier, "postgres", dp.source, dp.repo, "unknown", False, False,
                           rpo_seconds=_rpo(province, dp.data_tier), problem=str(exc))]
        return rows, None
    return [system_row(province, dp, primary, standby, probes, now),
            data_row(province, dp, primary, probes, now)], primary


def system_row(province: Province, dp: pg.DbPair, primary: str | None, standby: str | None,
               probes: dict[str, pg.PgProbe], now: float) -> PairStatus:
    row = PairStatus(dp.system_tier, "postgres", primary or dp.source, standby or dp.target, "no primary", False,
                     rpo_seconds=_rpo(province, dp.system_tier))
    if primary is None:
        unread = [p for p in probes.values() if not p.reachable]
        row.readable = not unread and all(p.running or p.problem for p in probes.values())
        row.problem = "; ".join(p.problem for p in probes.values() if p.problem) or "no server runs as primary"
        return row
    assert standby is not None
    repl = [r for r in probes[primary].data.get("replication", []) if r.get("application_name") == pg.app_name(standby)]
    sp = probes[standby]
    if not repl:
        row.state = "not replicating"
        row.problem = f"{primary} has no replication connection from {standby}" + (f" ({sp.problem})" if sp.problem else "")
        return row
    r = repl[0]
    row.state = f"{r.get('state')}/{r.get('sync_state')}"
    gap = r.get("lag_bytes")
    replay_lag = r.get("replay_lag")
    row.lag_seconds = 0.0 if (gap == 0 or replay_lag is None) else round(float(replay_lag), 3)
    row.last_sync = r.get("reply_time")
    problems = []
    if r.get("state") != "streaming":
        problems.append(f"{standby} is {r.get('state')}, not streaming")
    if r.get("sync_state") != "sync":
        problems.append(f"{standby} is {r.get('sync_state')}, not synchronous")
    if gap is not None and gap > REPLAY_GAP_BYTES:
        problems.append(f"{standby} is {gap} bytes behind in replay")
    if row.lag_seconds is not None and row.lag_seconds > (row.rpo_seconds or 0):
        problems.append(f"lag {row.lag_seconds:.0f}s exceeds the {row.tier} tier's RPO {row.rpo_seconds}s")
    row.problem = "; ".join(problems)
    row.healthy = not problems
    return row


def data_row(province: Province, dp: pg.DbPair, primary: str | None, probes: dict[str, pg.PgProbe],
             now: float) -> PairStatus:
    row = PairStatus(dp.data_tier, "postgres", primary or dp.source, dp.repo, "no primary", False,
                     rpo_seconds=_rpo(province, dp.data_tier))
    if primary is None:
        row.problem = "no primary to archive from"
        return row
    arc = probes[primary].data.get("archiver") or {}
    try:
        info = pg.pgbackrest_info(province, primary)
    except pg.DrError as exc:
        row.readable, row.state, row.problem = False, "unreadable", str(exc)
        return row
    problems = []
    code = (info.get("status") or {}).get("code")
    if code != 0:
        problems.append(f"pgbackrest: {(info.get('status') or {}).get('message', 'status ' + str(code))}")
    newest = pg.newest_backup(info)
    if newest:
        row.last_verified_backup = float(newest["timestamp"]["stop"])
        age = now - row.last_verified_backup
        if age > (row.rpo_seconds or 0):
            problems.append(f"newest backup is {age:.0f}s old, over the {row.tier} tier's RPO {row.rpo_seconds}s")
    else:
        problems.append("no backup in the repository")
    last_ok, last_failed = arc.get("last_archived"), arc.get("last_failed")
    if last_failed and (not last_ok or last_failed > last_ok):
        problems.append(f"WAL archiving is failing (last failure {now - last_failed:.0f}s ago)")
    # the archive holds everything up to the last archived segment; the open segment is at most
    # archive_timeout (60 s) behind while archiving succeeds
    row.last_sync = last_ok or row.last_verified_backup
    row.lag_seconds = round(max(0.0, now - row.last_sync), 3) if (problems and row.last_sync) else 0.0
    if not last_ok and not row.last_verified_backup:
        row.lag_seconds = None
    row.state = "archiving" if not problems else "degraded"
    row.problem = "; ".join(problems)
    row.healthy = not problems
    return row


def object_rows(province: Province) -> list[PairStatus]:
    """The object tier's rows (every tier and city pair between deployed sites)."""
    from egovops.dr import objects
    out = []
    try:
        statuses = objects.status(province)
    except Exception as exc:  # noqa: BLE001 — an object tier that cannot be read is one unhealthy row
        return [PairStatus("objects", "objects", "-", "-", "unreadable", False, False, problem=f"{exc}"[:300])]
    for s in statuses:
        out.append(PairStatus(s.tier, "objects", s.source, s.target, "filer.sync", s.healthy,
                              readable=s.lag_seconds is not None, lag_seconds=s.lag_seconds, last_sync=s.last_sync,
                              rpo_seconds=s.rpo_seconds, problem=s.problem))
    return out


def dr_status(province: Province, progress: Progress = lambda m: None, objects: bool = True) -> DrStatus:
    dp = pg.pair(province)
    st = DrStatus(province.meta.name, time.time(), intended_primary=dp.source, targets=tier_targets(province))
    progress("database tier")
    rows, st.primary = postgres_rows(province, st.checked_at)
    st.pairs.extend(rows)
    if objects:
        progress("object tier")
        st.pairs.extend(object_rows(province))
    return st
