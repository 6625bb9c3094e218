"""Render router intents into vendor configurations (FRR for the lab, Huawei VRP8 for production).

Why a thin Python layer in front of Jinja2: the templates stay declarative (one line of config per
line of template) while everything that needs arithmetic — netmasks and wildcards for VRP, dotted
OSPF area ids, which interfaces carry BFD, which prefixes BGP originates — is computed once here and
unit-tested. Input is the vendor-neutral intent from :func:`egovops.render.intents.intent` (the
same dict that ``inventory render`` writes to ``intents/<router>.json``), never the inventory YAML.
"""

from __future__ import annotations

import functools
import ipaddress
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from egovops.model import ports as vrp
from egovops.model.province import IndustryCloud, Province, matches
from egovops.render.intents import BgpSession, CloudSide, RouterIntent
from egovops.render.intents import intent as build_intent

VENDORS = ("frr", "huawei_vrp")
TEMPLATES = Path(__file__).parent / "templates"

# Level-3 (等保三级) access-control settings for network devices. They are policy, not topology, so
# they live here rather than in the inventory; a province that needs other values changes them here
# (and the golden files show the effect in review).
SECURITY = {
    "banner": "Authorised use only. Anhui e-government extranet device; all sessions are logged.",
    "idle_timeout_minutes": 5,    # FRR prints exec-timeout only when not its default (10)
    "lockout_retries": 5,          # failed logins within retry_interval before the account is blocked
    "lockout_interval_minutes": 5,
    "lockout_block_minutes": 15,
}

# Failure detection per link kind. Backbone (province core <-> city, both planes): 300 ms x 3, with
# SPF throttled to start at once: sub-second reconvergence when one plane is cut. County links:
# 1 s x 3 — 210 of the 242 BFD links; at 100 ms on every link, 122 FRR instances on a 2-core lab
# host starved bfdd, sessions timed out and OSPF flapped (measured), so fast timers go where the
# traffic of a whole city depends on them.
BFD_PROFILES = {"backbone": {"interval_ms": 300, "multiplier": 3}, "county": {"interval_ms": 1000, "multiplier": 3}}
BFD = {"profile": "backbone", "interval_ms": 300, "multiplier": 3}
SPF = {"delay_ms": 0, "hold_ms": 50, "max_hold_ms": 1000}


class RenderError(ValueError):
    """An intent cannot be rendered (names the router and the field)."""


@dataclass(frozen=True)
class Rendered:
    router: str
    vendor: str
    text: str


@functools.lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)), undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, autoescape=False)


def dotted_area(area: int) -> str:
    return str(ipaddress.IPv4Address(int(area)))


def _v4(cidr: str) -> dict[str, str]:
    iface = ipaddress.IPv4Interface(cidr)
    return {"cidr": cidr, "ip": str(iface.ip), "mask": str(iface.netmask), "len": str(iface.network.prefixlen),
            "network": str(iface.network.network_address), "wildcard": str(iface.network.hostmask)}


def _v6(cidr: str) -> dict[str, str]:
    iface = ipaddress.IPv6Interface(cidr)
    return {"cidr": cidr, "ip": str(iface.ip), "len": str(iface.network.prefixlen),
            "network": str(iface.network.network_address)}


# Huawei VRP port allocation. The inventory models links, not line cards, so a port is derived from
# the link's stable id in the address plan (Link.index, the same index its addresses come from):
# adding a county, city, node or industry cloud renumbers no existing port. Cards (slot 0):
#   0/0  WAN links of the router's own site: port = link slot + 1, so both ends of a link share the
#        number (uplinks slots 0/1 -> ports 1/2, county k and industry cloud k 2+2k+plane -> 3+2k+plane)
#   0/1  access LANs: port = LAN index + 1 (the node id, 0 = the provincial cloud, or the cloud id)
#   0/2, 0/3  the provincial core's backbone to city c, data and video plane: port = c (the planes on
#        separate cards, so one card failure takes down one plane only)
#   0/4  extra links (links.yaml): port = their id
# The cards, the numbers and the card size (VRP_CARD_PORTS) are egovops.model.ports', which
# inventory validation checks every id against; a link whose port would still fall outside (an
# intent built by hand) is a render error that names it, never a wrapped number.
VRP_WAN_CARD, VRP_LAN_CARD, VRP_BACKBONE_CARD, VRP_EXTRA_CARD = vrp.WAN_CARD, vrp.LAN_CARD, vrp.BACKBONE_CARD, vrp.EXTRA_CARD


