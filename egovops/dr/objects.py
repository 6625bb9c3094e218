"""The object tier of disaster recovery: the public interface (the database tier and the CLI call these).

Interface (agreed with the database tier; keep the names)::

    endpoint(province, site) -> str                      S3 URL of a site's store (management address), from the inventory
    client(province, site) -> boto3 S3 client            checksums when_required; credentials from the secrets dir
    ensure(province, sites, progress) -> ObjectsUpResult stores up (roles/object_store), buckets, versioning,
                                                         lifecycle, native replication (weed filer.sync) running; idempotent
    status(province) -> list[ObjectReplicationStatus]    per tier and pair (both directions of a city pair)
    verify(province, source, target, bucket=None) -> VerifyResult   boto3 lists + SHA-256 of both copies
    write_objects(province, site, count, prefix) -> list[WrittenObject]   bounded writer for drills
    drill_city_pair_loss(province, city, progress) -> dict               the ``city-pair-loss`` drill (JSON keys below)
    pgbackrest_repo(province) -> dict                    pgBackRest's S3 repository at the remote DR site
    metrics(province) -> list[Sample]                    egov_dr_* series with store="objects" (raises when incomplete)

Errors: :class:`ObjectsInputError` (a ValueError: bad input, nothing changed — the CLI exits 2),
:class:`ObjectsError` (the tier could not be brought up or read). A check that cannot read a store
reports it unhealthy with the reason in ``problem`` — never healthy.

Where things are: the plan (sites, links, role variables) is :mod:`egovops.render.seaweed`; S3 work is
:mod:`egovops.dr.objects_s3`; the Ansible run is :mod:`egovops.dr.objects_apply`; the drill is
:mod:`egovops.dr.objects_drill`. Credentials (lab): ``secrets_dir/objects-s3.env`` (admin identity
of every store) and ``secrets_dir/objects-pgbackrest.env`` (pgBackRest's own identity, limited to
its bucket; the file uses pgBackRest's variable names ``PGBACKREST_REPO1_S3_KEY`` /
``PGBACKREST_REPO1_S3_KEY_SECRET``). Production: ``EGOVOPS_S3_CREDENTIALS`` /
``EGOVOPS_PGBACKREST_S3_CREDENTIALS`` name vault-provided files of the same format.
"""

from __future__ import annotations

import os
import secrets as _secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from egovops.dr import objects_s3
from egovops.dr.objects_s3 import WrittenObject
from egovops.model.province import Province
from egovops.render import seaweed

Progress = Callable[[str], None]

S3_ENV = "objects-s3.env"
PGBACKREST_ENV = "objects-pgbackrest.env"
ADMIN_KEYS = ("EGOVOPS_S3_ACCESS_KEY", "EGOVOPS_S3_SECRET_KEY")
PGBACKREST_KEYS = ("PGBACKREST_REPO1_S3_KEY", "PGBACKREST_REPO1_S3_KEY_SECRET")
CLIENT_TIMEOUT = 10.0

__all__ = ["ObjectsInputError", "ObjectsError", "ObjectsUpResult", "ObjectReplicationStatus", "VerifyResult",
           "WrittenObject", "Sample", "endpoint", "client", "ensure", "status", "verify", "write_objects",
           "drill_city_pair_loss", "pgbackrest_repo", "metrics", "deployed_sites"]


class ObjectsInputError(ValueError):
    """Bad input (unknown site, a site that is not up, no object tier in the inventory): nothing changed."""


class ObjectsError(RuntimeError):
    """The object tier could not be brought up or read."""


@dataclass
class ObjectsUpResult:
    ok: bool
    sites: list[str]
    links: list[str]                                   # "source->target" running natively
    buckets: dict[str, list[dict[str, Any]]]           # site -> what ensure_bucket applied
    seconds: float
    changed: int = 0                                   # Ansible tasks changed (0 on an idempotent re-run)
    problems: list[str] = field(default_factory=list)
    log_path: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ObjectReplicationStatus:
    source: str
    target: str
    tier: str
    healthy: bool
    lag_seconds: float | None       # age of the oldest source object not (yet) at the target; 0 when in sync
    last_sync: float | None         # unix time up to which the target is verified complete
    objects_source: int | None
    objects_target: int | None
    problem: str = ""
    store: str = "objects"
    kind: str = ""                     # same_city | remote | cooperation
    rpo_seconds: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class VerifyResult:
    source: str
    target: str
    buckets: list[str]
    objects_checked: int
    objects_missing: int
    objects_mismatched: int
    missing: list[str]
    mismatched: list[str]

    @property
    def ok(self) -> bool:
        return self.objects_missing == 0 and self.objects_mismatched == 0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


