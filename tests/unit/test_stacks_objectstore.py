"""The ObjectStore's dynamic provider and the state backend bucket, against moto's in-process S3.

Why: the provider's create/diff/update/delete run only in real Pulumi deployments; here moto stands
in for the province's S3-compatible store so the boto3 calls (versioning, encryption, replication,
safe delete) are exercised for real. moto stores a replication configuration but never
replicates: these tests check the configuration, not the copying.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.unit

moto = pytest.importorskip("moto")


ENDPOINT = "http://s3.province.egov.ah:8333"


@pytest.fixture
def s3(monkeypatch):
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_DEFAULT_REGION": "us-east-1", "MOTO_S3_CUSTOM_ENDPOINTS": ENDPOINT}.items():
        monkeypatch.setenv(k, v)
    with moto.mock_aws():
        from egovops.stacks import s3 as s3mod

        yield s3mod.client(ENDPOINT)


def props(**over):
    base = {"kind": "egovops:s3:Bucket", "endpoint": ENDPOINT, "bucket": "egov-province-data", "versioning": True,
            "encryption": True, "replication": [], "role": "arn:aws:iam:::role/egov-replication"}
    return {**base, **over}


def test_create_versions_and_encrypts(s3):
    from egovops.stacks.components.object_store import BucketProvider

    res = BucketProvider().create(props())
    assert res.id == "egov-province-data"
    assert res.outs["applied"]["created"] is True
    assert s3.get_bucket_versioning(Bucket="egov-province-data")["Status"] == "Enabled"
    enc = s3.get_bucket_encryption(Bucket="egov-province-data")["ServerSideEncryptionConfiguration"]
    assert enc["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    # idempotent: a second apply finds the bucket
    assert BucketProvider().create(props()).outs["applied"]["created"] is False


def test_replication_configured_toward_dr(s3):
    from egovops.stacks.components.object_store import BucketProvider

    BucketProvider().create(props(bucket="egov-dr-local-replica-province"))
    rule = {"id": "province-to-dr-local", "destination": "egov-dr-local-replica-province", "prefix": ""}
    res = BucketProvider().create(props(replication=[rule]))
    assert res.outs["applied"]["replication"] == ["egov-dr-local-replica-province"]
    cfg = s3.get_bucket_replication(Bucket="egov-province-data")["ReplicationConfiguration"]
    assert cfg["Rules"][0]["Destination"]["Bucket"] == "arn:aws:s3:::egov-dr-local-replica-province"


def test_diff_update_and_replace(s3):
    from egovops.stacks.components.object_store import BucketProvider

    p = BucketProvider()
    old = p.create(props(encryption=False)).outs
    assert old["applied"]["encryption"] == "off"
    d = p.diff("egov-province-data", old, props())
    assert d.changes and not d.replaces
    assert p.diff("egov-province-data", old, props(bucket="other")).replaces == ["bucket"]
    assert not p.diff("egov-province-data", props(encryption=False), props(encryption=False)).changes
    assert p.update("egov-province-data", old, props()).outs["applied"]["encryption"] == "AES256"


def test_delete_keeps_data(s3):
    from botocore.exceptions import ClientError

    from egovops.stacks.components.object_store import BucketProvider

    p = BucketProvider()
    p.create(props())
    s3.put_object(Bucket="egov-province-data", Key="case/1.json", Body=b"{}")
    with pytest.raises(ClientError):  # non-empty: the data outlives the stack
        p.delete("egov-province-data", props())
    assert s3.head_bucket(Bucket="egov-province-data")
    p.create(props(bucket="empty"))
    p.delete("empty", props(bucket="empty"))
    assert "empty" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_no_endpoint_is_refused(s3):
    from egovops.stacks.components.object_store import BucketProvider

    with pytest.raises(ValueError, match="egovops:s3Endpoint"):
        BucketProvider().create(props(endpoint=None))


def test_state_backend_bucket_versioned_and_url(s3):
    from egovops.stacks.production import Backend

    b = Backend(endpoint="http://s3.noc.egov.ah:8333", bucket="egovops-pulumi-state")
    assert b.url() == ("s3://egovops-pulumi-state?endpoint=s3.noc.egov.ah%3A8333&s3ForcePathStyle=true"
                       "&region=us-east-1&disableSSL=true")
    applied = Backend(endpoint=ENDPOINT, bucket="egovops-pulumi-state").ensure()
    assert applied["versioning"] == "Enabled" and applied["created"] is True
