"""Buckets on any S3-compatible store with boto3: created, versioned, encrypted, replicated.

Used by the ObjectStore component's dynamic provider and by the production state backend.
Credentials come from boto3's usual chain (environment, shared files) — never from stack config,
so nothing secret lands in Pulumi state. boto3 >= 1.36 computes checksums by default that several
S3-compatible stores reject, hence ``when_required`` for both directions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEFAULT_REGION = "us-east-1"
REPLICATION_ROLE = "arn:aws:iam:::role/egov-replication"


def client(endpoint: str | None, region: str = DEFAULT_REGION,
           credentials: tuple[str, str] | None = None, timeout: float | None = None) -> Any:
    """An S3 client for ``endpoint`` (None: AWS itself) with path-style addressing.

    ``credentials`` (access key, secret key) when the caller holds them (egovops.dr.objects reads the
    lab's generated ones); otherwise boto3's usual chain. ``timeout`` bounds connect and read.
    """
    import boto3
    from botocore.config import Config

    extra: dict[str, Any] = {"connect_timeout": timeout, "read_timeout": timeout} if timeout else {}
    cfg = Config(s3={"addressing_style": "path"}, request_checksum_calculation="when_required",
                 response_checksum_validation="when_required", retries={"max_attempts": 3, "mode": "standard"},
                 **extra)
    keys = {"aws_access_key_id": credentials[0], "aws_secret_access_key": credentials[1]} if credentials else {}
    return boto3.client("s3", endpoint_url=endpoint or None, region_name=region, config=cfg, **keys)


@dataclass
class BucketSpec:
    """The desired state of one bucket."""

    bucket: str
    versioning: bool = True
    encryption: bool = True
    #: replication rules: {"id", "destination" (bucket name), "prefix"}
    replication: list[dict[str, str]] = field(default_factory=list)
    role: str = REPLICATION_ROLE


def _code(exc: Exception) -> str:
    return getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)


def ensure_bucket(s3: Any, spec: BucketSpec) -> dict[str, Any]:
    """Create (if absent) and configure a bucket; return what the store actually applied.

    Encryption and replication are applied where the store supports them; an unsupported feature
    is reported in the result (``encryption: "unsupported (<code>)"``), never claimed.
    """
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=spec.bucket)
        created = False
    except ClientError as exc:
        if _code(exc) not in ("404", "NoSuchBucket", "NotFound"):
            raise
        s3.create_bucket(Bucket=spec.bucket)
        created = True
    out: dict[str, Any] = {"bucket": spec.bucket, "created": created}
    if spec.versioning or spec.replication:
        s3.put_bucket_versioning(Bucket=spec.bucket, VersioningConfiguration={"Status": "Enabled"})
    out["versioning"] = s3.get_bucket_versioning(Bucket=spec.bucket).get("Status", "Disabled")
    if spec.encryption:
        try:
            s3.put_bucket_encryption(Bucket=spec.bucket, ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
            out["encryption"] = "AES256"
        except ClientError as exc:
            out["encryption"] = f"unsupported ({_code(exc)})"
    else:
        out["encryption"] = "off"
    if spec.replication:
        rules = [{"ID": r["id"], "Priority": i + 1, "Status": "Enabled", "Filter": {"Prefix": r.get("prefix", "")},
                  "DeleteMarkerReplication": {"Status": "Disabled"},
                  "Destination": {"Bucket": f"arn:aws:s3:::{r['destination']}"}}
                 for i, r in enumerate(spec.replication)]
        try:
            s3.put_bucket_replication(Bucket=spec.bucket, ReplicationConfiguration={"Role": spec.role, "Rules": rules})
            out["replication"] = [r["destination"] for r in spec.replication]
        except ClientError as exc:
            out["replication"] = f"unsupported ({_code(exc)})"
    else:
        out["replication"] = []
    return out


def delete_bucket(s3: Any, bucket: str, force: bool = False) -> None:
    """Delete a bucket. A non-empty bucket is kept (its data outlives the stack) unless ``force``."""
    from botocore.exceptions import ClientError

    if force:
        paginator = s3.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=bucket):
            objs = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                    for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            if objs:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": objs})
    try:
        s3.delete_bucket(Bucket=bucket)
    except ClientError as exc:
        if _code(exc) in ("NoSuchBucket", "404"):
            return
        raise