def vrp_ports(it: RouterIntent) -> dict[str, str]:
    """Map the intent's interface names to VRP port names, numbered by each link's stable id (see above).

    The intent name is kept as the port description, so an engineer can map a port back to its link.
    """
    from egovops.model import addressing as plan

    out: dict[str, str] = {}
    taken: dict[tuple[int, int], str] = {}
    for i in it["interfaces"]:
        site, slot = divmod(i["link_id"], plan.LINK_SLOTS_PER_SITE)
        if i["kind"] == "access":
            card, port = VRP_LAN_CARD, vrp.lan_port(i["link_id"])
        elif i["kind"] == "extra" and not i.get("industry") and site == plan.EXTRA_LINK_SITE:
            card, port = VRP_EXTRA_CARD, vrp.extra_port(slot)
        elif site == it["site"]:
            card, port = VRP_WAN_CARD, vrp.wan_port(slot)
        elif i["kind"] == "backbone" and slot < len(plan.PLANES):
            card, port = VRP_BACKBONE_CARD + slot, vrp.backbone_port(site)
        else:
            raise RenderError(f"{it['name']}: interface {i['name']} (link id {i['link_id']}, {i['kind']} to {i['peer']}) "
                              f"has no VRP port rule")
        if not vrp.on_card(port):
            raise RenderError(f"{it['name']}: interface {i['name']} ({i['kind']} to {i['peer']} {i['peer_interface']}) "
                              f"would be VRP port {vrp.name(card, port)}, outside the card's ports "
                              f"1..{vrp.VRP_CARD_PORTS}")
        if (card, port) in taken:
            raise RenderError(f"{it['name']}: interfaces {taken[card, port]} and {i['name']} "
                              f"both map to VRP port {vrp.name(card, port)}")
        taken[card, port] = i["name"]
        out[i["name"]] = vrp.name(card, port)
    return out


