#!/usr/bin/env python3
"""Write tests/fixtures/net/huawei_vrp.textfsm, the TextFSM grammar of Huawei VRP configuration views.

Why generated: the argument tokens (addresses, contiguous masks and wildcards, prefix lengths,
numeric ranges) are long regular expressions used in many rules; they are defined once here. The
rules themselves are written from the VRP command reference, not from egovops' templates. The
output is committed; tests/unit/test_net_vrp_grammar.py checks it is what this script writes.
Add a command: put its rule in the view's list below, run `python scripts/vrp_grammar.py`, commit both.
"""

from __future__ import annotations

import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "net" / "huawei_vrp.textfsm"
OCT = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
IP = rf"(?:{OCT}\.){{3}}{OCT}"


def masks() -> list[str]:
    out = []
    for n in range(33):
        v = (0xFFFFFFFF << (32 - n)) & 0xFFFFFFFF if n else 0
        out.append(".".join(str((v >> s) & 255) for s in (24, 16, 8, 0)))
    return out


MASK = "(?:" + "|".join(m.replace(".", r"\.") for m in masks()) + ")"
WILD = "(?:" + "|".join(".".join(str(255 - int(o)) for o in m.split(".")).replace(".", r"\.") for m in masks()) + ")"
H = r"[0-9a-fA-F]{1,4}"
V6 = rf"(?:(?:{H}:){{7}}{H}|(?:{H}:){{0,6}}(?:{H})?::(?:{H}:){{0,6}}(?:{H})?)"
P4 = r"(?:3[0-2]|[12]?\d)"
P6 = r"(?:12[0-8]|1[01]\d|[1-9]?\d)"
U16 = r"(?:6553[0-5]|655[0-2]\d|65[0-4]\d\d|6[0-4]\d{3}|[1-5]\d{4}|[1-9]\d{0,3})"  # 1..65535
U32 = r"(?:[1-9]\d{0,9})"
AREA = IP
NAME = r"[A-Za-z][A-Za-z0-9_.-]{0,168}"
PORT = r"(?:GigabitEthernet|XGigabitEthernet|25GE|100GE|Eth-Trunk)\d+(?:/\d+){0,2}"
IFNAME = rf"(?:LoopBack\d+|{PORT}|NULL0)"
BFDT = r"(?:[1-9]\d{0,3})"  # ms
MULT = r"(?:50|[1-4]\d|[3-9])"  # 3..50