@dataclass(frozen=True)
class Sample:
    """One metric sample for the DR collector (names per monitors/README.md)."""

    name: str
    labels: dict[str, str]
    value: float


# ---------------------------------------------------------------- endpoints and credentials
def _node(province: Province, site: str):
    try:
        return seaweed.site_node(province, site)
    except ValueError as exc:
        raise ObjectsInputError(str(exc)) from None


def endpoint(province: Province, site: str) -> str:
    """The S3 URL of ``site``'s store as the controller (and the stacks) reach it: management address."""
    _node(province, site)
    _spec(province)
    return seaweed.s3_url(province, site)


def replication_endpoint(province: Province, site: str) -> str:
    """The S3 URL of ``site``'s store as other sites reach it (extranet address)."""
    _node(province, site)
    return f"http://{seaweed.store_address(province, site)}:{_spec(province).s3_port}"


def _spec(province: Province):
    try:
        return seaweed.spec(province)
    except seaweed.ObjectTierMissing as exc:
        raise ObjectsInputError(str(exc)) from None


def _secrets_dir(province: Province) -> Path:
    from egovops.lab.paths import secrets_dir
    return secrets_dir(province)


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)


def _read_env(path: Path, keys: tuple[str, str]) -> tuple[str, str]:
    values: dict[str, str] = {}
    try:
        for line in path.read_text().splitlines():
            k, _, v = line.partition("=")
            values[k.strip()] = v.strip()
        return values[keys[0]], values[keys[1]]
    except (OSError, KeyError):
        raise ObjectsInputError(f"no S3 credentials in {path} (keys {keys[0]}, {keys[1]}): run `egovops dr` set-up "
                                "(lab) or point the variable at the vault-provided file") from None


def credentials_file(province: Province, which: str = "admin") -> Path:
    """The credentials file (admin identity, or ``pgbackrest``'s). Lab: generated on first use (0600)."""
    env = "EGOVOPS_S3_CREDENTIALS" if which == "admin" else "EGOVOPS_PGBACKREST_S3_CREDENTIALS"
    if os.environ.get(env):
        return Path(os.environ[env])
    if province.meta.environment != "lab":
        raise ObjectsInputError(f"no S3 credentials: set {env} to a vault-provided file")
    d = _secrets_dir(province)
    d.mkdir(parents=True, exist_ok=True)
    os.chmod(d, 0o700)
    name, keys = (S3_ENV, ADMIN_KEYS) if which == "admin" else (PGBACKREST_ENV, PGBACKREST_KEYS)
    path = d / name
    if not path.exists():
        access = "EGOV" + _secrets.token_hex(8).upper()
        _write_private(path, f"{keys[0]}={access}\n{keys[1]}={_secrets.token_urlsafe(30)}\n")
    return path


def credentials(province: Province, which: str = "admin") -> tuple[str, str]:
    keys = ADMIN_KEYS if which == "admin" else PGBACKREST_KEYS
    return _read_env(credentials_file(province, which), keys)


def client(province: Province, site: str, timeout: float = CLIENT_TIMEOUT) -> Any:
    """A boto3 S3 client for ``site``'s store (admin identity; checksums only when required)."""
    from egovops.stacks.s3 import client as s3_client

    return s3_client(endpoint(province, site), region=_spec(province).region,
                     credentials=credentials(province), timeout=timeout)


def pgbackrest_repo(province: Province) -> dict[str, Any]:
    """What pgBackRest needs for its S3 repository at the remote DR site (``repo1-s3-*`` settings).

    The province's PostgreSQL host reaches the remote site over the extranet, so ``endpoint`` is the
    remote store's extranet address; the credentials stay in the file (``credentials_file``: an env
    file with PGBACKREST_REPO1_S3_KEY / PGBACKREST_REPO1_S3_KEY_SECRET, 0600, never printed).
    """
    spec = _spec(province)
    site = seaweed.remote_site(province)
    return {"site": site, "endpoint": seaweed.store_address(province, site), "port": spec.s3_port,
            "bucket": spec.pgbackrest_bucket, "region": spec.region, "uri_style": "path",
            "verify_tls": False, "protocol": "http", "credentials_file": str(credentials_file(province, "pgbackrest"))}