def context(it: RouterIntent) -> dict[str, Any]:
    """Template context for one router intent: the intent plus derived values (see module doc)."""
    for key in ("name", "role", "router_id", "loopback", "interfaces", "noc", "ospf", "asn"):
        if key not in it:
            raise RenderError(f"intent of {it.get('name', '?')!r} has no {key!r}")
    ports = vrp_ports(it)
    ifaces: list[dict[str, Any]] = []
    for i in it["interfaces"]:
        area = i.get("ospf_area")
        ospf = area is not None and it["role"] != "external"
        ifaces.append({**i, "v4": _v4(i["ipv4"]), "v6": _v6(i["ipv6"]), "ospf": ospf,
                       "area_dotted": dotted_area(area) if ospf and area is not None else None,
                       "port": ports[i["name"]],
                       "bfd": bool(i.get("bfd")) and bool(it["ospf"].get("bfd", True)) and ospf,
                       "bfd_profile": "backbone" if i["kind"] == "backbone" else "county",
                       "bfd_timers": BFD_PROFILES["backbone" if i["kind"] == "backbone" else "county"],
                       "description": f"{i['kind']}{' ' + str(i['plane']) if i.get('plane') else ''} to "
                                      f"{i['peer']} {i['peer_interface']}"})
    mgmt = it["noc"]["management"]
    cloud: CloudSide | None = it.get("cloud")   # an industry cloud's own router (the lab plays the department's)
    bgp = [_session(n, it["role"]) for n in it.get("bgp") or []]
    originate4: list[str] = []
    originate6: list[str] = []
    if bgp:
        if it["role"] == "external":
            originate4 = [str(ipaddress.IPv4Interface(it["loopback"]["ipv4"]).network)]
            originate6 = [str(ipaddress.IPv6Interface(it["loopback"]["ipv6"]).network)]
        elif cloud:
            originate4 = list(cloud["announce"]["ipv4"])
            originate6 = list(cloud["announce"]["ipv6"])
        else:
            originate4 = list(it["aggregates"]["ipv4"])
            originate6 = list(it["aggregates"]["ipv6"])
    # blackhole routes make the originated aggregates exist in the RIB; a cloud's LAN and loopback
    # are connected already, only its declared own space needs one
    blackhole4 = list(cloud["own"]["ipv4"]) if cloud else originate4
    blackhole6 = list(cloud["own"]["ipv6"]) if cloud else originate6
    ospf_cloud = cloud is not None and cloud["routing"] == "ospf"
    return {
        "r": it,
        # a BGP-attached industry cloud runs no OSPF with the province (its IGP is its own business)
        "igp": it["role"] != "external" and (not cloud or ospf_cloud),
        "industry": [{**ind, "area_dotted": dotted_area(ind["area"]) if ind["area"] is not None else None,
                      "accept_nets": {fam: [{**a, **(_v4(a["prefix"]) if fam == "ipv4" else _v6(a["prefix"]))}
                                            for a in ind["accept"][fam]] for fam in ("ipv4", "ipv6")}}
                     for ind in it.get("industry") or []],
        # an OSPF-attached cloud's area is a stub area: its router cannot inject external routes
        "stub_areas": [dotted_area(cloud["area"])] if ospf_cloud and cloud and cloud["area"] is not None else [],
        "lo4": _v4(it["loopback"]["ipv4"]),
        "lo6": _v6(it["loopback"]["ipv6"]),
        "loopback_area": dotted_area(it.get("loopback_area") or 0),
        "loopback_area_int": int(it.get("loopback_area") or 0),
        "interfaces": ifaces,
        "any_bfd": any(i["bfd"] for i in ifaces),
        "bfd_profiles": {n: BFD_PROFILES[n] for n in sorted({i["bfd_profile"] for i in ifaces if i["bfd"]})},
        "areas": sorted({i["area_dotted"] for i in ifaces if i["ospf"]} | {dotted_area(it.get("loopback_area") or 0)},
                        key=lambda a: int(ipaddress.IPv4Address(a))),
        "bgp": bgp,
        "originate4": [_v4(p) for p in originate4],
        "originate6": [_v6(p) for p in originate6],
        "blackhole4": [_v4(p) for p in blackhole4],
        "blackhole6": [_v6(p) for p in blackhole6],
        # the provincial core redistributes what it learns from the national node into the IGP,
        # so every router (and the NOC) reaches the national extranet through it.
        "redistribute_bgp": bool(bgp) and it["role"] not in ("external", "industry"),
        "mgmt4": _v4(mgmt["ipv4"]),
        "mgmt6": _v6(mgmt["ipv6"]),
        "ntp4": [a for a in it["noc"]["ntp"] if ":" not in a],
        "ntp6": [a for a in it["noc"]["ntp"] if ":" in a],
        "syslog4": [a for a in it["noc"]["syslog"] if ":" not in a],
        "syslog6": [a for a in it["noc"]["syslog"] if ":" in a],
        "sec": SECURITY,
        "bfdp": BFD,
        "spf": SPF,
    }


def _session(n: BgpSession, role: str) -> dict[str, Any]:
    """One BGP neighbour with its import/export policy and prefix limit.

    The national uplink and a cloud's own session towards the core use the province's BGP-IN/OUT
    policies and the uplink limits; the core's session towards an industry cloud imports through
    that cloud's filter (only its own prefixes) with the cloud's ``max_prefix``.
    """
    from egovops.network import routing_keys

    to_cloud = bool(n.get("industry")) and role == "core"
    out = {**n, "out4": "BGP-OUT-V4", "out6": "BGP-OUT-V6"}
    for v in (4, 6):
        out[f"in{v}"] = f"IND-{n['industry'].upper()}-V{v}-IN" if to_cloud else f"BGP-IN-V{v}"
        out[f"max{v}"] = n["max_prefix"] if to_cloud else routing_keys.SESSION[f"max_prefix_v{v}"]
    return out