top_views = {
    "interface": (rf"interface {IFNAME}$$", "Interface"),
    "acl4": (r"acl number (?:2\d{3})$$", "Acl4"),
    "acl6": (r"acl ipv6 number (?:2\d{3})$$", "Acl6"),
    "aaa": (r"aaa$$", "Aaa"),
    "ospf": (rf"ospf {U16} router-id {IP}$$", "Ospf"),
    "ospf3": (rf"ospfv3 {U16}$$", "Ospf3"),
    "bgp": (rf"bgp {U32}$$", "Bgp"),
    "rp": (rf"route-policy {NAME} (?:permit|deny) node (?:\d{{1,5}})$$", "RoutePolicy"),
    "vty": (r"user-interface vty [0-4] [0-4]$$", "Vty"),
    "bfd": (r"bfd$$", "Bfd"),
}
top_cmds = [
    r"sysname \S{1,246}$$",
    r'header login information "[^"]{1,2000}"$$',
    r"info-center loghost source LoopBack\d+$$",
    rf"info-center loghost {IP} level (?:emergencies|alert|critical|error|warning|notification|informational|debugging)$$",
    rf"info-center loghost ipv6 {V6} level (?:emergencies|alert|critical|error|warning|notification|informational|debugging)$$",
    r"ntp-service source-interface LoopBack\d+$$",
    rf"ntp-service unicast-server {IP}$$",
    rf"ntp-service unicast-server ipv6 {V6}$$",
    rf"ip ip-prefix {NAME} index {U32} (?:permit|deny) {IP} {P4}(?: greater-equal {P4})?(?: less-equal {P4})?$$",
    rf"ip ipv6-prefix {NAME} index {U32} (?:permit|deny) {V6} {P6}(?: greater-equal {P6})?(?: less-equal {P6})?$$",
    rf"ip route-static {IP} {MASK} NULL0(?: description .{{1,80}})?$$",
    rf"ipv6 route-static {V6} {P6} NULL0(?: description .{{1,80}})?$$",
    r"stelnet server enable$$",
    r"undo telnet server enable$$",
    r"undo telnet ipv6 server enable$$",
    r"ssh server acl (?:2\d{3})$$",
    r"ssh ipv6 server acl ipv6 (?:2\d{3})$$",
]
views = {
    "Interface": [
        r" description .{1,242}$$",
        r" undo shutdown$$",
        r" shutdown$$",
        r" ipv6 enable$$",
        rf" ip address {IP} {MASK}$$",
        rf" ipv6 address {V6}/{P6}$$",
        r" ospf network-type (?:p2p|broadcast|nbma|p2mp)$$",
        rf" ospf cost {U16}$$",
        rf" ospf timer hello {U16}$$",
        r" ospf timer dead (?:[1-9]\d{0,8})$$",
        r" ospf bfd enable$$",
        rf" ospf bfd min-tx-interval {BFDT} min-rx-interval {BFDT} detect-multiplier {MULT}$$",
        rf" ospf enable {U16} area {AREA}$$",
        r" ospf silent-interface$$",
        rf" ospfv3 {U16} area {AREA}$$",
        r" ospfv3 network-type (?:p2p|broadcast|nbma|p2mp)$$",
        rf" ospfv3 cost {U16}$$",
        rf" ospfv3 timer hello {U16}$$",
        r" ospfv3 timer dead (?:[1-9]\d{0,8})$$",
        r" ospfv3 bfd enable$$",
        rf" ospfv3 bfd min-tx-interval {BFDT} min-rx-interval {BFDT} detect-multiplier {MULT}$$",
        r" ospfv3 silent-interface$$",
        r" ospf authentication-mode (?:md5|hmac-md5|hmac-sha256) (?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d?) (?:cipher|plain) \S{1,392}$$",
        rf" ospfv3 authentication-mode hmac-sha256 key-id {U16} (?:cipher|plain) \S{{1,392}}$$",
    ],
    "Acl4": [
        r" description .{1,127}$$",
        rf" rule \d{{1,10}} permit source {IP} {WILD}$$",
        r" rule \d{1,10} (?:permit|deny)$$",
    ],
    "Acl6": [
        r" description .{1,127}$$",
        rf" rule \d{{1,10}} permit ipv6 source {V6}/{P6}$$",
        r" rule \d{1,10} (?:permit|deny) ipv6$$",
    ],
    "Aaa": [r" local-aaa-user wrong-password retry-interval \d{1,4} retry-time \d{1,5} block-time \d{1,4}$$"],
    "Ospf": [
        r" spf-schedule-interval intelligent-timer \d{1,5} \d{1,5} \d{1,5}$$",
        rf" area {AREA}$$",
        r" import-route (?:bgp|static|direct)$$",
        # area view (ospf 1 > area X): a stub area; Type-3 filter at the border (issue 13, industry clouds)
        r"  stub(?: no-summary)?$$",
        rf"  filter ip-prefix {NAME} (?:import|export)$$",
    ],
    "Ospf3": [
        rf" router-id {IP}$$",
        rf" area {AREA}$$",
        r" import-route (?:bgp|static|direct)$$",
        r"  stub(?: no-summary)?$$",
        rf"  filter ipv6-prefix {NAME} (?:import|export)$$",
    ],
    "Bfd": [],
    "Vty": [
        r" authentication-mode aaa$$",
        r" protocol inbound ssh$$",
        r" idle-timeout \d{1,5} [1-5]?\d$$",
        r" acl (?:2\d{3}) inbound$$",
        r" acl ipv6 (?:2\d{3}) inbound$$",
    ],
    "RoutePolicy": [rf" if-match ip-prefix {NAME}$$", rf" if-match ipv6 address prefix-list {NAME}$$"],
}
bgp = [
    rf" router-id {IP}$$",
    rf" peer {IP} as-number {U32}$$",
    rf" peer {V6} as-number {U32}$$",
    rf" peer {IP} description .{{1,255}}$$",
    rf" peer {V6} description .{{1,255}}$$",
    rf" peer {IP} password (?:cipher|simple) \S{{1,255}}$$",
    rf" peer {V6} password (?:cipher|simple) \S{{1,255}}$$",
    rf" peer {IP} valid-ttl-hops (?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d?)$$",
    rf" peer {V6} valid-ttl-hops (?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d?)$$",
    r" #$$",
]
family = [
    r"  undo synchronization$$",
    rf"  network {IP} {P4}$$",
    rf"  network {V6} {P6}$$",
    rf"  peer {IP} enable$$",
    rf"  peer {V6} enable$$",
    rf"  peer {IP} route-limit {U32}(?: [1-9]\d?| 100)?(?: alert-only| idle-forever| idle-timeout \d{{1,4}})?$$",
    rf"  peer {V6} route-limit {U32}(?: [1-9]\d?| 100)?(?: alert-only| idle-forever| idle-timeout \d{{1,4}})?$$",
    rf"  peer {IP} route-policy {NAME} (?:import|export)$$",
    rf"  peer {V6} route-policy {NAME} (?:import|export)$$",
]


