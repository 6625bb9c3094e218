"""The inventory's file formats, one pydantic model per YAML file.

Every model forbids unknown keys: a typo (``bandwdith:``) must fail validation, never pass
silently. These models describe only what a human writes; everything computed from it (the
address plan, routers, links) lives in :mod:`egovops.model.province`.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

SLUG = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
BANDWIDTH = re.compile(r"^(\d+(?:\.\d+)?)\s*(Kbps|Mbps|Gbps)$")
DURATION = re.compile(r"^(\d+)(s|m|h|d)$")
MAX_BANDWIDTH_MBPS = 1_000_000.0   # 1 Tbps: above any link of the extranet
DNS_LABEL_MAX = 63                 # Kubernetes names (namespaces, labels) are DNS-1123 labels
RESERVED_NAMESPACES = frozenset({"default", "egov-monitoring", "velero"})
"""Namespaces the stacks own (CloudNode); with every ``kube-*``, never a service's tenant namespace."""
HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")

#: free text a person writes (names, reasons): one line, no control characters, bounded
Label = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]
#: an OSPF interface cost (RFC 2328: 1..65535; 0 is no cost at all and FRR refuses it)
OspfCost = Annotated[int, Field(ge=1, le=65535)]


class Strict(BaseModel):
    # strict: YAML's `yes` is no replica count, `1` no boolean, a date no version string
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def bandwidth_mbps(text: str) -> float:
    """Parse "1Gbps" / "100Mbps" / "512Kbps" into Mbit/s; ValueError names the accepted units."""
    m = BANDWIDTH.match(str(text).strip())
    if not m:
        raise ValueError(f"bad bandwidth {text!r}: use a number and Kbps, Mbps or Gbps (e.g. '1Gbps')")
    value, unit = float(m.group(1)), m.group(2)
    mbps = value * {"Kbps": 0.001, "Mbps": 1.0, "Gbps": 1000.0}[unit]
    if not 0 < mbps <= MAX_BANDWIDTH_MBPS:
        raise ValueError(f"bad bandwidth {text!r}: must be above 0 and at most 1000Gbps")
    return mbps


def duration_seconds(text: str) -> int:
    m = DURATION.match(str(text).strip())
    if not m:
        raise ValueError(f"bad duration {text!r}: use a number and s, m, h or d (e.g. '15m')")
    return int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def _check_bandwidth(v: str) -> str:
    bandwidth_mbps(v)
    return v


# ---------------------------------------------------------------- inventory.yaml
class InventoryMeta(Strict):
    # the name becomes folders (build/net/<name>), lab state and netns prefixes: a short slug
    name: str = Field(pattern=SLUG, max_length=32)
    name_zh: Label
    environment: Literal["production", "lab"]
    version: str = Field(pattern=r"^[0-9A-Za-z][0-9A-Za-z._+-]{0,63}$")
    base: str | None = Field(default=None, min_length=1, max_length=1024, pattern=r"^[^\x00-\x1f\x7f]+$")
    #: (environment: lab only) the industry clouds this lab runs: slugs of industry.yaml. `lab up
    #: --industry` brings up their routers and hosts; they are the lab's managed industry clouds
    #: (core-side attachment in province-rt's config, Ansible groups, NOC targets). Production
    #: manages the clouds that exist (industry.yaml `exists`), so it must not set this.
    lab_industry: list[str] = Field(default_factory=list, max_length=62)


# ---------------------------------------------------------------- nodes.yaml
class NodeSpec(Strict):
    id: int = Field(ge=0, le=126)
    slug: str = Field(pattern=SLUG)
    name_zh: Label
    name_en: Label
    kind: Literal["provincial", "city", "dr"]
    code: str | None = Field(default=None, pattern=r"^\d{6}$")
    city: str | None = None


class NodesFile(Strict):
    nodes: list[NodeSpec]


# ---------------------------------------------------------------- counties.yaml
class CountySpec(Strict):
    id: int = Field(ge=1, le=126)
    slug: str = Field(pattern=SLUG)
    name_zh: Label


class CountiesFile(Strict):
    counties: dict[str, list[CountySpec]]


# ---------------------------------------------------------------- links.yaml
Plane = Literal["data", "video"]


