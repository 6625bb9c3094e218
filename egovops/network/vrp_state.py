"""Huawei VRP protocol state, parsed from ``display`` output with TextFSM templates — fail closed.

Why TextFSM and why strict: VRP answers in text tables, not JSON. ntc-templates has a template for
``display bgp peer`` (used as is, for IPv4 and IPv6 — the table is the same); the OSPF, OSPFv3 and
BFD templates it lacks live in ``templates/vrp_state/``. Every template ends in ``^. -> Error``, so
a line it does not know (a new firmware's format, an ``Error:`` answer, a truncated read) makes the
parse fail, and a failed parse raises :class:`StateParseError` — never an empty state that would
read as "no adjacencies, nothing lost". netmiko's own TextFSM helper returns the raw text when a
parse fails, which is why the templates are run here directly.

The keys match :func:`egovops.network.device.frr_state`, so the push engine and ``net verify`` treat
both vendors alike: OSPF/OSPFv3 ``<router-id>@<intent interface>``, BFD ``ipv4|ipv6@<intent
interface>``, BGP the peer address. VRP port names (``GigabitEthernet0/0/1``, shown as ``GE0/0/1``
by some commands) are mapped back to the intent's interface names with the port map the render
used (:func:`egovops.network.render.vrp_ports`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import textfsm

HERE = Path(__file__).with_name("templates") / "vrp_state"

# command -> template file (ours, or the ntc-templates one)
COMMANDS = {
    "ospf": "display ospf peer",
    "ospf6": "display ospfv3 peer",
    "bfd": "display bfd session all",
    "bfd6": "display bfd session all for-ipv6",
    "bgp": "display bgp peer",
    "bgp6": "display bgp ipv6 peer",
}

ABBREVIATIONS = {"GE": "GigabitEthernet", "XGE": "XGigabitEthernet", "Eth": "Ethernet", "LoopBack": "LoopBack",
                 "40GE": "40GE", "100GE": "100GE", "Vlanif": "Vlanif"}


class StateParseError(ValueError):
    """A VRP answer that could not be parsed (names the command and the first unknown line)."""


def _ntc_template(name: str) -> Path:
    import ntc_templates

    return Path(ntc_templates.__file__).with_name("templates") / name


TEMPLATES: dict[str, Path] = {
    "ospf": HERE / "huawei_vrp_display_ospf_peer.textfsm",
    "ospf6": HERE / "huawei_vrp_display_ospfv3_peer.textfsm",
    "bfd": HERE / "huawei_vrp_display_bfd_session_all.textfsm",
    "bfd6": HERE / "huawei_vrp_display_bfd_session_all.textfsm",
    "bgp": _ntc_template("huawei_vrp_display_bgp_peer.textfsm"),
    "bgp6": _ntc_template("huawei_vrp_display_bgp_peer.textfsm"),
}

_ERROR = re.compile(r"^\s*(Error:|\^)", re.M)


def parse(kind: str, text: str) -> list[dict[str, str]]:
    """Rows of one ``display`` answer; raises :class:`StateParseError` on anything unexpected."""
    command = COMMANDS[kind]
    if not text or not text.strip():
        raise StateParseError(f"{command!r}: empty answer (the state was not read)")
    m = _ERROR.search(text)
    if m:
        line = text[m.start():].strip().splitlines()[0]
        raise StateParseError(f"{command!r}: the device answered {line[:120]!r}")
    with open(TEMPLATES[kind]) as f:
        fsm = textfsm.TextFSM(f)
    try:
        rows = fsm.ParseText(text)
    except textfsm.TextFSMError as exc:
        raise StateParseError(f"{command!r}: unexpected output ({str(exc).splitlines()[-1][:160]})") from None
    return [dict(zip(fsm.header, r, strict=True)) for r in rows]


def full_port(name: str) -> str:
    """``GE0/0/1`` → ``GigabitEthernet0/0/1`` (VRP shortens port names in some tables)."""
    m = re.match(r"^([A-Za-z0-9]*?[A-Za-z]+)(\d.*)$", name)
    if not m:
        return name
    return ABBREVIATIONS.get(m.group(1), m.group(1)) + m.group(2)


def vrp_state(cmd: Callable[[str], str], ports: Mapping[str, str]) -> dict[str, Any]:
    """Up adjacencies of a VRP router, keyed like ``frr_state``.

    ``cmd`` runs one display command and returns its text; ``ports`` maps intent interface names to
    VRP port names (from the render). A port not in the map keeps its VRP name, so it can never
    match an expected adjacency by accident.
    """
    intent_of = {full_port(v): k for k, v in ports.items()}

    def iface(port: str) -> str:
        return intent_of.get(full_port(port), full_port(port))

    ospf = {f"{r['NEIGHBOR_ID']}@{iface(r['INTERFACE'])}" for r in parse("ospf", cmd(COMMANDS["ospf"]))
            if r["STATE"].lower() == "full"}
    ospf6 = {f"{r['NEIGHBOR_ID']}@{iface(r['INTERFACE'])}" for r in parse("ospf6", cmd(COMMANDS["ospf6"]))
             if r["STATE"].lower() == "full"}
    bfd: set[str] = set()
    for kind in ("bfd", "bfd6"):
        for r in parse(kind, cmd(COMMANDS[kind])):
            if r["STATE"].lower() == "up":
                bfd.add(f"{'ipv6' if ':' in r['PEER'] else 'ipv4'}@{iface(r['INTERFACE'])}")
    bgp: set[str] = set()
    for kind in ("bgp", "bgp6"):
        for r in parse(kind, cmd(COMMANDS[kind])):
            if r["STATE"].lower() == "established":
                bgp.add(_addr(r["PEER"]))
    return {"ospf": ospf, "ospf6": ospf6, "bfd": bfd, "bgp": bgp, "parsed": True}


def _addr(text: str) -> str:
    """A peer address in the intent's spelling (``2001:DB8::2`` → ``2001:db8::2``); else unchanged."""
    import ipaddress

    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text