# ---------------------------------------------------------------- which sites are deployed
def deployed_sites(province: Province) -> list[str]:
    """Sites whose store exists: in a lab the object-holding hosts that are up; in production all sites."""
    all_sites = seaweed.sites(province)
    if province.meta.environment != "lab":
        return all_sites
    from egovops.lab import lab_state
    st = lab_state(province)
    up = {h.name for h in st.hosts if h.up} if st else set()
    return [s for s in all_sites if s in up]


def _check_sites(province: Province, sites: list[str]) -> list[str]:
    _spec(province)
    if not sites:
        raise ObjectsInputError("no sites given")
    for s in sites:
        _node(province, s)
    if province.meta.environment == "lab":
        up = set(deployed_sites(province))
        down = [s for s in sites if s not in up]
        if down:
            raise ObjectsInputError(f"lab {province.meta.name}: site(s) not up: {', '.join(down)} "
                                    "(bring them up with `egovops lab up --limit …`)")
    return list(dict.fromkeys(sites))


# ---------------------------------------------------------------- ensure
def ensure(province: Province, sites: list[str] | None = None, progress: Progress = lambda m: None) -> ObjectsUpResult:
    """Bring the object tier up at ``sites`` (default: every deployed site): the store (roles/object_store
    through playbooks/dr.yml), buckets with versioning and lifecycle, and every filer.sync between them.
    Idempotent: a re-run changes nothing."""
    from egovops.dr import objects_apply

    t0 = time.monotonic()
    sites = _check_sites(province, sites if sites is not None else deployed_sites(province))
    credentials(province)
    credentials(province, "pgbackrest")
    links = seaweed.links(province, among=sites)
    progress(f"objects: {len(sites)} stores, {len(links)} replications ({', '.join(lk.name for lk in links) or 'none'})")
    run = objects_apply.apply(province, sites, progress)
    problems = [] if run.ok else [f"ansible failed (rc {run.rc}{'; ' + run.error if run.error else ''}); "
                                  f"log: {run.log_path}"]
    buckets: dict[str, list[dict[str, Any]]] = {}
    if run.ok:
        days = {b.name: b.noncurrent_days for b in _spec(province).buckets}

        def one(site: str) -> tuple[str, list[dict[str, Any]]]:
            s3 = client(province, site)
            objects_apply.wait_ready(s3)
            return site, objects_s3.ensure_buckets(s3, seaweed.buckets_at(province, site, sites), days)

        with ThreadPoolExecutor(max_workers=4) as pool:
            for site, applied in pool.map(one, sites):
                buckets[site] = applied
                progress(f"objects: {site}: {len(applied)} buckets versioned")
        problems += _wait_syncs_running(province, links, progress)
    return ObjectsUpResult(not problems, sites, [lk.name for lk in links], buckets, round(time.monotonic() - t0, 1),
                           run.changed, problems, str(run.log_path) if run.log_path else None)


SYNC_WAIT = 45.0


def _wait_syncs_running(province: Province, links: list[seaweed.SyncLink], progress: Progress) -> list[str]:
    """Bounded wait until every link's filer.sync has been running SYNC_MIN_UP seconds (a unit the role
    just restarted, or one whose source store is still starting, may be in a restart loop)."""
    deadline = time.monotonic() + SYNC_WAIT
    pending = list(links)
    while pending:
        with ThreadPoolExecutor(max_workers=6) as pool:
            why = dict(zip([lk.name for lk in pending], pool.map(lambda lk: _sync_active(province, lk), pending), strict=True))
        pending = [lk for lk in pending if why[lk.name]]
        if not pending or time.monotonic() > deadline:
            break
        time.sleep(1.0)
    if not pending:
        progress(f"objects: {len(links)} replication units running")
    return [f"{lk.name}: {why[lk.name]}" for lk in pending]


# ---------------------------------------------------------------- status and verify
SYNC_MIN_UP = 3.0  # a filer.sync up for less than this may be a crash loop (it exits when the source is unreachable)