class Segment(Strict):
    planes: list[Plane] = Field(default_factory=lambda: list[Plane](["data"]))
    bandwidth: str

    _bw = field_validator("bandwidth")(_check_bandwidth)


class Segments(Strict):
    province_city: Segment
    city_county: Segment
    township_access: Segment


class Routing(Strict):
    asn: int = Field(ge=1, le=4294967294)
    bfd: bool = True
    ospf_hello_seconds: int = Field(default=1, ge=1, le=65535)
    ospf_dead_seconds: int = Field(default=4, ge=2, le=65535)
    plane_cost: dict[Plane, OspfCost] = Field(default_factory=lambda: dict[Plane, int]({"data": 10, "video": 20}))


class Uplink(Strict):
    peer: str = Field(pattern=SLUG)
    name_zh: Label
    asn: int = Field(ge=1, le=4294967294)
    planes: list[Plane]
    bandwidth: str

    _bw = field_validator("bandwidth")(_check_bandwidth)


class ExtraLink(Strict):
    id: int = Field(ge=1, le=255)
    a: str
    b: str
    plane: Plane = "data"
    bandwidth: str
    area: int = Field(default=0, ge=0)

    _bw = field_validator("bandwidth")(_check_bandwidth)


class LinksFile(Strict):
    segments: Segments
    routing: Routing
    uplink: Uplink
    extra_links: list[ExtraLink] = Field(default_factory=list)


# ---------------------------------------------------------------- addressing.yaml
class FamilySupernets(Strict):
    loopback: str
    p2p: str
    service: str
    management: str
    #: industry clouds' service LANs (a /26 or /64 each, indexed by cloud id); without it an
    #: inventory's industry clouds are validated but not addressed (egovops.model.industry)
    industry: str | None = None


class NocServices(Strict):
    """``controller`` (the NOC controller's addresses) or one IP address or hostname."""

    ntp: str = "controller"
    syslog: str = "controller"

    @field_validator("ntp", "syslog")
    @classmethod
    def _server(cls, v: str) -> str:
        if v == "controller" or HOSTNAME.match(v):
            return v
        try:
            ipaddress.ip_address(v)
        except ValueError:
            raise ValueError(f"{v!r} is not 'controller', an IP address or a hostname") from None
        return v


class AddressingFile(Strict):
    ipv4: FamilySupernets
    ipv6: FamilySupernets
    noc: NocServices = Field(default_factory=NocServices)


# ---------------------------------------------------------------- dr.yaml
class DrTier(Strict):
    rpo: str
    rto: str
    mode: Literal["sync", "async"]
    schedule: str

    @field_validator("rpo", "rto")
    @classmethod
    def _dur(cls, v: str) -> str:
        duration_seconds(v)
        return v


class DrReplication(Strict):
    source: str
    target: str
    tier: str


class ProvincialDr(Strict):
    same_city: DrReplication
    remote: DrReplication


S3_BUCKET = r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$"  # S3 bucket names (no dots: path-style, no TLS name clash)
REPLICA_BUCKET_PREFIX = "replica-"                 # reserved: the buckets replicas land in (egovops.dr.objects)


class ObjectBucket(Strict):
    """One bucket every object-holding site keeps, named after the service whose files it holds."""

    name: str = Field(pattern=S3_BUCKET)
    service: str = Field(pattern=SLUG)
    noncurrent_days: int = Field(default=30, ge=1, le=3650)  # lifecycle: expire old versions after N days

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, v: str) -> str:
        if v.startswith(REPLICA_BUCKET_PREFIX):
            raise ValueError(f"bucket names starting with {REPLICA_BUCKET_PREFIX!r} are reserved for replicas")
        return v


