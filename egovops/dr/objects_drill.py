"""The ``city-pair-loss`` drill: a city's object store is lost; every object of that city must be at its partner.

Steps (each bounded in count and time; the timeline records each with its offset):

1. Preconditions (bad input, nothing changed): the city is in a pair, both stores are deployed
   (lab: up) and answer, the replication into the partner exists.
2. A bounded writer puts ``count`` objects into the city's buckets (every acknowledged write is
   recorded with its SHA-256), then waits (bounded by the tier's RPO and ``WAIT_CAP``) until the
   partner holds them all: ``replication_seconds``.
3. Snapshot of *every* object of the city (key, size, SHA-256 read back), bounded by ``MAX_OBJECTS``.
4. Loss: the city's store is stopped hard inside its host (``systemctl stop``; the unit's
   KillSignal is SIGKILL) and its S3 endpoint is confirmed dead.
5. Verification at the partner only: every snapshot object and every acknowledged write, by
   SHA-256. ``rto_seconds`` = loss until the partner served the first of the city's objects back.
   ``rpo_seconds`` = age, at the loss, of the oldest acknowledged write missing at the partner (0
   when none is missing).
6. The city's store is restored (started again, bounded wait until S3 answers), whatever happened.
7. One more write at the city must reach the partner again (bounded): replication resumed.

``ok`` = nothing missing or different, and RPO/RTO within the cooperation tier's targets.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

from egovops.dr import objects_s3
from egovops.dr.objects_s3 import VerifyError
from egovops.render import seaweed

WAIT_CAP = 120.0       # seconds the drill waits for replication, at most (the tier's RPO may be hours)
RESTORE_TIMEOUT = 60.0
MAX_OBJECTS = 5000
SCENARIO = "city-pair-loss"


class _Timeline:
    def __init__(self, progress: Callable[[str], None]) -> None:
        self.t0 = time.monotonic()
        self.wall0 = time.time()
        self.events: list[dict[str, Any]] = []
        self.progress = progress

    def __call__(self, event: str, **data: Any) -> float:
        t = round(time.monotonic() - self.t0, 3)
        self.events.append({"t": t, "event": event, **data})
        self.progress(f"[{t:7.2f}s] {event}")
        return t


def _snapshot(s3: Any, buckets: list[str]) -> dict[str, tuple[int, str]]:
    """"<bucket>/<key>" -> (size, sha256) of every current object of the city (bounded)."""
    out: dict[str, tuple[int, str]] = {}
    for b in buckets:
        for key, info in objects_s3.listing(s3, b).items():
            if len(out) >= MAX_OBJECTS:
                raise VerifyError(f"more than {MAX_OBJECTS} objects: too many for a drill snapshot")
            out[f"{b}/{key}"] = (info.size, objects_s3.sha256_of(s3, b, key))
    return out


def _store_dead(s3: Any) -> bool:
    try:
        s3.list_buckets()
        return False
    except Exception:  # noqa: BLE001 — any failure to answer means the store is gone
        return True


def city_pair_loss(province, city: str, progress: Callable[[str], None] = lambda m: None,
                   count: int = 60) -> dict[str, Any]:
    from egovops.dr import objects
    from egovops.dr.remote import ssh

    # ---- 1. preconditions (bad input: raise, change nothing)
    node = objects._node(province, city)
    if node.kind != "city":
        raise objects.ObjectsInputError(f"{city!r} is not a city (kind {node.kind}): the drill loses a city's store")
    try:
        partner = seaweed.partner(province, city)
    except ValueError as exc:
        raise objects.ObjectsInputError(str(exc)) from None
    objects._check_sites(province, [city, partner])
    if not 1 <= count <= objects_s3.MAX_WRITE_COUNT:
        raise objects.ObjectsInputError(f"count {count}: between 1 and {objects_s3.MAX_WRITE_COUNT}")
    tier = next(t for t in province.dr_tiers if t.name == "cooperation")
    targets = {"tier": tier.name, "rpo_seconds": tier.rpo_seconds, "rto_seconds": tier.rto_seconds}
    src, dst = objects.client(province, city), objects.client(province, partner)
    replica = seaweed.replica_bucket(city)
    buckets = seaweed.own_buckets(province)
    for label, s3, need in ((city, src, buckets), (partner, dst, [replica])):
        try:
            have = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
        except Exception as exc:  # noqa: BLE001
            raise objects.ObjectsInputError(f"the object store of {label} does not answer ({exc}): "
                                            "bring the object tier up first (egovops dr)") from None
        if set(need) - have:
            raise objects.ObjectsInputError(f"{label} lacks bucket(s) {', '.join(sorted(set(need) - have))}: "
                                            "the object tier is not set up there (egovops dr)")

    tl = _Timeline(progress)
    result: dict[str, Any] = {"scenario": SCENARIO, "ok": False, "city": city, "partner": partner,
                              "targets": targets, "timeline": tl.events}
    # ---- 2. bounded writer, then bounded wait for replication
    tl("writer start", count=count)
    prefix = f"drill/{SCENARIO}/{int(tl.wall0)}"
    written: list[objects_s3.WrittenObject] = []
    per = [count // len(buckets) + (1 if i < count % len(buckets) else 0) for i in range(len(buckets))]
    for b, n in zip(buckets, per, strict=True):
        if n:
            written += objects_s3.write_objects(src, city, b, n, prefix)
    t_written = tl("writer done", acknowledged=len(written))
    wait = min(float(tier.rpo_seconds), WAIT_CAP)
    deadline = time.monotonic() + wait
    rep_seconds = None
    while time.monotonic() < deadline:
        if objects_s3.verify_written(dst, replica, written).ok:
            rep_seconds = round(time.monotonic() - tl.t0 - t_written, 3)
            break
        time.sleep(0.25)
    tl("replicated" if rep_seconds is not None else f"replication incomplete after {wait:.0f}s",
       replication_seconds=rep_seconds)

    # ---- 3. snapshot of every object of the city
    snap = _snapshot(src, buckets)
    tl("snapshot of the city's objects", objects=len(snap))

    restored = False
    try:
        # ---- 4. loss
        loss_wall = time.time()
        ssh(province, city, f"systemctl stop {seaweed.UNIT}.service", timeout=30)
        t_loss = tl("store lost (stopped hard, SIGKILL)")
        dead = _store_dead(objects.client(province, city, timeout=3))
        tl("city store confirmed unreachable" if dead else "city store still answers", dead=dead)

        # ---- 5. verification at the partner only
        rto = None
        first = next(iter(sorted(snap)), None)
        if first is not None:
            try:
                objects_s3.sha256_of(dst, replica, first)
                rto = round(time.monotonic() - tl.t0 - t_loss, 3)
            except Exception:  # noqa: BLE001 — counted as missing below
                pass
        tl("first object served by the partner", rto_seconds=rto)
        replicas = objects_s3.listing(dst, replica)
        missing, mismatched = [], []
        for name, (size, digest) in sorted(snap.items()):
            rep = replicas.get(name)
            if rep is None:
                missing.append(name)
            elif rep.size != size or objects_s3.sha256_of(dst, replica, name) != digest:
                mismatched.append(name)
        acked = objects_s3.verify_written(dst, replica, written)
        lost = sorted(set(acked.missing) | set(acked.mismatched))
        lost_at = [w.acknowledged_at for w in written if f"{w.bucket}/{w.key}" in set(lost)]
        rpo = round(max(0.0, loss_wall - min(lost_at)), 3) if lost_at else 0.0
        tl("verified at the partner", checked=len(snap), missing=len(missing), mismatched=len(mismatched))
    finally:
        # ---- 6. restore, whatever happened
        ssh(province, city, f"systemctl start {seaweed.UNIT}.service", timeout=30, check=False)
        t_restore0 = time.monotonic()
        from egovops.dr.objects_apply import wait_ready
        try:
            wait_ready(objects.client(province, city, timeout=3), RESTORE_TIMEOUT)
            restored = True
        except TimeoutError:
            restored = False
        tl("city store restored" if restored else f"city store NOT back after {RESTORE_TIMEOUT:.0f}s",
           restore_seconds=round(time.monotonic() - t_restore0, 3))

    # ---- 7. replication from the restored city resumes (one write, bounded wait)
    resumed = None
    if restored:
        t_probe = time.monotonic()
        probe: list[objects_s3.WrittenObject] = []
        while not probe and time.monotonic() - t_probe < RESTORE_TIMEOUT:  # volumes re-register after the S3 port
            probe = objects_s3.write_objects(src, city, buckets[0], 1, f"{prefix}/after-restore")
            if not probe:
                time.sleep(0.5)
        t_probe = time.monotonic()
        while probe and time.monotonic() - t_probe < RESTORE_TIMEOUT:
            if objects_s3.verify_written(dst, replica, probe).ok:
                resumed = round(time.monotonic() - t_probe, 3)
                break
            time.sleep(0.25)
        tl("replication resumed" if resumed is not None else "replication did NOT resume", resumed_seconds=resumed)

    ok = (not missing and not mismatched and not lost and dead and restored and rto is not None
          and rto <= tier.rto_seconds and rpo <= tier.rpo_seconds and rep_seconds is not None and resumed is not None)
    result.update({
        "ok": ok,
        "acknowledged_writes": len(written),
        "lost_writes": len(lost),
        "objects_checked": len(snap),
        "objects_missing": len(missing),
        "objects_mismatched": len(mismatched),
        "missing": missing[:50],
        "mismatched": mismatched[:50],
        "rpo_seconds": rpo,
        "rto_seconds": rto,
        "replication_seconds": rep_seconds,
        "store_lost_confirmed": dead,
        "restored": restored,
        "resumed_seconds": resumed,
        "digest": hashlib.sha256("".join(sorted(d for _, d in snap.values())).encode()).hexdigest()[:16],
    })
    return result
