"""Routing-protocol authentication on real FRR routers (issue 11), on the `seclab` lab.

After a push the OSPFv2 (MD5), OSPFv3 (RFC 7166 trailer) and BGP (TCP-MD5 + GTSM) sessions run
authenticated and `net verify` is green; a router given a wrong key loses its adjacencies and
`net verify` names it; a re-push restores it. No key appears in any output or report.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from egovops.lab import ns_of, secrets_dir
from egovops.model import load_inventory
from egovops.render.intents import intent

pytestmark = pytest.mark.lab

REPO = Path(__file__).resolve().parents[2]
EGOVOPS = str(REPO / ".venv" / "bin" / "egovops")
SECLAB = REPO / "tests" / "fixtures" / "inventories" / "seclab"
LIMIT = "province-rt,national-rt,chuzhou-rt,chuzhou-langya-rt,chuzhou-nanqiao-rt"
VICTIM = "chuzhou-langya-rt"


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([EGOVOPS, *args, "--inventory", str(SECLAB)], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)


def vtysh(p, router: str, *cmds: str) -> str:
    args = ["vtysh", "-N", ns_of(p, router)]
    for c in cmds:
        args += ["-c", c]
    return subprocess.run(args, capture_output=True, text=True, timeout=30, check=True).stdout


@pytest.fixture(scope="module")
def seclab():
    p = load_inventory(SECLAB)
    up = cli("lab", "up", "--limit", f"{LIMIT},city:chuzhou", "--counties")
    assert up.returncode == 0, up.stdout[-2000:] + up.stderr[-2000:]
    keys = [line.partition("=")[2] for line in (secrets_dir(p) / "routing-keys.env").read_text().splitlines()]
    assert len(keys) == 3 and all(keys)
    yield p, keys
    cli("lab", "down")


def test_push_authenticates_every_protocol_and_never_shows_a_key(seclab, tmp_path):
    p, keys = seclab
    res = cli("net", "push", "--limit", LIMIT, "--json", "--report", str(tmp_path / "push.json"))
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    for text in (res.stdout, res.stderr, (tmp_path / "push.json").read_text(), cli("net", "diff", "--limit", LIMIT).stdout):
        assert not any(k in text for k in keys), "a routing key leaked"
    ver = cli("net", "verify", "--limit", LIMIT, "--json", "--wait", "60")
    data = json.loads(ver.stdout)
    assert ver.returncode == 0, json.dumps(data.get("broken"), indent=1)[:3000]
    prov = next(r for r in data["protocols"] if r["router"] == "province-rt")
    assert prov["up"]["bgp"] == "4/4"
    # the adjacencies that are up really are authenticated (FRR's own view)
    assert "Cryptographic authentication enabled" in vtysh(p, "chuzhou-rt", "show ip ospf interface")
    assert "Authentication trailer is enabled" in vtysh(p, "chuzhou-rt", "show ipv6 ospf6 interface")
    nb = json.loads(vtysh(p, "province-rt", "show bgp neighbors json"))
    assert all(n.get("bgpState") == "Established" for n in nb.values()) and len(nb) == 4


def test_wrong_key_loses_adjacency_and_verify_names_the_router(seclab):
    p, keys = seclab
    ifaces = [i["name"] for i in intent(p, p.router(VICTIM))["interfaces"]
              if i.get("ospf_area") is not None and not i["ospf_passive"]]
    assert ifaces
    cmds = ["configure terminal"]
    for i in ifaces:
        cmds += [f"interface {i}", "ip ospf message-digest-key 1 md5 WrongKey12345678",
                 "ipv6 ospf6 authentication key-id 1 hash-algo hmac-sha-256 key WrongKey12345678", "exit"]
    vtysh(p, VICTIM, *cmds)
    deadline = time.monotonic() + 30        # dead interval is 4 s; bounded wait
    while time.monotonic() < deadline:
        v2 = json.loads(vtysh(p, VICTIM, "show ip ospf neighbor json")).get("neighbors", {})
        if not v2:
            break
        time.sleep(1)
    assert not v2, "adjacency survived a wrong OSPF key"
    ver = cli("net", "verify", "--limit", LIMIT, "--json")
    assert ver.returncode == 1
    data = json.loads(ver.stdout)
    bad = {r["router"] for r in data["protocols"] if not r["ok"]}
    assert VICTIM in bad and "province-rt" not in bad
    assert not any(k in ver.stdout for k in keys)
    # the push puts the right key back (its diff masks both the wrong and the right key)
    res = cli("net", "push", "--limit", VICTIM, "--json")
    assert res.returncode == 0 and "WrongKey12345678" not in res.stdout and not any(k in res.stdout for k in keys)
    ver = cli("net", "verify", "--limit", LIMIT, "--json", "--wait", "60")
    assert ver.returncode == 0, ver.stdout[-2000:]


def test_a_replaced_host_key_is_refused_by_name_and_the_others_are_done(seclab, tmp_path):
    """netmiko (net push) and paramiko (comply) verify against the lab's known_hosts: a device whose
    recorded key differs is refused with exit 1 naming it; the other devices are still done."""
    import subprocess as sp

    from egovops.lab.known_hosts import path_for, write

    p, _ = seclab
    kh = path_for(p)
    sp.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "k")], check=True)
    fake = (tmp_path / "k.pub").read_text().split()[1]
    victims = {str(p.router("chuzhou-rt").management.ipv4.ip), str(p.node("chuzhou").management.ipv4.ip)}
    lines = []
    for line in kh.read_text().splitlines():
        names, kind, key = line.split()
        lines.append(f"{names} {kind} {fake if victims & set(names.split(',')) else key}\n")
    kh.write_text("".join(lines))
    try:
        res = cli("net", "push", "--limit", "province-rt,chuzhou-rt", "--json")
        assert res.returncode == 1, res.stdout[-2000:]
        devs = {d["name"]: d for d in json.loads(res.stdout)["devices"]}
        assert devs["chuzhou-rt"]["status"] == "failed" and "host key" in devs["chuzhou-rt"]["error"]
        assert "chuzhou-rt" in devs["chuzhou-rt"]["error"] and devs["province-rt"]["status"] == "unchanged"
        res = cli("comply", "--limit", "chuzhou,province", "--json", "--report", "")
        rows = json.loads(res.stdout)["results"]
        bad = [r for r in rows if r["node"] == "chuzhou"]
        # every row of the refused host is an error naming the key; comply applies the lab waivers by
        # default (waiver_sources), so a row a waiver covers is "waived" with the error kept as observed
        assert bad and all("host key" in r["evidence"] for r in bad)
        assert all(r["status"] == "error" or (r["status"] == "waived" and r["observed_status"] == "error")
                   for r in bad)
        assert any(r["status"] == "error" for r in bad) and res.returncode == 1
        assert not any("host key" in r["evidence"] for r in rows if r["node"] == "province")
    finally:
        write(p)                                 # the lab's true keys again
    assert cli("net", "push", "--limit", "chuzhou-rt", "--json").returncode == 0


def test_comply_checks_routers_and_catches_a_removed_ospf_key(seclab):
    """`egovops comply` reads the routers over netmiko: all router controls pass after a push; a removed
    OSPF key fails L3-NET-CNS01 with the interface as evidence (and no key in the output)."""
    p, keys = seclab
    assert cli("net", "push", "--limit", "chuzhou-rt", "--json").returncode == 0
    res = cli("comply", "--limit", "chuzhou-rt,province-rt", "--json", "--report", "")
    rows = json.loads(res.stdout)["results"]
    assert res.returncode == 0, [r for r in rows if r["status"] != "pass"]
    assert {r["node"] for r in rows} == {"chuzhou-rt", "province-rt"} and len(rows) == 14
    iface = next(i["name"] for i in intent(p, p.router("chuzhou-rt"))["interfaces"]
                 if i.get("ospf_area") is not None and not i["ospf_passive"])
    vtysh(p, "chuzhou-rt", "configure terminal", f"interface {iface}", "no ip ospf message-digest-key 1")
    try:
        res = cli("comply", "--limit", "chuzhou-rt", "--json", "--report", "")
        assert res.returncode == 1
        bad = [r for r in json.loads(res.stdout)["results"] if r["status"] != "pass"]
        assert [r["control"] for r in bad] == ["L3-NET-CNS01"] and iface in bad[0]["evidence"]
        assert not any(k in res.stdout for k in keys)
    finally:
        assert cli("net", "push", "--limit", "chuzhou-rt", "--json").returncode == 0
