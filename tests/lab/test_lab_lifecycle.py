"""lab up / status / down on a small throw-away lab: idempotency, reachability, isolation, clean down.

Why: every other capability rehearses against this lab, so it must come up the same way twice,
answer SSH on both management families, keep its traffic and its hosts' /etc to itself, and leave
the machine exactly as it found it.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from egovops.lab import fabric, hosts, lab_down, lab_state, lab_up, ns_of, procs, routers, secrets_dir, status
from egovops.lab.lifecycle import lab_pids, residue
from egovops.lab.paths import lab_dir, ns_name
from egovops.model import load_inventory

pytestmark = pytest.mark.lab

SSH = ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",   # + UserKnownHostsFile: see ssh_to()
       "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=5"]


def ssh_to(p) -> list[str]:
    """ssh verifying host keys against the lab's own known_hosts (egovops.lab.known_hosts)."""
    from egovops.lab.known_hosts import path_for
    return SSH + ["-o", f"UserKnownHostsFile={path_for(p)}"]


def as_root(p, address, command: str) -> subprocess.CompletedProcess:
    """``command`` as root on a host: the lab's admin account logs in, sudo (password on stdin) gives root."""
    from egovops.harden.login import host_login, sudo_command
    login = host_login(p)
    return subprocess.run(ssh_to(p) + ["-i", str(secrets_dir(p) / "id_ed25519"), f"{login.user}@{address}",
                                       sudo_command(command)], input=login.sudo_input(),
                          capture_output=True, text=True, timeout=30)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    d = tmp_path_factory.mktemp("inv") / "lifelab"
    d.mkdir()
    base = Path(__file__).resolve().parents[1] / "fixtures" / "inventories" / "testlab"
    (d / "inventory.yaml").write_text(f"name: lifelab\nname_zh: 生命周期测试\nenvironment: lab\nversion: test\nbase: {base}\n")
    (d / "addressing.yaml").write_text((base / "addressing.yaml").read_text()
                                       .replace("198.19.16.0/20", "198.19.32.0/20").replace("fd00:34:0:fe::/64", "fd00:34:0:e1::/64"))
    p = load_inventory(d)
    lab_down(p)  # a leftover of an interrupted earlier run must not make this test pass or fail
    first = lab_up(p, limit="city:hefei")
    yield p, first
    lab_down(p)


def test_up_brings_the_selected_devices(small):
    p, first = small
    assert first.changed
    names = {d.name for d in first.state.routers}
    assert names == {"province-rt", "national-rt", "hefei-rt"}
    assert {d.name for d in first.state.hosts} == {"province", "hefei", "dr-local", "dr-remote"}
    assert all(d.up for d in first.state.devices)
    # links only where both ends are up: province-rt has its uplinks and hefei's backbone pair, not wuhu's
    out = subprocess.run(["ip", "-n", ns_of(p, "province-rt"), "-o", "link"], capture_output=True, text=True).stdout
    assert "hefei-d" in out and "hefei-v" in out and "up-d" in out and "wuhu-d" not in out


def test_second_up_changes_nothing(small):
    p, _ = small
    def daemons():  # the lab's long-lived processes, by device (containers' own children come and go)
        return {**{r: sorted(routers.pids(p, r)) for r in ("province-rt", "national-rt", "hefei-rt")},
                **{h: hosts.nspawn_pid(p, h) for h in ("province", "hefei", "dr-local", "dr-remote")}}
    before = (daemons(), residue(p), Path(f"/etc/frr/{ns_of(p, 'hefei-rt')}/frr.conf").stat().st_mtime_ns)
    again = lab_up(p, limit="city:hefei")
    assert not again.changed
    assert (daemons(), residue(p), Path(f"/etc/frr/{ns_of(p, 'hefei-rt')}/frr.conf").stat().st_mtime_ns) == before


