"""The object tier through plain S3 (boto3): buckets, bounded writes, and replica verification.

Everything here takes boto3 clients, so it runs the same against a lab store, a production store
or a moto server in unit tests. Verification never trusts the replication engine: it lists both
sides and compares sizes and checksums (SHA-256 of the bytes read back from each side).
A replica of ``<bucket>/<key>`` of site S lives at ``replica-S/<bucket>/<key>`` of its target.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from egovops.stacks.s3 import BucketSpec, ensure_bucket

# bounds of a drill's writer (every load bounded in count and size)
MAX_WRITE_COUNT = 10_000
MAX_OBJECT_BYTES = 1 << 20


class VerifyError(RuntimeError):
    """A side could not be listed or read: the verification has no answer (fail closed)."""


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    etag: str
    last_modified: float  # unix seconds


@dataclass(frozen=True)
class WrittenObject:
    """One acknowledged write: the store answered 200 to the PUT of these bytes."""

    site: str
    bucket: str
    key: str
    sha256: str
    size: int
    acknowledged_at: float


@dataclass
class Comparison:
    """Source objects vs. their replicas."""

    checked: int = 0
    missing: list[str] = field(default_factory=list)      # "<bucket>/<key>" absent at the target
    mismatched: list[str] = field(default_factory=list)   # present, but other size or checksum
    oldest_unsynced: float | None = None               # last_modified of the oldest missing/mismatched
    newest_source: float | None = None

    @property
    def ok(self) -> bool:
        return not self.missing and not self.mismatched


def _code(exc: Exception) -> str:
    return getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)


def ensure_buckets(s3: Any, buckets: Iterable[str], noncurrent_days: dict[str, int]) -> list[dict[str, Any]]:
    """Create and version every bucket; expire noncurrent versions where ``noncurrent_days`` names the
    bucket. Idempotent; what the store refused is reported (``lifecycle: "unsupported (<code>)"``)."""
    from botocore.exceptions import ClientError

    out = []
    for b in buckets:
        applied = ensure_bucket(s3, BucketSpec(bucket=b, versioning=True, encryption=False))
        days = noncurrent_days.get(b)
        if days:
            rule = {"ID": "expire-noncurrent", "Status": "Enabled", "Filter": {"Prefix": ""},
                    "NoncurrentVersionExpiration": {"NoncurrentDays": days}}
            try:
                s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [rule]})
                got = s3.get_bucket_lifecycle_configuration(Bucket=b).get("Rules", [])
                applied["lifecycle"] = f"noncurrent versions expire after {days}d" if got else "not kept by the store"
            except ClientError as exc:
                applied["lifecycle"] = f"unsupported ({_code(exc)})"
        out.append(applied)
    return out


def listing(s3: Any, bucket: str, prefix: str = "") -> dict[str, ObjectInfo]:
    """Every current object of ``bucket`` under ``prefix`` (paginated). VerifyError if it cannot be listed."""
    try:
        out: dict[str, ObjectInfo] = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for o in page.get("Contents", []):
                if o["Key"].endswith("/"):
                    continue
                out[o["Key"]] = ObjectInfo(o["Key"], int(o["Size"]), o.get("ETag", "").strip('"'),
                                           o["LastModified"].timestamp())
        return out
    except Exception as exc:  # noqa: BLE001 — any failure is "no answer", never "nothing there"
        raise VerifyError(f"cannot list bucket {bucket!r}: {_code(exc)}: {exc}") from exc


def sha256_of(s3: Any, bucket: str, key: str) -> str:
    """SHA-256 of the bytes the store returns for ``bucket/key`` (streamed)."""
    h = hashlib.sha256()
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    for chunk in iter(lambda: body.read(1 << 16), b""):
        h.update(chunk)
    return h.hexdigest()


def compare(src: Any, src_buckets: Iterable[str], dst: Any, dst_bucket: str, *, deep: bool = True,
            only: Iterable[str] | None = None, progress: Callable[[str], None] = lambda m: None) -> Comparison:
    """Compare ``src``'s buckets with their replicas under ``dst_bucket`` of ``dst``.

    ``deep``: read both copies and compare SHA-256 (else size + ETag only, cheap enough for a scrape).
    ``only``: restrict to these "<bucket>/<key>" names (a drill checks exactly what it wrote).
    A read error of either side raises VerifyError: no answer is never "all present".
    """
    from botocore.exceptions import ClientError

    want = set(only) if only is not None else None
    res = Comparison()
    replicas = listing(dst, dst_bucket)
    for b in src_buckets:
        for key, info in sorted(listing(src, b).items()):
            name = f"{b}/{key}"
            if want is not None and name not in want:
                continue
            res.checked += 1
            res.newest_source = max(res.newest_source or 0.0, info.last_modified)
            rep = replicas.get(name)
            bad = None
            if rep is None:
                bad = res.missing
            elif rep.size != info.size or (not deep and rep.etag != info.etag):
                bad = res.mismatched
            elif deep:
                try:
                    if sha256_of(src, b, key) != sha256_of(dst, dst_bucket, name):
                        bad = res.mismatched
                except ClientError as exc:
                    if _code(exc) in ("NoSuchKey", "404"):
                        bad = res.missing
                    else:
                        raise VerifyError(f"cannot read {name}: {_code(exc)}") from exc
            if bad is not None:
                bad.append(name)
                res.oldest_unsynced = min(res.oldest_unsynced or info.last_modified, info.last_modified)
            if res.checked % 200 == 0:
                progress(f"verified {res.checked} objects")
    if want is not None:  # asked-for objects the source no longer lists are missing too
        seen = {f"{b}/{k}" for b in src_buckets for k in listing(src, b)}
        res.missing += sorted(want - seen)
    return res


def verify_written(dst: Any, dst_bucket: str, written: Iterable[WrittenObject]) -> Comparison:
    """Check each acknowledged write at the replica by the checksum recorded when it was written
    (works when the source is gone: the drill's proof)."""
    from botocore.exceptions import ClientError

    res = Comparison()
    replicas = listing(dst, dst_bucket)
    for w in written:
        name = f"{w.bucket}/{w.key}"
        res.checked += 1
        rep = replicas.get(name)
        if rep is None:
            res.missing.append(name)
            continue
        try:
            if rep.size != w.size or sha256_of(dst, dst_bucket, name) != w.sha256:
                res.mismatched.append(name)
        except ClientError as exc:
            if _code(exc) in ("NoSuchKey", "404"):
                res.missing.append(name)
            else:
                raise VerifyError(f"cannot read {name}: {_code(exc)}") from exc
    return res


def write_objects(s3: Any, site: str, bucket: str, count: int, prefix: str, size: int = 4096,
                  deadline_s: float = 120.0) -> list[WrittenObject]:
    """Write ``count`` random objects ``<prefix>/<n>`` and return the acknowledged ones (bounded in count,
    size and time; a failed PUT ends the run, what was acknowledged before stays recorded)."""
    if not 1 <= count <= MAX_WRITE_COUNT:
        raise ValueError(f"count {count}: between 1 and {MAX_WRITE_COUNT}")
    if not 1 <= size <= MAX_OBJECT_BYTES:
        raise ValueError(f"size {size}: between 1 and {MAX_OBJECT_BYTES} bytes")
    out: list[WrittenObject] = []
    stop = time.monotonic() + deadline_s
    for i in range(count):
        if time.monotonic() > stop:
            break
        body = os.urandom(size)
        key = f"{prefix.strip('/')}/{i:06d}"
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=body)
        except Exception:  # noqa: BLE001 — an unacknowledged write is simply not recorded
            break
        out.append(WrittenObject(site, bucket, key, hashlib.sha256(body).hexdigest(), size, time.time()))
    return out
