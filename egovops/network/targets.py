"""Which routers a command acts on, how to reach them, and what they must look like afterwards.

Why a module of its own: ``net diff/push/verify/backup/rollback`` all start from the same
selection (``--limit`` over the province's routers and its managed industry clouds' routers; on a
lab only the routers that are up in that lab, national stand-in and industry routers included; in
production only our own routers — the national node and the industry clouds' routers are not ours
to configure), and the push engine needs per device: management address, vendor, intended
config, loopbacks to probe and which device sits behind each interface.
"""

from __future__ import annotations

from dataclasses import dataclass

from egovops.model.province import Province, matches
from egovops.network import routing_keys
from egovops.network.device import Target
from egovops.network.push import Plan
from egovops.network.render import render_intent
from egovops.render.intents import RouterIntent
from egovops.render.intents import intent as build_intent


class SelectionError(ValueError):
    """Nothing to act on, or the lab needed is not up (message says what to do)."""


def default_vendor(province: Province) -> str:
    return "frr" if province.meta.environment == "lab" else "huawei_vrp"


def is_lab(province: Province) -> bool:
    return province.meta.environment == "lab"


@dataclass
class Selection:
    routers: list[str]
    skipped: dict[str, str]          # router -> why not acted on (not up in the lab, ...)


def select(province: Province, limit: str | None) -> Selection:
    """Routers matching ``limit``; on a lab, only those up in the running lab."""
    candidates = [r.name for r in province.routers] + [c.router.name for c in province.managed_industry()]
    wanted = [n for n in candidates if matches(province, n, limit)]
    skipped: dict[str, str] = {}
    if is_lab(province):
        from egovops.lab import lab_state

        st = lab_state(province)
        if st is None:
            raise SelectionError(f"the lab {province.meta.name!r} is not up: run `egovops lab up "
                                 f"--inventory {province.source}` first")
        up = {d.name for d in st.routers if d.up}
        for n in wanted:
            if n not in up:
                skipped[n] = "not running in this lab"
        wanted = [n for n in wanted if n in up]
    else:
        for n in list(wanted):
            if province.router(n).role == "industry":   # the lab plays the department's router; production does not
                skipped[n] = "an industry cloud's own router (its department configures it; the core side is province-rt's)"
            elif not province.router(n).is_ours:
                skipped[n] = "external (not ours to configure)"
        wanted = [n for n in wanted if n not in skipped]
    if not wanted:
        why = "; ".join(f"{k}: {v}" for k, v in sorted(skipped.items()))
        raise SelectionError(f"no router matches --limit {limit!r}" + (f" (skipped: {why})" if skipped else ""))
    return Selection(wanted, skipped)


def intent_of(province: Province, name: str) -> RouterIntent:
    return build_intent(province, province.router(name))


def target_of(province: Province, name: str, vendor: str, timeout: float = 30.0) -> Target:
    ports: dict[str, str] = {}
    if vendor == "huawei_vrp":     # the port names the render gave each intent interface (state keys map back)
        from egovops.network.render import vrp_ports

        ports = vrp_ports(intent_of(province, name))
    from egovops.lab.known_hosts import for_ssh

    return Target(name=name, vendor=vendor, host=str(province.router(name).management.ipv4.ip), timeout=timeout,
                  ports=ports, known_hosts=for_ssh(province))


def plan_of(province: Province, name: str, vendor: str, timeout: float = 30.0,
            intended: str | None = None, exact: bool = False) -> Plan:
    it = intent_of(province, name)
    peers: dict[str, str] = {}
    for i in it["interfaces"]:
        peers[i["name"]] = i["peer"]
        peers[i["peer_ipv4"]] = i["peer"]
        peers[i["peer_ipv6"]] = i["peer"]
    r = province.router(name)
    return Plan(target=target_of(province, name, vendor, timeout),
                intended=intended if intended is not None else render_intent(it, vendor, routing_keys.load(province).values()),
                loopbacks=(str(r.loopback.ipv4.ip), str(r.loopback.ipv6.ip)), peers=peers, exact=exact)


def expected_adjacencies(province: Province, name: str, present: set[str]) -> dict[str, set[str]]:
    """The adjacencies a router must have, counting only neighbours that are ``present`` (up).

    Keys follow :func:`egovops.network.device.frr_state`: OSPF/OSPFv3 ``<router-id>@<iface>``,
    BFD ``ipv4|ipv6@<iface>``, BGP the peer address.
    """
    it = intent_of(province, name)
    out: dict[str, set[str]] = {"ospf": set(), "ospf6": set(), "bfd": set(), "bgp": set()}
    ours = it["role"] != "external"
    for i in it["interfaces"]:
        if i["peer"] not in present:
            continue
        try:
            peer = province.router(i["peer"])
        except KeyError:
            continue                 # an access LAN towards a host: no adjacency
        if ours and i["ospf_area"] is not None and not i["ospf_passive"] and peer.role != "external":
            rid = str(peer.loopback.ipv4.ip)
            out["ospf"].add(f"{rid}@{i['name']}")
            out["ospf6"].add(f"{rid}@{i['name']}")
            if i["bfd"] and it["ospf"].get("bfd", True):
                out["bfd"] |= {f"ipv4@{i['name']}", f"ipv6@{i['name']}"}
    for n in it["bgp"]:
        if n["peer"] in present:
            out["bgp"] |= {n["ipv4"], n["ipv6"]}
    return out