def test_status_reaches_every_device_over_v4_and_v6(small):
    p, _ = small
    st = status(p)
    assert st is not None and st.all_up
    bad = [(d.name, d.ssh_ipv4, d.ssh_ipv6) for d in st.devices if not (d.ssh_ipv4 and d.ssh_ipv6)]
    assert not bad
    cli = subprocess.run([".venv/bin/egovops", "lab", "status", "--inventory", p.source, "--json"],
                         capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2], timeout=60)
    assert cli.returncode == 0, cli.stderr
    import json
    data = json.loads(cli.stdout)
    assert data["ok"] and len(data["routers"]) == 3 and len(data["hosts"]) == 4


def test_root_namespace_holds_only_the_management_routes(small):
    p, _ = small
    assert Path("/proc/sys/net/ipv4/ip_forward").read_text().strip() == "0"
    assert fabric.root_routes_ok(p) == []
    for fam in ("-4", "-6"):
        routes = subprocess.run(["ip", fam, "-o", "route"], capture_output=True, text=True).stdout
        lab4 = ipaddress.ip_network("198.18.0.0/15")
        for line in routes.splitlines():
            dst = line.split()[0]
            if dst in ("default", "multicast") or dst.startswith("fe80"):
                continue
            net = ipaddress.ip_network(dst, strict=False)
            if net.version == 4 and net.subnet_of(lab4):
                # only management supernets of labs (198.19.0.0/16 here), never a lab data prefix
                assert not net.subnet_of(ipaddress.ip_network("198.18.0.0/16")), line


def test_host_etc_change_stays_in_the_host(small):
    p, _ = small
    node = p.node("hefei")
    machine = Path("/etc/login.defs").read_bytes()
    marker = f"# egovops lab isolation test {os.getpid()}"
    r = as_root(p, node.management.ipv4.ip,
                f"echo '{marker}' >> /etc/login.defs && tail -1 /etc/login.defs && hostname")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() [-1] == "hefei" and marker in r.stdout
    assert Path("/etc/login.defs").read_bytes() == machine
    assert marker.encode() not in Path("/etc/login.defs").read_bytes()


def test_host_manages_its_own_network_only(small):
    """A host may change its network sysctls and firewall (its own namespace), never the machine's."""
    p, _ = small
    node = p.node("hefei")
    sysctl = "/proc/sys/net/ipv4/conf/all/accept_redirects"
    machine = Path(sysctl).read_text()
    flipped = "0" if machine.strip() == "1" else "1"
    r = as_root(p, node.management.ipv6.ip,
                f"echo {flipped} > {sysctl} && cat {sysctl} && nft add table inet egovops_lab_test && nft list tables")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0] == flipped and "egovops_lab_test" in r.stdout
    assert Path(sysctl).read_text() == machine
    if shutil.which("nft"):  # the machine need not have nftables; the table lives in the host's netns anyway
        assert "egovops_lab_test" not in subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout


def test_secrets_are_private(small):
    p, _ = small
    d = secrets_dir(p)
    assert (d.stat().st_mode & 0o777) == 0o700
    for f in ("id_ed25519", "router-credentials.env"):
        assert ((d / f).stat().st_mode & 0o777) == 0o600
    text = (d / "router-credentials.env").read_text()
    assert "EGOVOPS_NET_USERNAME=" in text and "EGOVOPS_NET_PASSWORD=" in text


def test_down_leaves_nothing(small):
    p, _ = small
    pids = lab_pids(p)
    assert pids
    lab_down(p)
    assert residue(p) == {"namespaces": [], "links": [], "mounts": [], "frr_dirs": [], "cgroups": []}
    assert [x for x in pids if procs.alive(x)] == []
    assert lab_state(p) is None
    assert not any("lifelab" in line for line in Path("/proc/mounts").read_text().splitlines())
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=10).stdout
    assert not [ln for ln in netns.splitlines() if ln.startswith(ns_name(p, ""))]
    pid_files = [str(f) for base in (lab_dir(p), Path("/var/run/frr")) if base.exists()
                 for f in base.rglob("*.pid") if base == lab_dir(p) or f.parent.name.startswith(ns_name(p, ""))]
    assert pid_files == []
    lab_down(p)  # idempotent: nothing to do, no error
