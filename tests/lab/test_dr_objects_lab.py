"""The DR object tier on a real lab: SeaweedFS stores in the hosts, native replication, checks, the drill.

Lab ``objlab`` (tests/fixtures/inventories/objlab, management 198.19.64.0/20 and fd00:34:0:e7::/64),
limited to the provincial node, both DR sites and one city pair (hefei <-> anqing): every kind of
link (system tier, data tier, both directions of a pair) with 5 stores. The routers get their
config through the ordinary `net push` service first (cities reach each other only through it).

Why these tests: replication is only proven by reading the copies back (boto3, SHA-256), the
checks must find a deleted or corrupted replica and must not answer "ok" for a store they cannot
read, and the drill must verify every object of a lost city at its partner. The figures measured
(replication latency, PSS per store and per filer.sync) go to build/dr/objlab/objects/measurements.json.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import pytest

from egovops.model import load_inventory

pytestmark = pytest.mark.lab

REPO = Path(__file__).resolve().parents[2]
OBJLAB = REPO / "tests" / "fixtures" / "inventories" / "objlab"
LIMIT = "city:hefei,city:anqing"
LINKS = {"province->dr-local", "province->dr-remote", "hefei->anqing", "anqing->hefei"}
MEASURE = REPO / "build" / "dr" / "objlab" / "objects" / "measurements.json"


def _record(**data) -> None:
    MEASURE.parent.mkdir(parents=True, exist_ok=True)
    old = json.loads(MEASURE.read_text()) if MEASURE.exists() else {}
    MEASURE.write_text(json.dumps({**old, **data}, indent=1, sort_keys=True))


def _wait_healthy(province, timeout: float = 45.0):
    """Status until every link is healthy (filer.sync units need a few seconds of uptime); bounded."""
    from egovops.dr import objects

    deadline = time.monotonic() + timeout
    while True:
        st = objects.status(province)
        if all(s.healthy for s in st) or time.monotonic() > deadline:
            return st
        time.sleep(2)


@pytest.fixture(scope="module")
def objlab():
    from tests.lab.conftest import lab_skip_reason

    reason = lab_skip_reason()
    if reason:
        pytest.skip(reason)
    from egovops.dr import objects
    from egovops.lab import lab_down, lab_state, lab_up
    from egovops.lab.lifecycle import locked
    from egovops.network.service import PushRequest, push

    p = load_inventory(OBJLAB)
    with locked(p):
        brought = lab_state(p) is None
        lab_up(p, limit=LIMIT)
    try:
        pushed = push(PushRequest(p, settle_timeout=90))
        assert pushed.ok, f"net push failed on objlab (routes between the sites): {pushed.as_dict().get('report')}"
        t0 = time.monotonic()
        up = objects.ensure(p, progress=print)
        _record(ensure_first_seconds=round(time.monotonic() - t0, 1))
        assert up.ok, up.problems
        yield p, up
    finally:
        if brought:
            lab_down(p)


def test_ensure_runs_every_link_and_a_rerun_changes_nothing(objlab):
    from egovops.dr import objects

    p, up = objlab
    assert set(up.links) == LINKS
    assert set(up.sites) == {"province", "dr-local", "dr-remote", "hefei", "anqing"}
    buckets = {s: {b["bucket"] for b in applied} for s, applied in up.buckets.items()}
    assert buckets["dr-remote"] >= {"elicence", "replica-province", "pgbackrest"}
    assert buckets["anqing"] >= {"elicence", "case-attachments", "exchange", "replica-hefei"}
    assert all(b["versioning"] == "Enabled" for applied in up.buckets.values() for b in applied)
    st = _wait_healthy(p)
    assert {f"{s.source}->{s.target}" for s in st} == LINKS
    assert all(s.healthy for s in st), [(s.source, s.target, s.problem) for s in st]
    t0 = time.monotonic()
    again = objects.ensure(p)
    _record(ensure_rerun_seconds=round(time.monotonic() - t0, 1))
    assert again.ok and again.changed == 0, f"re-run changed {again.changed} tasks (log {again.log_path})"


def test_replication_of_both_tiers_and_the_pair_verified_by_checksum(objlab):
    from egovops.dr import objects

    p, _ = objlab
    latency = {}
    for source, target in (("province", "dr-local"), ("province", "dr-remote"), ("hefei", "anqing"),
                           ("anqing", "hefei")):
        samples = objects.replication_latency(p, source, target, samples=5, timeout=30)
        assert None not in samples, f"{source}->{target}: a write never arrived within 30s: {samples}"
        latency[f"{source}->{target}"] = {"median_s": statistics.median(samples), "max_s": max(samples)}
        res = objects.verify(p, source, target)
        assert res.ok and res.objects_checked >= 5, res.as_dict()
    _record(replication_latency=latency)
    # the partner holds only its partner's data: nothing of the province, nothing of its own bounced back
    from egovops.dr import objects_s3
    keys = objects_s3.listing(objects.client(p, "anqing"), "replica-hefei")
    assert keys and all(k.split("/")[0] in ("elicence", "case-attachments", "exchange") for k in keys)


def test_verify_finds_deleted_and_corrupted_replicas_and_fails_closed(objlab):
    from egovops.dr import objects, objects_s3
    from egovops.dr.remote import ssh

    p, _ = objlab
    written = objects.write_objects(p, "province", 3, f"verify-test/{int(time.time())}", bucket="exchange")
    assert len(written) == 3
    dst = objects.client(p, "dr-remote")
    deadline = time.monotonic() + 30
    while not objects_s3.verify_written(dst, "replica-province", written).ok and time.monotonic() < deadline:
        time.sleep(0.25)
    gone, bad = (f"exchange/{w.key}" for w in written[:2])
    src = objects.client(p, "province")
    try:
        dst.delete_object(Bucket="replica-province", Key=gone)
        dst.put_object(Bucket="replica-province", Key=bad, Body=b"\0" * written[1].size)  # same size, other bytes
        res = objects.verify(p, "province", "dr-remote", bucket="exchange")
        assert gone in res.missing and bad in res.mismatched and not res.ok, res.as_dict()
        # a store that cannot be read is an error and unhealthy, never "ok"
        ssh(p, "dr-remote", "systemctl stop egov-objects.service")
        try:
            with pytest.raises(objects_s3.VerifyError):
                objects.verify(p, "province", "dr-remote")
            st = {f"{s.source}->{s.target}": s for s in objects.status(p)}
            assert not st["province->dr-remote"].healthy and "cannot read" in st["province->dr-remote"].problem
            with pytest.raises(objects.ObjectsError):
                objects.metrics(p)
        finally:
            ssh(p, "dr-remote", "systemctl start egov-objects.service")
            from egovops.dr.objects_apply import wait_ready
            wait_ready(objects.client(p, "dr-remote", timeout=3), 60)
    finally:
        # clean up both sides (every version), so the later tests see a consistent tier again
        for s3, bucket, prefix in ((src, "exchange", written[0].key.rsplit("/", 1)[0]),
                                   (dst, "replica-province", "exchange/" + written[0].key.rsplit("/", 1)[0])):
            versions = s3.list_object_versions(Bucket=bucket, Prefix=prefix)
            for v in versions.get("Versions", []) + versions.get("DeleteMarkers", []):
                s3.delete_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])
    deadline, clean = time.monotonic() + 60, False
    while time.monotonic() < deadline and not clean:
        try:  # a restarted store serves listings before its volumes have re-registered: retry, bounded
            clean = objects.verify(p, "province", "dr-remote", bucket="exchange").ok
        except objects_s3.VerifyError:
            pass
        time.sleep(1)
    assert clean


def test_city_pair_loss_drill_verifies_every_object_at_the_partner(objlab):
    from egovops.dr import objects

    p, _ = objlab
    with pytest.raises(objects.ObjectsInputError, match="not up"):
        objects.drill_city_pair_loss(p, "wuhu")  # a pair whose cities are not up: bad input, nothing done
    r = objects.drill_city_pair_loss(p, "hefei", progress=print, count=30)
    for key in ("scenario", "ok", "objects_checked", "objects_missing", "targets", "timeline", "rpo_seconds",
                "rto_seconds", "acknowledged_writes", "lost_writes"):
        assert key in r, key
    assert r["scenario"] == "city-pair-loss" and r["partner"] == "anqing"
    assert r["acknowledged_writes"] == 30 and r["lost_writes"] == 0
    assert r["objects_checked"] >= 30 and r["objects_missing"] == 0 and r["objects_mismatched"] == 0
    assert r["store_lost_confirmed"] and r["restored"] and r["resumed_seconds"] is not None
    assert r["targets"]["rpo_seconds"] == 86400 and r["ok"], r
    _record(city_pair_loss={k: r[k] for k in ("rto_seconds", "rpo_seconds", "replication_seconds",
                                              "resumed_seconds", "objects_checked")},
            restore_seconds=next(e["restore_seconds"] for e in r["timeline"] if "restore_seconds" in e))
    assert all(s.healthy for s in _wait_healthy(p))  # the restored city replicates again


def test_memory_of_the_stores(objlab):
    from egovops.dr import objects

    p, _ = objlab
    mem = objects.memory(p)
    stores = [m["egov-objects"] for m in mem.values()]
    syncs = [v for m in mem.values() for k, v in m.items() if k != "egov-objects"]
    assert len(stores) == 5 and len(syncs) == 4
    assert all(20 < s < 400 for s in stores) and all(5 < s < 200 for s in syncs), mem
    full = objects.seaweed.sites(p), objects.seaweed.links(p)
    estimate = statistics.mean(stores) * len(full[0]) + statistics.mean(syncs) * len(full[1])
    _record(pss_mb=mem, full_lab_estimate_mb=round(estimate), full_lab_stores=len(full[0]),
            full_lab_links=len(full[1]))
