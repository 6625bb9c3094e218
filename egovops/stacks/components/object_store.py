"""ObjectStore: a node's buckets on its S3-compatible store, and their replication to the DR site.

Buckets are managed by a Pulumi dynamic provider (:class:`BucketProvider`) that speaks plain S3
through boto3, so it works against any S3-compatible endpoint (Ceph RGW, SeaweedFS, …).
Per node: ``egov-<node>-data`` (versioned, encrypted, replicated toward every outgoing DR target)
and, for each incoming replication, ``egov-<node>-replica-<source>`` (the destination bucket and
the source's Velero backup location).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult

from egovops.stacks.config import StackConfig
from egovops.stacks.s3 import REPLICATION_ROLE

BUCKET_KIND = "egovops:s3:Bucket"


def data_bucket(node: str) -> str:
    return f"egov-{node}-data"


def replica_bucket(target: str, source: str) -> str:
    return f"egov-{target}-replica-{source}"


class BucketProvider(ResourceProvider):
    """CRUD of one bucket through boto3. Inputs are the :class:`egovops.stacks.s3.BucketSpec`
    fields plus ``endpoint``; credentials come from the environment of the Pulumi run."""

    def _apply(self, props: dict[str, Any]) -> dict[str, Any]:
        from egovops.stacks import s3

        if not props.get("endpoint"):
            # never fall through to boto3's default (AWS itself) with the province's data
            raise ValueError(f"bucket {props.get('bucket')}: no S3 endpoint; set egovops:s3Endpoint "
                             "in the stack config to the node's S3-compatible store")

        spec = s3.BucketSpec(bucket=props["bucket"], versioning=bool(props.get("versioning", True)),
                             encryption=bool(props.get("encryption", True)),
                             replication=list(props.get("replication") or []),
                             role=props.get("role") or REPLICATION_ROLE)
        applied = s3.ensure_bucket(s3.client(props.get("endpoint")), spec)
        return {**props, "applied": applied}

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = self._apply(props)
        return CreateResult(id_=props["bucket"], outs=outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        keys = ("bucket", "endpoint", "versioning", "encryption", "replication", "role")
        changed = [k for k in keys if olds.get(k) != news.get(k)]
        replaces = [k for k in changed if k in ("bucket", "endpoint")]
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=True)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=self._apply(news))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        from egovops.stacks import s3

        s3.delete_bucket(s3.client(props.get("endpoint")), props["bucket"], force=False)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        from egovops.stacks import s3

        c = s3.client(props.get("endpoint"))
        status = c.get_bucket_versioning(Bucket=id_).get("Status", "Disabled")
        return ReadResult(id_=id_, outs={**props, "bucket": id_, "applied": {**props.get("applied", {}), "versioning": status}})


class Bucket(Resource):
    """A bucket managed by :class:`BucketProvider`."""

    bucket: pulumi.Output[str]
    applied: pulumi.Output[dict]

    def __init__(self, name: str, *, endpoint: str | None, bucket: str, versioning: bool = True,
                 encryption: bool = True, replication: list[dict[str, str]] | None = None,
                 role: str = REPLICATION_ROLE, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(BucketProvider(), name, {
            "kind": BUCKET_KIND, "endpoint": endpoint, "bucket": bucket, "versioning": versioning,
            "encryption": encryption, "replication": replication or [], "role": role, "applied": None,
        }, opts)


@dataclass
class ObjectStoreArgs:
    """Typed inputs of an ObjectStore."""

    config: StackConfig
    #: S3 endpoint of the node's store (None in the offline preview; set egovops:s3Endpoint)
    endpoint: str | None = None
    role: str = REPLICATION_ROLE


class ObjectStore(pulumi.ComponentResource):
    """The node's buckets: its data (replicated to the DR targets) and the replicas it keeps."""

    buckets: dict[str, Bucket]

    def __init__(self, name: str, args: ObjectStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("egovops:storage:ObjectStore", name, None, opts)
        cfg = args.config
        child = pulumi.ResourceOptions(parent=self)
        self.buckets = {}
        data = data_bucket(cfg.node)
        rules = [{"id": r.name, "destination": replica_bucket(r.target, cfg.node), "prefix": ""} for r in cfg.outgoing]
        self.buckets[data] = Bucket(data, endpoint=args.endpoint, bucket=data, replication=rules,
                                    role=args.role, opts=child)
        for r in cfg.incoming:
            name_ = replica_bucket(cfg.node, r.source)
            self.buckets[name_] = Bucket(name_, endpoint=args.endpoint, bucket=name_, opts=child)
        self.register_outputs({"buckets": list(self.buckets), "replicates_to": [r["destination"] for r in rules]})
