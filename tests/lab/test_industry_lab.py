"""Industry clouds in the lab (issue 13 item 3), on the `indlab` lab: the province, one city (hefei)
and the two clouds indlab lists — transport (eBGP, its own AS, both planes) and education (OSPF, its
own stub area, one plane).

`lab up --industry` brings each cloud's router and host; `net push` configures the core side and the
clouds' routers; `net verify --json` is green over IPv4 and IPv6 with the clouds' sessions and
adjacencies in it. Then transport's router misbehaves — it announces provincial prefixes (hefei's
service LAN, a more-specific of it and of the provincial LAN, in both families) — and education's
redistributes the same as statics into its area: the routing tables of province-rt and hefei-rt do
not change. A control opens the core's filter for one prefix and shows the same announcement would
have been installed (so the unchanged tables are the filter's doing, not a missing announcement).
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
import time
from pathlib import Path

import pytest

from egovops.lab import ns_of
from egovops.model import load_inventory
from egovops.model.province import Province

pytestmark = pytest.mark.lab

REPO = Path(__file__).resolve().parents[2]
EGOVOPS = str(REPO / ".venv" / "bin" / "egovops")
INDLAB = REPO / "tests" / "fixtures" / "inventories" / "indlab"
LIMIT = "city:hefei"
WATCHED = ("province-rt", "hefei-rt")


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EGOVOPS, *args, "--inventory", str(INDLAB)], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)


def vtysh(p: Province, router: str, *cmds: str) -> str:
    args = ["vtysh", "-N", ns_of(p, router)]
    for c in cmds:
        args += ["-c", c]
    return subprocess.run(args, capture_output=True, text=True, timeout=30, check=True).stdout


def routes(p: Province, router: str) -> dict[str, list[tuple[str, tuple[str, ...]]]]:
    """The router's IPv4 and IPv6 tables: prefix -> [(protocol, next hops)] (link-locals left out)."""
    out: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for cmd in ("show ip route json", "show ipv6 route json"):
        for prefix, entries in json.loads(vtysh(p, router, cmd)).items():
            if prefix.startswith("fe80"):
                continue
            out[prefix] = sorted((e["protocol"], tuple(sorted(n.get("ip", n.get("interfaceName", ""))
                                                              for n in e.get("nexthops", [])))) for e in entries)
    return out


def stable_routes(p: Province, rounds: int = 3, gap: float = 2.0) -> dict[str, dict]:
    """Both watched routers' tables once they read the same twice in a row (bounded: ``rounds`` tries)."""
    prev = {r: routes(p, r) for r in WATCHED}
    for _ in range(rounds):
        time.sleep(gap)
        cur = {r: routes(p, r) for r in WATCHED}
        if cur == prev:
            return cur
        prev = cur
    return prev


@pytest.fixture(scope="module")
def indlab():
    p = load_inventory(INDLAB)
    t0 = time.monotonic()
    up = cli("lab", "up", "--limit", LIMIT, "--industry", "--json")
    assert up.returncode == 0, up.stdout[-2000:] + up.stderr[-2000:]
    doc = json.loads(up.stdout)
    names = {d["name"] for d in doc["lab"]["routers"] + doc["lab"]["hosts"]}
    assert {"transport-rt", "education-rt", "transport", "education"} <= names
    print(f"indlab up with 2 industry clouds in {time.monotonic() - t0:.1f}s")
    yield p
    down = cli("lab", "down")
    assert down.returncode == 0, down.stderr[-2000:]


def test_pushed_and_verified_over_both_families(indlab):
    p = indlab
    push = cli("net", "push", "--json")
    assert push.returncode == 0, push.stdout[-3000:] + push.stderr[-3000:]
    pushed = {d["name"] for d in json.loads(push.stdout)["devices"]}
    assert {"province-rt", "transport-rt", "education-rt"} <= pushed
    ver = cli("net", "verify", "--json", "--wait", "60")
    data = json.loads(ver.stdout)
    assert ver.returncode == 0 and data["ok"], json.dumps(data["broken"])[:3000]
    rows = {r["router"]: r for r in data["protocols"]}
    transport = next(c for c in p.industry if c.slug == "transport")
    education = next(c for c in p.industry if c.slug == "education")
    # the core's eBGP sessions to transport: one per plane and family, all Established
    assert rows["province-rt"]["up"]["bgp"] == "8/8"          # 2 national + 2 planes x 2 families transport
    assert rows["transport-rt"]["up"]["bgp"] == f"{2 * len(transport.wan_links)}/{2 * len(transport.wan_links)}"
    # education: OSPFv2 and OSPFv3 adjacency (and BFD) over its one plane, both ends
    assert rows["education-rt"]["up"]["ospf"] == rows["education-rt"]["up"]["ospf6"] == "1/1"
    for router in ("transport-rt", "education-rt"):
        assert {r["family"] for r in data["reachability"] if r["to"] == router and r["ok"]} == {"ipv4", "ipv6"}
        assert rows[router]["up"]["address_ipv6"].split("/")[0] == rows[router]["up"]["address_ipv6"].split("/")[1]
    # the data plane: each cloud's host reaches the provincial node's service address over v4 and v6
    prov = p.node("province")
    for c in (transport, education):
        for addr in (str(prov.address.ipv4.ip), str(prov.address.ipv6.ip)):
            ping = subprocess.run(["ip", "netns", "exec", ns_of(p, c.slug), "ping", "-c", "1", "-W", "3", addr],
                                  capture_output=True, text=True, timeout=20)
            assert ping.returncode == 0, f"{c.slug} -> province {addr}: {ping.stdout[-300:]}{ping.stderr[-300:]}"
    # the core learnt each cloud's own LAN in both families (BGP for transport, OSPF for education)
    table = routes(p, "province-rt")
    for c, proto in ((transport, "bgp"), (education, "ospf")):
        for net in (c.service_v4, c.service_v6):
            assert str(net) in table, (c.slug, net)
            assert any(e[0] in (proto, "ospf6") for e in table[str(net)]), (c.slug, net, table[str(net)])