def _sync_active(province: Province, link: seaweed.SyncLink) -> str | None:
    """None when the link's filer.sync unit is running (and has been for SYNC_MIN_UP seconds), else why not."""
    from egovops.dr.remote import RemoteError, ssh
    try:
        r = ssh(province, link.target, f"systemctl show -p ActiveState -p SubState -p ActiveEnterTimestampMonotonic "
                                       f"-p NRestarts {link.unit}.service; cat /proc/uptime", timeout=15)
    except RemoteError as exc:
        return str(exc)
    lines = r.stdout.split()
    props = dict(x.split("=", 1) for x in lines if "=" in x)
    try:
        uptime = float(lines[-2])
        up_for = uptime - int(props.get("ActiveEnterTimestampMonotonic", "0")) / 1e6
    except (ValueError, IndexError):
        return f"{link.target}: cannot read the state of {link.unit}"
    state = f"{props.get('ActiveState', '?')}/{props.get('SubState', '?')}"
    if state != "active/running":
        return f"filer.sync unit {link.unit} on {link.target} is {state} (restarts: {props.get('NRestarts', '?')})"
    if up_for < SYNC_MIN_UP:
        return (f"filer.sync unit {link.unit} on {link.target} (re)started {up_for:.1f}s ago "
                f"(restarts: {props.get('NRestarts', '?')}): not yet proven running")
    return None


def _link_status(province: Province, link: seaweed.SyncLink, now: float) -> ObjectReplicationStatus:
    tier = next(t for t in province.dr_tiers if t.name == link.tier)
    st = ObjectReplicationStatus(link.source, link.target, link.tier, False, None, None, None, None,
                                 kind=link.kind, rpo_seconds=tier.rpo_seconds)
    try:
        src, dst = client(province, link.source), client(province, link.target)
        cmp = objects_s3.compare(src, seaweed.own_buckets(province), dst, link.target_bucket, deep=False)
        st.objects_source = cmp.checked
        st.objects_target = len(objects_s3.listing(dst, link.target_bucket))
    except Exception as exc:  # noqa: BLE001 — unreadable (VerifyError, connection, auth) is unhealthy, with the reason
        st.problem = f"cannot read: {exc}"[:300]
        return st
    if cmp.ok:
        st.lag_seconds, st.last_sync = 0.0, now
    else:
        oldest = cmp.oldest_unsynced or now
        st.lag_seconds, st.last_sync = round(max(0.0, now - oldest), 3), oldest
    inactive = _sync_active(province, link)
    problems = []
    if inactive:
        problems.append(inactive)
    if st.lag_seconds > tier.rpo_seconds:
        problems.append(f"lag {st.lag_seconds:.0f}s exceeds the {link.tier} tier's RPO {tier.rpo_seconds}s "
                        f"({len(cmp.missing)} missing, {len(cmp.mismatched)} differing)")
    st.problem = "; ".join(problems)
    st.healthy = not problems
    return st


def status(province: Province) -> list[ObjectReplicationStatus]:
    """Every replication of the object tier between deployed sites, checked by boto3 (sizes + ETags)
    and by its filer.sync unit being active. Healthy = readable, running, and lag within the tier's RPO."""
    _spec(province)
    links = seaweed.links(province, among=deployed_sites(province))
    now = time.time()
    with ThreadPoolExecutor(max_workers=6) as pool:
        return list(pool.map(lambda lk: _link_status(province, lk, now), links))


def verify(province: Province, source: str, target: str, bucket: str | None = None) -> VerifyResult:
    """Every current object of ``source`` (or of one of its buckets) against its replica at ``target``:
    lists of both sides and SHA-256 of both copies. VerifyError when a side cannot be read."""
    _node(province, source)
    _node(province, target)
    if not any(lk.source == source and lk.target == target for lk in seaweed.links(province)):
        raise ObjectsInputError(f"{source} does not replicate to {target} in dr.yaml")
    own = seaweed.own_buckets(province)
    if bucket is not None and bucket not in own:
        raise ObjectsInputError(f"unknown bucket {bucket!r}: one of {', '.join(own)}")
    buckets = [bucket] if bucket else own
    cmp = objects_s3.compare(client(province, source), buckets, client(province, target),
                             seaweed.replica_bucket(source), deep=True)
    return VerifyResult(source, target, buckets, cmp.checked, len(cmp.missing), len(cmp.mismatched),
                        cmp.missing, cmp.mismatched)