class ObjectStoreSpec(Strict):
    """The S3-compatible store at every site holding objects (provincial node, DR sites, cities).

    Ports: SeaweedFS also listens on port+10000 (gRPC) for each of them, hence the cap.
    """

    s3_port: int = Field(default=8333, ge=1024, le=55535)
    filer_port: int = Field(default=8888, ge=1024, le=55535)
    master_port: int = Field(default=9333, ge=1024, le=55535)
    volume_port: int = Field(default=8080, ge=1024, le=55535)
    region: str = Field(default="us-east-1", pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    buckets: list[ObjectBucket] = Field(min_length=1)
    #: pgBackRest's repository bucket at the remote DR site (data tier)
    pgbackrest_bucket: str = Field(default="pgbackrest", pattern=S3_BUCKET)


class DrFile(Strict):
    tiers: dict[str, DrTier]
    provincial: ProvincialDr
    city_pairs: list[list[str]]
    object_store: ObjectStoreSpec | None = None


# ---------------------------------------------------------------- services.yaml
class ServiceDefaults(Strict):
    replicas: int = Field(default=2, ge=1, le=64)
    cpu: str = Field(default="500m", pattern=r"^\d+(\.\d+)?m?$")
    memory: str = Field(default="512Mi", pattern=r"^\d+(Ki|Mi|Gi|Ti)$")
    port: int = Field(default=8443, ge=1, le=65535)
    level: int = Field(default=3, ge=1, le=5)
    dr_tier: str = "data"


class ServiceSpec(Strict):
    # the slug is the tenant namespace, the Helm release and label values: a DNS-1123 label
    slug: str = Field(pattern=SLUG, max_length=DNS_LABEL_MAX)

    @field_validator("slug")
    @classmethod
    def _not_reserved(cls, v: str) -> str:
        if v in RESERVED_NAMESPACES or v.startswith("kube-"):
            raise ValueError(f"service slug {v!r} is a reserved namespace (kube-*, {', '.join(sorted(RESERVED_NAMESPACES))})")
        return v

    name_zh: Label
    name_en: Label
    hosting: Literal["P", "P+C", "C"]
    zone: str
    image: str = Field(pattern=r"^[^\s\x00-\x1f\x7f]+$", max_length=255)
    classified: bool = False
    only: list[str] | None = None  # restrict placement to these nodes (rarely right)
    replicas: int | None = Field(default=None, ge=1, le=64)
    cpu: str | None = Field(default=None, pattern=r"^\d+(\.\d+)?m?$")
    memory: str | None = Field(default=None, pattern=r"^\d+(Ki|Mi|Gi|Ti)$")
    port: int | None = Field(default=None, ge=1, le=65535)
    level: int | None = Field(default=None, ge=1, le=5)
    dr_tier: str | None = None


CALL_LEVELS = ("province", "city")
CALL_END = r"^(province|city):[a-z][a-z0-9]*(-[a-z0-9]+)*$"


class ServiceCall(Strict):
    """A cross-node call the plans require (zones.yaml ``calls``): ``<level>:<service>`` -> another node's.

    Levels: ``province`` (the provincial node) and ``city`` (every city node). Calls not listed
    here stay denied between nodes (egovops.stacks.flows). Industry clouds' calls come from their
    ``consumes`` list in industry.yaml.
    """

    from_: str = Field(alias="from", pattern=CALL_END)
    to: str = Field(pattern=CALL_END)
    why: Label


class ServicesFile(Strict):
    defaults: ServiceDefaults = Field(default_factory=ServiceDefaults)
    services: list[ServiceSpec]


# ---------------------------------------------------------------- zones.yaml
class ZoneSpec(Strict):
    name_zh: Label
    functions: list[str]


class Flow(Strict):
    from_: str = Field(alias="from")
    to: str
    port: Annotated[int, Field(ge=1, le=65535)] | Literal["service"]
    why: Label


class HostPort(Strict):
    port: int = Field(ge=1, le=65535)
    proto: Literal["tcp", "udp"]
    from_: Literal["management", "extranet", "any"] = Field(alias="from")
    why: Label
    # node kinds whose hosts open it (omitted: every host); narrows a port one site serves (the DR
    # repository's TLS S3) so it does not open a catalogue call's port to the whole extranet elsewhere
    kinds: list[Literal["provincial", "city", "dr"]] | None = Field(default=None, min_length=1)


#: POSIX portable user name as Debian's useradd accepts it (NAME_REGEX), at most 32 characters
POSIX_USER = r"^[a-z_][a-z0-9_-]{0,31}$"
#: names the admin account must never take: root, the Debian base-passwd and package system accounts
#: the hosts carry (a login there would be a system account with a shell, L3-CES2-01), the lab routers'
#: login user, and the baseline's break-glass account (roles/baseline defaults: SSH DenyUsers it)
RESERVED_USERS = frozenset({
    "root", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news", "uucp", "proxy", "www-data",
    "backup", "list", "irc", "gnats", "nobody", "nogroup", "sshd", "messagebus", "polkitd", "_apt", "_chrony",
    "_rpc", "statd", "postgres", "prometheus", "frr", "frrvty", "netops", "egov-breakglass", "admin", "sudo",
    "adm", "operator", "halt", "shutdown", "systemd-network", "systemd-resolve", "systemd-timesync",
    "systemd-journal", "systemd-coredump", "tss", "dnsmasq", "ntp", "syslog", "auditd",
})


class HostAccess(Strict):
    """How the NOC logs in to the hosts (issue 11): one named admin account, by SSH key only, with
    ``sudo`` for privilege; root never logs in over SSH (the baseline sets ``PermitRootLogin no``)."""

    admin_user: str = Field(default="egovadmin", pattern=POSIX_USER)

    @field_validator("admin_user")
    @classmethod
    def _not_reserved(cls, v: str) -> str:
        if v in RESERVED_USERS or v.startswith(("systemd-", "_")):
            raise ValueError(f"{v!r} is root, a system account or a reserved name: use a dedicated admin account "
                             "(e.g. egovadmin)")
        return v


class ZonesFile(Strict):
    zones: dict[str, ZoneSpec]
    flows: list[Flow]
    host_firewall: list[HostPort]
    calls: list[ServiceCall] = Field(default_factory=list)
    host_access: HostAccess = Field(default_factory=HostAccess)


# ---------------------------------------------------------------- industry.yaml
AttachMode = Literal["bgp", "ospf"]


class Department(Strict):
    """An owner department (主管部门) of industry clouds, named in both languages."""

    name_zh: Label
    name_en: Label


class IndustryAttach(Strict):
    """Where and how an industry cloud attaches to the extranet: always the provincial core router.

    ``routing: bgp`` needs the cloud's own private ``asn`` (eBGP, the province filters what it
    accepts); ``routing: ospf`` puts the attachment in OSPF ``area`` (its own area, never 0).
    """

    to: Literal["province-rt"] = "province-rt"
    planes: list[Plane] = Field(min_length=1, max_length=2)
    routing: AttachMode
    asn: int | None = Field(default=None, ge=64512, le=4294967294)
    area: int | None = Field(default=None, ge=1, le=4294967295)
    bandwidth: str = "1Gbps"
    max_prefix: int = Field(default=20, ge=1, le=2000)

    _bw = field_validator("bandwidth")(_check_bandwidth)


class IndustryCloudSpec(Strict):
    """One of the N industry clouds (特色行业云) under the province's unified management (统一纳管).

    ``id`` is stable (1..62): it indexes the cloud's router, host, links and service LAN in the
    address plan (egovops.model.addressing), so adding a cloud renumbers nothing.
    """

    id: int = Field(ge=1, le=62)
    slug: str = Field(pattern=SLUG, max_length=11)
    name_zh: Label
    name_en: Label
    department: str = Field(pattern=SLUG)
    exists: bool
    zone: Literal["extranet"] = "extranet"
    attach: IndustryAttach
    hosts: list[str] = Field(default_factory=list)
    consumes: list[str] = Field(default_factory=list)
    prefixes: list[str] = Field(default_factory=list, max_length=16)
    dr_tier: str | None = None


class IndustryFile(Strict):
    departments: dict[str, Department]
    clouds: list[IndustryCloudSpec]


FILES: dict[str, type[Strict]] = {
    "inventory.yaml": InventoryMeta,
    "nodes.yaml": NodesFile,
    "counties.yaml": CountiesFile,
    "links.yaml": LinksFile,
    "addressing.yaml": AddressingFile,
    "dr.yaml": DrFile,
    "services.yaml": ServicesFile,
    "zones.yaml": ZonesFile,
    "industry.yaml": IndustryFile,
}
"""Every file an inventory consists of, and its model. All are required (directly or via base),
except those in :data:`OPTIONAL_FILES`."""

OPTIONAL_FILES = frozenset({"industry.yaml"})
"""Files an inventory may lack: an inventory without industry.yaml has no industry clouds."""


def parse_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(text, strict=True)
