"""Level-3 checks on the extranet routers, from their running configuration (FRR and Huawei VRP8).

Why checks over the configuration text: the same function reads what netmiko fetched from a lab
FRR router and what a production VRP router printed (recorded transcripts in the unit tests), so
both vendors are judged by one rule. The expectations (management network, OSPF links, BGP peers,
the login account) come from the router's intent and the credentials, never from this file.

Fail closed: a router whose configuration could not be read gets an ``error`` row for every
control, with the reason as evidence. Evidence names lines and interfaces, never a key.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml

from egovops.compliance.catalogue import Catalogue, Control, Family
from egovops.compliance.checks import Outcome
from egovops.compliance.results import Result
from egovops.model.province import Province
from egovops.network.confdiff import DIALECTS, Node, parse
from egovops.render.intents import RouterIntent

CATALOGUE = Path(__file__).with_name("router_catalogue.yaml")
FAMILY = "network_device"
IDLE_MAX_S = 300


@dataclass(frozen=True)
class RouterControl:
    id: str
    clause: str
    title_en: str
    title_zh: str


@dataclass(frozen=True)
class Expect:
    """What the router must carry, derived from its intent (see :func:`expect_of`)."""

    users: frozenset[str]
    mgmt4: str                       # management network, e.g. 198.19.0.0/20
    mgmt6: str
    ospf_links: tuple[str, ...]      # intent interface names that run OSPF (not passive)
    ports: dict[str, str]            # intent interface -> device interface name (VRP ports; FRR: same)
    planes: tuple[str, ...]          # planes of the WAN links (data/video)
    bgp_peers: tuple[str, ...]       # addresses of the eBGP peers (v4 and v6): national, and industry clouds on the core
    bgp_in: dict[str, str]           # peer address -> its import policy's name prefix (an industry cloud: its own filter)
    syslog: tuple[str, ...]
    ntp: tuple[str, ...]


def load_catalogue(path: Path = CATALOGUE) -> list[RouterControl]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = [RouterControl(c["id"], str(c["clause"]), c["title_en"], c["title_zh"]) for c in data.get("controls", [])]
    ids = [c.id for c in out]
    if not out or len(set(ids)) != len(ids) or set(ids) != set(CHECKS):
        raise ValueError(f"{path}: controls {sorted(ids)} do not match the checks {sorted(CHECKS)}")
    return out


def expect_of(it: RouterIntent, vendor: str, users: Sequence[str]) -> Expect:
    import ipaddress

    from egovops.network.render import vrp_ports

    ports = vrp_ports(it) if vendor == "huawei_vrp" else {i["name"]: i["name"] for i in it["interfaces"]}
    mg = it["noc"]["management"]
    return Expect(
        users=frozenset(users),
        mgmt4=str(ipaddress.IPv4Interface(mg["ipv4"]).network), mgmt6=str(ipaddress.IPv6Interface(mg["ipv6"]).network),
        ospf_links=tuple(i["name"] for i in it["interfaces"]
                         if i.get("ospf_area") is not None and not i.get("ospf_passive") and it["role"] != "external"),
        ports=ports,
        planes=tuple(sorted({p for i in it["interfaces"] if (p := i.get("plane"))})),
        bgp_peers=tuple(a for n in it.get("bgp") or [] for a in (n["ipv4"], n["ipv6"])),
        # only the core imports through a cloud's own filter; the cloud's router imports with BGP-IN
        # like the national uplink (the render's choice, network.render._session)
        bgp_in={a: f"IND-{n['industry'].upper()}-V" if n.get("industry") and it["role"] == "core" else "BGP-IN"
                for n in it.get("bgp") or [] for a in (n["ipv4"], n["ipv6"])},
        syslog=tuple(it["noc"]["syslog"]), ntp=tuple(it["noc"]["ntp"]))


# ------------------------------------------------------------------------------------ helpers
def _lines(node: Node | None) -> list[str]:
    return [k.strip() for k in (node.children if node else {})]


def _has(node: Node | None, prefix: str) -> bool:
    return any(line.startswith(prefix) for line in _lines(node))


def _section(root: Node, head: str) -> Node | None:
    for k, v in root.children.items():
        if k.strip() == head:
            return v
    return None


def _missing(items: dict[str, bool]) -> list[str]:
    return [k for k, ok in items.items() if not ok]


def _verdict(checked: dict[str, bool], what: str) -> Outcome:
    bad = _missing(checked)
    if bad:
        return Outcome("fail", f"missing: {'; '.join(bad)}"[:400])
    return Outcome("pass", f"{what} ({len(checked)} item(s) checked)")


# ------------------------------------------------------------------------------------- checks
def accounts(root: Node, vendor: str, e: Expect, text: str = "") -> Outcome:
    if vendor == "frr":
        # raw text: the diff dialect ignores FRR's username lines, an auditor must not
        found = {ln.split()[1] for ln in text.splitlines() if ln.startswith("username ") and len(ln.split()) > 1}
    else:
        found = {ln.split()[1] for ln in _lines(_section(root, "aaa")) if ln.startswith("local-user ")}
    extra = sorted(found - e.users)
    if extra:
        return Outcome("fail", f"local account(s) not in the managed set {sorted(e.users)}: {', '.join(extra)}")
    return Outcome("pass", f"local accounts {sorted(found) or 'none besides the managed login'} (managed: {sorted(e.users)})")


def sessions(root: Node, vendor: str, e: Expect, text: str = "") -> Outcome:
    if vendor == "frr":
        vty = _section(root, "line vty")
        t = [ln.split() for ln in _lines(vty) if ln.startswith("exec-timeout ")]
        if not t:
            return Outcome("fail", "line vty: no exec-timeout (FRR's default is 10 minutes)")
        secs = int(t[0][1]) * 60 + (int(t[0][2]) if len(t[0]) > 2 else 0)
        ok = 0 < secs <= IDLE_MAX_S
        return Outcome.of(ok, f"line vty exec-timeout {secs}s (max {IDLE_MAX_S}s); login-failure lockout: "
                              "vtysh has none, the router's sshd enforces it")
    vty = _section(root, "user-interface vty 0 4")
    t = [ln.split() for ln in _lines(vty) if ln.startswith("idle-timeout ")]
    secs = int(t[0][1]) * 60 + (int(t[0][2]) if len(t[0]) > 2 else 0) if t else 0
    lock = _has(_section(root, "aaa"), "local-aaa-user wrong-password retry-interval")
    checked = {f"vty idle-timeout <= {IDLE_MAX_S}s (found {secs or 'none'})": 0 < secs <= IDLE_MAX_S,
               "aaa local-aaa-user wrong-password (login-failure lockout)": lock}
    return _verdict(checked, f"idle-timeout {secs}s, lockout on")


def management(root: Node, vendor: str, e: Expect, text: str = "") -> Outcome:
    if vendor == "frr":
        vty = _section(root, "line vty")
        top = _lines(root)
        checked = {
            "line vty access-class MGMT": _has(vty, "access-class MGMT"),
            "line vty ipv6 access-class MGMT6": _has(vty, "ipv6 access-class MGMT6"),
            f"access-list MGMT permits only {e.mgmt4}": any(ln.startswith("access-list MGMT ") and f"permit {e.mgmt4}" in ln for ln in top)
            and not any(ln.startswith("access-list MGMT ") and "permit" in ln and e.mgmt4 not in ln for ln in top),
            "access-list MGMT ends in deny any": any(ln.startswith("access-list MGMT ") and ln.endswith("deny any") for ln in top),
            f"ipv6 access-list MGMT6 permits only {e.mgmt6}":
                any(ln.startswith("ipv6 access-list MGMT6 ") and f"permit {e.mgmt6}" in ln for ln in top)
                and not any(ln.startswith("ipv6 access-list MGMT6 ") and "permit" in ln and e.mgmt6 not in ln for ln in top),
        }
        return _verdict(checked, "vty limited to the management network (sshd is the only listener: vty ports off)")
    import ipaddress

    net4 = ipaddress.IPv4Network(e.mgmt4)
    acl = _section(root, "acl number 2000")
    vty = _section(root, "user-interface vty 0 4")
    top = _lines(root)
    checked = {
        "stelnet server enable": "stelnet server enable" in top,
        "undo telnet server enable": "undo telnet server enable" in top,
        "undo telnet ipv6 server enable": "undo telnet ipv6 server enable" in top,
        "ssh server acl 2000": "ssh server acl 2000" in top,
        "vty protocol inbound ssh": _has(vty, "protocol inbound ssh"),
        "vty acl 2000 inbound": _has(vty, "acl 2000 inbound"),
        f"acl 2000 permits only {e.mgmt4}": any(f"permit source {net4.network_address} {net4.hostmask}" in ln for ln in _lines(acl))
        and sum("permit" in ln for ln in _lines(acl)) == 1,
        "acl 2000 ends in deny": any(ln.endswith("deny") for ln in _lines(acl)),
    }
    return _verdict(checked, "SSH only, from the management network only")


def logging_ntp(root: Node, vendor: str, e: Expect, text: str = "") -> Outcome:
    top = _lines(root)
    if vendor == "frr":
        ok = any(ln.startswith("log syslog") for ln in top)
        return Outcome.of(ok, ("log syslog set: the router's syslog carries FRR's log to the NOC "
                               f"{', '.join(e.syslog)}; time from the host's NTP") if ok else "no 'log syslog' line")
    checked = {}
    for a in e.syslog:
        checked[f"info-center loghost {a}"] = any(ln.startswith("info-center loghost") and a in ln.split() for ln in top)
    for a in e.ntp:
        checked[f"ntp-service unicast-server {a}"] = any(ln.startswith("ntp-service unicast-server") and a in ln.split() for ln in top)
    return _verdict(checked, "log host(s) and NTP server(s) of the NOC configured")


def routing_auth(root: Node, vendor: str, e: Expect, text: str = "") -> Outcome:
    checked: dict[str, bool] = {}
    for name in e.ospf_links:
        port = e.ports[name]
        sec = _section(root, f"interface {port}")
        if vendor == "frr":
            checked[f"{port}: ip ospf authentication message-digest"] = _has(sec, "ip ospf authentication message-digest")
            checked[f"{port}: ip ospf message-digest-key"] = _has(sec, "ip ospf message-digest-key ")
            checked[f"{port}: ipv6 ospf6 authentication key-id"] = _has(sec, "ipv6 ospf6 authentication key-id ")
        else:
            checked[f"{port}: ospf authentication-mode"] = _has(sec, "ospf authentication-mode ")
            checked[f"{port}: ospfv3 authentication-mode"] = _has(sec, "ospfv3 authentication-mode ")
    bgp = next((v for k, v in root.children.items() if k.strip().startswith(("router bgp ", "bgp "))), None)
    for a in e.bgp_peers:
        checked[f"BGP {a} password"] = _has(bgp, f"neighbor {a} password " if vendor == "frr" else f"peer {a} password ")
    if not checked:
        return Outcome("pass", "no routing adjacency on this router (nothing to authenticate)")
    return _verdict(checked, "every OSPF/OSPFv3 link and BGP session authenticated")


def planes(root: Node, vendor: str, e: Expect, text: str = "") -> Outcome:
    checked: dict[str, bool] = {}
    for name in e.ospf_links:
        port = e.ports[name]
        sec = _section(root, f"interface {port}")
        checked[f"{port} ({name}) in OSPF"] = _has(sec, "ip ospf area " if vendor == "frr" else "ospf enable 1 area ")
    if not checked:
        return Outcome("pass", "no routed links on this router")
    out = _verdict(checked, f"routed links of plane(s) {', '.join(e.planes) or 'county'} all in OSPF")
    return out


def uplink(root: Node, vendor: str, e: Expect, text: str = "") -> Outcome:
    if not e.bgp_peers:
        return Outcome("pass", "no national uplink on this router (not applicable)")
    bgp = next((v for k, v in root.children.items() if k.strip().startswith(("router bgp ", "bgp "))), None)
    checked: dict[str, bool] = {}
    every = [ln for n in (bgp.children.values() if bgp else []) for ln in _lines(n)] + _lines(bgp)
    for a in e.bgp_peers:
        if vendor == "frr":
            need = [f"neighbor {a} ttl-security hops 1", f"neighbor {a} route-map {e.bgp_in[a]}", f"neighbor {a} route-map BGP-OUT",
                    f"neighbor {a} maximum-prefix "]
        else:
            need = [f"peer {a} valid-ttl-hops 1", f"peer {a} route-policy {e.bgp_in[a]}", f"peer {a} route-policy BGP-OUT",
                    f"peer {a} route-limit "]
        for n in need:
            checked[n.strip()] = any(ln.startswith(n) for ln in every)
    return _verdict(checked, "national eBGP sessions filtered both ways, GTSM on, prefix limit set")


CHECKS: dict[str, Callable[[Node, str, Expect, str], Outcome]] = {
    "L3-NET-CES01": accounts, "L3-NET-CES02": sessions, "L3-NET-CES03": management, "L3-NET-CES04": logging_ntp,
    "L3-NET-CNS01": routing_auth, "L3-NET-CNS02": planes, "L3-NET-ABS01": uplink,
}


def check_config(text: str, vendor: str, e: Expect, controls: Sequence[RouterControl]) -> list[tuple[str, Outcome]]:
    """Run every control over one router's running configuration (pure: the unit tests' entry)."""
    if not text.strip():
        return [(c.id, Outcome("error", "empty configuration read from the device")) for c in controls]
    root = parse(text, DIALECTS[vendor])
    out = []
    for c in controls:
        try:
            out.append((c.id, CHECKS[c.id](root, vendor, e, text)))
        except Exception as exc:  # noqa: BLE001 — a broken check is an error row, never a pass
            out.append((c.id, Outcome("error", f"check raised {type(exc).__name__}: {exc}"[:240])))
    return out


def router_selection(province: Province, limit: str | None) -> tuple[list[str], str]:
    """Our routers matching ``limit`` (lab: those up), and a note on what was left out."""
    from egovops.network.targets import SelectionError, select

    try:
        sel = select(province, limit)
    except SelectionError as exc:
        return [], str(exc)
    names = [n for n in sel.routers if province.router(n).is_ours]
    left = len([n for n in sel.skipped if province.router(n).is_ours])
    return names, (f"{left} selected router(s) not up, left out" if left else "")


def with_routers(cat: Catalogue) -> Catalogue:
    """The host catalogue plus the router controls (one catalogue for reports, waivers and metrics)."""
    fam = Family(FAMILY, "网络设备", "Network devices (routers)", "8.1.2-8.1.4")
    extra = tuple(Control(id=c.id, family=fam, clause=c.clause, title_zh=c.title_zh, title_en=c.title_en,
                          rationale="", checked_by=f"routers:{CHECKS[c.id].__name__}", disruptive=False,
                          enforced_tag=None, enforced_role="network templates (egovops net push)")
                  for c in load_catalogue())
    return Catalogue({**cat.families, FAMILY: fam}, tuple(cat.controls) + extra)


def is_router_control(c: Control) -> bool:
    return c.family.slug == FAMILY


def scan_routers(province: Province, names: Sequence[str], control_ids: Sequence[str] | None = None,
                 workers: int = 8, progress: Callable[[str, list[Result]], None] = lambda n, r: None) -> list[Result]:
    """Read each router over netmiko (host keys verified) and check it; unreadable = error rows."""
    from egovops.network import credentials
    from egovops.network.device import open_session
    from egovops.network.targets import default_vendor, intent_of, target_of

    controls = [c for c in load_catalogue() if control_ids is None or c.id in set(control_ids)]
    if not names or not controls:
        return []
    vendor = default_vendor(province)
    try:
        creds = credentials.load(province)
    except credentials.CredentialError as exc:     # fail closed: every row an error, naming why
        return [Result(n, province.router(n).city or "", province.router(n).name_zh, c.id, FAMILY, "error",
                       f"configuration not read: {exc}"[:300]) for n in names for c in controls]
    credentials.install_redaction(creds)

    def one(name: str) -> list[Result]:
        r = province.router(name)
        t0 = time.monotonic()
        try:
            s = open_session(target_of(province, name, vendor, 20.0), creds)
            try:
                text = s.running_config()
            finally:
                s.close()
            rows = check_config(text, vendor, expect_of(intent_of(province, name), vendor, [creds.username]), controls)
        except Exception as exc:  # noqa: BLE001 — unread is not compliant
            rows = [(c.id, Outcome("error", f"configuration not read: {exc}"[:300])) for c in controls]
        secs = round((time.monotonic() - t0) / max(1, len(rows)), 3)
        res = [Result(name, r.city or "", r.name_zh, cid, FAMILY, o.status, o.evidence, secs) for cid, o in rows]
        progress(name, res)
        return res

    from egovops.network.routing_keys import mask_line

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(names) or 1))) as pool:
        out = [x for rows in pool.map(one, names) for x in rows]
    return [Result(**{**x.as_dict(), "evidence": mask_line(x.evidence)}) for x in out]