def grammar() -> str:
    return "\n".join(_lines())


def _lines() -> list[str]:
    out = [
        "# Huawei VRP configuration grammar (display current-configuration shape) for TextFSM: an independent",
        "# syntax check of what egovops renders and diffs for VRP (tests/unit/test_net_vrp_grammar.py).",
        "# Written from the VRP command reference, not from egovops' templates or parser: every line of a",
        "# configuration must match a rule of the view it is in, or the Error rule names it. Views open",
        "# with their command and close with '#'. Numbers carry the documented ranges where the reference",
        "# gives them (OSPF cost and hello 1-65535, BFD detect-multiplier 3-50, basic ACL 2000-2999,",
        "# idle-timeout seconds 0-59); masks and wildcards must be contiguous; prefix lengths in range.",
        "Value Required SYSNAME (\\S+)",
        "",
        "Start",
        "  ^sysname ${SYSNAME}$$",
    ]
    out += ["  ^" + c for c in top_cmds[1:]]
    out += [f"  ^{hdr} -> {state}" for hdr, state in top_views.values()]
    out += ["  ^#$$", "  ^return$$ -> Record End", '  ^.* -> Error "not a VRP system-view command"', ""]
    for state, cmds in views.items():
        out.append(state)
        out += ["  ^" + c for c in cmds]
        out += ["  ^#$$ -> Start", f'  ^.* -> Error "not a command of the {state} view"', ""]
    out.append("Bgp")
    out += ["  ^" + c for c in bgp]
    out += [
        r"  ^ ipv4-family unicast$$ -> BgpFamily",
        r"  ^ ipv6-family unicast$$ -> BgpFamily",
        "  ^#$$ -> Start",
        '  ^.* -> Error "not a command of the bgp view"',
        "",
    ]
    out.append("BgpFamily")
    out += ["  ^" + c for c in family]
    out += [r"  ^ #$$ -> Bgp", "  ^#$$ -> Start", '  ^.* -> Error "not a command of a bgp address family view"', ""]
    return out


def main() -> int:
    text = grammar()
    if "--check" in sys.argv:
        return 0 if OUT.read_text(encoding="utf-8") == text else 1
    OUT.write_text(text, encoding="utf-8")
    print(f"{OUT}: {len(text.splitlines())} lines")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