def test_a_cloud_announcing_provincial_prefixes_changes_no_route(indlab):
    p = indlab
    hefei, prov = p.node("hefei"), p.node("province")
    v4 = [hefei.service_v4, next(hefei.service_v4.subnets()), next(prov.service_v4.subnets())]
    v6 = [hefei.service_v6, next(hefei.service_v6.subnets()), next(prov.service_v6.subnets())]
    before = stable_routes(p)
    transport = next(c for c in p.industry if c.slug == "transport")
    core_v4 = str(transport.wan_links[0].a.address.ipv4.ip)
    core_v6 = str(transport.wan_links[0].a.address.ipv6.ip)
    # transport-rt (eBGP) announces them: statics, its export list opened, network statements
    cmds = ["conf t"] + [f"ip route {n} blackhole" for n in v4] + [f"ipv6 route {n} blackhole" for n in v6]
    cmds += [f"ip prefix-list BGP-OUT-V4 seq {900 + i} permit {n}" for i, n in enumerate(v4)]
    cmds += [f"ipv6 prefix-list BGP-OUT-V6 seq {900 + i} permit {n}" for i, n in enumerate(v6)]
    cmds += [f"router bgp {transport.asn}", "address-family ipv4 unicast", *(f"network {n}" for n in v4),
             "exit-address-family", "address-family ipv6 unicast", *(f"network {n}" for n in v6), "end"]
    vtysh(p, "transport-rt", *cmds)
    # education-rt (OSPF, stub area) redistributes the same statics
    vtysh(p, "education-rt", "conf t", *(f"ip route {n} blackhole" for n in v4), *(f"ipv6 route {n} blackhole" for n in v6),
          "router ospf", "redistribute static", "exit", "router ospf6", "redistribute static", "end")
    # the announcement really leaves transport-rt towards the core, in both families
    adv4 = vtysh(p, "transport-rt", f"show bgp ipv4 unicast neighbors {core_v4} advertised-routes")
    adv6 = vtysh(p, "transport-rt", f"show bgp ipv6 unicast neighbors {core_v6} advertised-routes")
    assert all(str(n) in adv4 for n in v4) and all(str(n) in adv6 for n in v6), adv4 + adv6
    after = stable_routes(p, rounds=4)
    for router in WATCHED:
        changed = {k for k in set(before[router]) | set(after[router]) if before[router].get(k) != after[router].get(k)}
        assert not changed, f"{router}: routes changed by a misbehaving industry cloud: {sorted(changed)}"
    # control: open the core's transport filter for one of them; the same announcement is installed
    victim = v4[1]
    opened = ipaddress.ip_network(victim)
    vtysh(p, "province-rt", "conf t", f"ip prefix-list IND-TRANSPORT-V4 seq 1 permit {opened}", "end",
          f"clear bgp ipv4 unicast {transport.wan_links[0].b.address.ipv4.ip} soft in")
    deadline = time.monotonic() + 30
    installed = False
    while time.monotonic() < deadline and not installed:
        installed = any(e[0] == "bgp" for e in routes(p, "province-rt").get(str(victim), []))
        time.sleep(1)
    vtysh(p, "province-rt", "conf t", f"no ip prefix-list IND-TRANSPORT-V4 seq 1 permit {opened}", "end",
          f"clear bgp ipv4 unicast {transport.wan_links[0].b.address.ipv4.ip} soft in")
    assert installed, "control: with its filter opened the core did not install the announcement (test proves nothing)"
    # a re-push puts both clouds' routers back as the inventory says (the drift is theirs, not ours)
    push = cli("net", "push", "--limit", "kind:industry", "--json")
    assert push.returncode == 0, push.stdout[-3000:] + push.stderr[-3000:]
    assert str(v4[0]) not in vtysh(p, "transport-rt", "show running-config")