def with_keys(ctx: dict[str, Any], keys: dict[str, Any]) -> dict[str, Any]:
    """Put the routing keys where each line needs them: the province's, or an industry cloud's own
    (derived, see :func:`egovops.network.routing_keys.industry_values`) on its link and session."""
    from egovops.network import routing_keys

    def of(cloud: str | None) -> dict[str, Any]:
        return routing_keys.industry_values(keys, cloud) if cloud else keys

    ctx["interfaces"] = [{**i, "auth": of(i.get("industry"))} for i in ctx["interfaces"]]
    ctx["bgp"] = [{**n, "key": of(n.get("industry"))["bgp"]} for n in ctx["bgp"]]
    return ctx


def render_intent(it: RouterIntent, vendor: str, keys: dict[str, Any] | None = None) -> str:
    """Render one intent for one vendor; raises :class:`RenderError` on unknown vendor or bad intent.

    ``keys`` (from :meth:`egovops.network.routing_keys.RoutingKeys.values`) only on the push path;
    without them the routing-protocol keys render as visible placeholders, so artefacts, golden
    files and ``net render`` never hold a secret.
    """
    from egovops.network import routing_keys

    if vendor not in VENDORS:
        raise RenderError(f"unknown vendor {vendor!r} (choose from {', '.join(VENDORS)})")
    try:
        keys = keys or routing_keys.placeholder_values()
        return _env().get_template(f"{vendor}/router.j2").render(
            **with_keys(context(it), keys), keys=keys, session=routing_keys.SESSION)
    except jinja2.UndefinedError as exc:
        raise RenderError(f"intent of {it.get('name', '?')!r}: {exc}") from None


def industry_core(province: Province, cloud: IndustryCloud, vendor: str) -> str:
    """The provincial core's lines for one industry cloud alone (filters, sessions or area), with
    placeholder keys: what onboarding ``cloud`` adds to the core's configuration, for review. Rendered
    from the same macros as the whole router, whether or not the cloud is managed yet."""
    from egovops.network import routing_keys
    from egovops.render.intents import core_sessions, core_side

    if vendor not in VENDORS:
        raise RenderError(f"unknown vendor {vendor!r} (choose from {', '.join(VENDORS)})")
    core = province.router(cloud.wan_links[0].a.device)
    it = build_intent(province, core)   # a fresh intent: only this cloud's attachment and sessions
    it["industry"] = [core_side(province, cloud)]
    it["bgp"] = core_sessions(cloud)
    keys = routing_keys.placeholder_values()
    ctx = with_keys(context(it), keys)
    return _env().get_template(f"{vendor}/industry_core.j2").render(
        **ctx, ind=ctx["industry"][0], keys=keys, session=routing_keys.SESSION)


def load_intent_file(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(path).read_text())
    data.pop("_generated", None)
    return data


def intents(province: Province, limit: str | None = None) -> list[RouterIntent]:
    """Intents of the routers selected by ``limit`` (external stand-ins included: the lab pushes them too;
    the managed industry clouds' routers too: the lab plays them, production hands the config to their department)."""
    routers = [*province.routers, *(c.router for c in province.managed_industry())]
    return [build_intent(province, r) for r in routers if matches(province, r.name, limit)]


def render_province(province: Province, vendor: str, limit: str | None = None) -> list[Rendered]:
    return [Rendered(it["name"], vendor, render_intent(it, vendor)) for it in intents(province, limit)]


def file_name(router: str, vendor: str) -> str:
    return f"{router}.{'conf' if vendor == 'frr' else 'cfg'}"