def write_objects(province: Province, site: str, count: int, prefix: str, bucket: str | None = None,
                  size: int = 4096) -> list[WrittenObject]:
    """Write ``count`` objects (bounded) under ``prefix`` into ``site``'s first bucket (or ``bucket``);
    returns the acknowledged writes with their SHA-256."""
    _check_sites(province, [site])
    b = bucket or seaweed.own_buckets(province)[0]
    if b not in seaweed.own_buckets(province):
        raise ObjectsInputError(f"unknown bucket {b!r}: one of {', '.join(seaweed.own_buckets(province))}")
    try:
        return objects_s3.write_objects(client(province, site), site, b, count, prefix, size)
    except ValueError as exc:
        raise ObjectsInputError(str(exc)) from None


# ---------------------------------------------------------------- metrics
def metrics(province: Province) -> list[Sample]:
    """egov_dr_replication_lag_seconds / _last_sync_timestamp_seconds / _replication_healthy with
    store="objects", one set per link. Raises ObjectsError when a store could not be read (the
    collector fails the scrape: no answer is never "healthy")."""
    out: list[Sample] = []
    for st in status(province):
        labels = {"tier": st.tier, "source": st.source, "target": st.target, "store": "objects"}
        if st.lag_seconds is None or st.last_sync is None:
            raise ObjectsError(f"object replication {st.source}->{st.target}: {st.problem}")
        out += [Sample("egov_dr_replication_lag_seconds", labels, float(st.lag_seconds)),
                Sample("egov_dr_last_sync_timestamp_seconds", labels, float(st.last_sync)),
                Sample("egov_dr_replication_healthy", labels, 1.0 if st.healthy else 0.0)]
    return out


def drill_city_pair_loss(province: Province, city: str, progress: Progress = lambda m: None,
                         count: int = 60) -> dict[str, Any]:
    """The ``city-pair-loss`` drill (see :mod:`egovops.dr.objects_drill`)."""
    from egovops.dr.objects_drill import city_pair_loss

    return city_pair_loss(province, city, progress, count)


def replication_latency(province: Province, source: str, target: str, samples: int = 5,
                        timeout: float = 30.0) -> list[float | None]:
    """Seconds from an acknowledged PUT at ``source`` until its replica at ``target`` reads back with the
    same SHA-256, per sample (None: not there within ``timeout``). Bounded: at most 50 samples."""
    if not 1 <= samples <= 50:
        raise ObjectsInputError(f"samples {samples}: between 1 and 50")
    if not any(lk.source == source and lk.target == target for lk in seaweed.links(province)):
        raise ObjectsInputError(f"{source} does not replicate to {target} in dr.yaml")
    _check_sites(province, [source, target])
    src, dst = client(province, source), client(province, target)
    bucket, replica = seaweed.own_buckets(province)[0], seaweed.replica_bucket(source)
    out: list[float | None] = []
    for i in range(samples):
        w = objects_s3.write_objects(src, source, bucket, 1, f"probe/latency/{int(time.time() * 1000)}-{i}")
        if not w:
            out.append(None)
            continue
        t0, deadline, got = time.monotonic(), time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            try:
                if objects_s3.sha256_of(dst, replica, f"{bucket}/{w[0].key}") == w[0].sha256:
                    got = round(time.monotonic() - t0, 3)
                    break
            except Exception:  # noqa: BLE001 — not there yet
                pass
            time.sleep(0.05)
        out.append(got)
    return out


def memory(province: Province, sites: list[str] | None = None) -> dict[str, dict[str, float]]:
    """PSS in MB of each site's object store and of each filer.sync unit running there, read from
    /proc/<MainPID>/smaps_rollup inside the host (what the tier costs; the full-lab estimate scales it)."""
    from egovops.dr.remote import ssh

    sites = _check_sites(province, sites if sites is not None else deployed_sites(province))
    units = {s: [seaweed.UNIT] + [lk.unit for lk in seaweed.links(province, sites) if lk.target == s] for s in sites}

    def one(site: str) -> tuple[str, dict[str, float]]:
        script = "; ".join(
            f"p=$(systemctl show -p MainPID --value {u}.service); "
            f"echo {u} $(awk '/^Pss:/ {{print $2}}' /proc/$p/smaps_rollup 2>/dev/null || echo -1)" for u in units[site])
        out = ssh(province, site, script, timeout=20).stdout.split("\n")
        got = {}
        for line in out:
            parts = line.split()
            if len(parts) == 2 and parts[1].lstrip("-").isdigit() and int(parts[1]) >= 0:
                got[parts[0]] = round(int(parts[1]) / 1024, 1)
        return site, got

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(pool.map(one, sites))
