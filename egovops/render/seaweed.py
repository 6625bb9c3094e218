"""The object tier's plan, derived from the inventory only (pure functions, no I/O).

In render because it is a derivation: the DR tier (apply), the stacks' config and the checks read it.

Which sites hold objects, where each store listens, which native replications (``weed filer.sync``,
active-passive) run where, and the variables ``roles/object_store`` gets for one host. The lab and
production use the same plan; only the addresses differ (they come from the model).

Layout at every site: the buckets of ``dr.yaml object_store.buckets`` hold the site's own files.
A replica of site S at target T lands in bucket ``replica-S`` of T (path ``/buckets/replica-S`` of
T's filer), one ``filer.sync`` per (source, target), running as a systemd unit on the *target*
(the target pulls; the source keeps serving if the target is down). The source's own replica
buckets and SeaweedFS's ``/buckets/.system`` are excluded, so data never loops between partners and
each city's data stays apart at its partner.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from egovops.model.province import Node, Province
from egovops.model.schema import REPLICA_BUCKET_PREFIX, ObjectStoreSpec

SITE_KINDS = ("provincial", "dr", "city")
BUCKETS_ROOT = "/buckets"
SYSTEM_DIR = "/buckets/.system"
UNIT = "egov-objects"
SYNC_UNIT_PREFIX = "egov-objsync-"

Tier = Literal["system", "data", "cooperation"]


class ObjectTierMissing(ValueError):
    """The inventory has no ``object_store`` section in dr.yaml: there is no object tier to act on."""


@dataclass(frozen=True)
class SyncLink:
    """One native replication: everything under ``/buckets`` of ``source`` into ``replica-<source>`` at ``target``."""

    tier: str
    kind: str                      # same_city | remote | cooperation
    source: str
    target: str

    @property
    def target_bucket(self) -> str:
        return replica_bucket(self.source)

    @property
    def unit(self) -> str:
        return f"{SYNC_UNIT_PREFIX}{self.source}"

    @property
    def name(self) -> str:
        return f"{self.source}->{self.target}"


def spec(province: Province) -> ObjectStoreSpec:
    if province.object_store is None:
        raise ObjectTierMissing(f"inventory {province.meta.name}: dr.yaml has no object_store section "
                                "(ports and buckets of the sites' S3 stores)")
    return province.object_store


def replica_bucket(source: str) -> str:
    return f"{REPLICA_BUCKET_PREFIX}{source}"


def sites(province: Province) -> list[str]:
    """Every site that holds objects: the provincial node, the DR sites and every city (inventory order)."""
    return [n.slug for n in province.nodes if n.kind in SITE_KINDS]


def site_node(province: Province, site: str) -> Node:
    """The node of ``site``; ValueError names an unknown site (bad input)."""
    try:
        node = province.node(site)
    except KeyError:
        raise ValueError(f"unknown site {site!r}: use a node slug from nodes.yaml "
                         f"({', '.join(sites(province)[:6])}, …)") from None
    if node.kind not in SITE_KINDS:
        raise ValueError(f"site {site!r} holds no objects")
    return node


def links(province: Province, among: Iterable[str] | None = None) -> list[SyncLink]:
    """Every replication of the object tier (both directions of each city pair), optionally only those
    whose two ends are both in ``among`` (e.g. the hosts a lab has up)."""
    out: list[SyncLink] = []
    for r in province.replications:
        out.append(SyncLink(r.tier, r.kind, r.source, r.target))
        if r.kind == "cooperation":
            out.append(SyncLink(r.tier, r.kind, r.target, r.source))
    if among is not None:
        keep = set(among)
        out = [link for link in out if link.source in keep and link.target in keep]
    return out


def partner(province: Province, city: str) -> str:
    """The backup-cooperation partner of ``city`` (dr.yaml city_pairs); ValueError if it has none."""
    for r in province.replications:
        if r.kind == "cooperation" and city in (r.source, r.target):
            return r.target if r.source == city else r.source
    raise ValueError(f"{city!r} is not a city of any backup-cooperation pair in dr.yaml")


def own_buckets(province: Province) -> list[str]:
    return [b.name for b in spec(province).buckets]


def buckets_at(province: Province, site: str, among: Iterable[str] | None = None) -> list[str]:
    """Every bucket ``site`` keeps: its own, one replica bucket per incoming link, and pgBackRest's
    repository at the remote DR site."""
    out = own_buckets(province)
    out += [link.target_bucket for link in links(province, among) if link.target == site]
    if site == remote_site(province):
        out.append(spec(province).pgbackrest_bucket)
    return out


def remote_site(province: Province) -> str:
    return next(r.target for r in province.replications if r.kind == "remote")


def excluded_paths(province: Province, source: str) -> list[str]:
    """Paths under /buckets of ``source`` never replicated onward: SeaweedFS's own bookkeeping and the
    replicas ``source`` keeps for others (no loops, each city's data apart)."""
    incoming = sorted({link.target_bucket for link in links(province) if link.target == source})
    return [SYSTEM_DIR] + [f"{BUCKETS_ROOT}/{b}" for b in incoming]


def store_address(province: Province, site: str) -> str:
    """Where other sites reach ``site``'s store: its extranet (service LAN) address."""
    return str(site_node(province, site).address.ipv4.ip)


def management_address(province: Province, site: str) -> str:
    """Where the controller reaches ``site``'s store: its management address."""
    return str(site_node(province, site).management.ipv4.ip)


def s3_url(province: Province, site: str) -> str:
    """The S3 URL of ``site``'s store as the controller reaches it (management address): the one
    endpoint function of the lab (egovops.dr.objects) and the stacks (``egovops:s3Endpoint``)."""
    return f"http://{management_address(province, site)}:{spec(province).s3_port}"


def role_vars(province: Province, site: str, among: Iterable[str] | None = None) -> dict[str, Any]:
    """The non-secret variables ``roles/object_store`` gets for ``site`` (credentials come from a
    separate vars file in the secrets dir)."""
    s = spec(province)
    syncs = []
    for link in links(province, among):
        if link.target != site:
            continue
        syncs.append({
            "name": link.source,
            "unit": link.unit,
            "tier": link.tier,
            "source_filer": f"{store_address(province, link.source)}:{s.filer_port}",
            "source_path": BUCKETS_ROOT,
            "target_path": f"{BUCKETS_ROOT}/{link.target_bucket}",
            "exclude_paths": excluded_paths(province, link.source),
        })
    return {
        "object_store_site": site,
        "object_store_ip": store_address(province, site),
        "object_store_s3_port": s.s3_port,
        "object_store_filer_port": s.filer_port,
        "object_store_master_port": s.master_port,
        "object_store_volume_port": s.volume_port,
        "object_store_syncs": syncs,
    }
