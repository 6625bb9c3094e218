"""Lab routers behave like routers an operator logs in to: netmiko cisco_ios over the management
network (v4 password, v6 key), the router's own prompt, config saved to its pathspace, interfaces
named and addressed as the model says, traffic crossing a link.
"""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest

from egovops.lab import ns_of, secrets_dir
from egovops.lab.secrets import router_credentials

pytestmark = pytest.mark.lab


def test_netmiko_cisco_ios_connect_configure_save(testlab):
    from netmiko import ConnectHandler
    p, _ = testlab
    r = p.router("hefei-rt")
    user, password = router_credentials(p)
    desc = f"egovops-test-{uuid.uuid4().hex[:8]}"
    conn = ConnectHandler(device_type="cisco_ios", host=str(r.management.ipv4.ip), username=user, password=password,
                          timeout=20, conn_timeout=10)
    try:
        assert conn.find_prompt() == "hefei-rt#"
        out = conn.send_config_set(["interface up-d", f" description {desc}"])
        assert "%" not in out, out  # vtysh reports errors with %
        save = conn.save_config()
        assert "[OK]" in save or "saved" in save.lower(), save
        assert desc in conn.send_command("show running-config")
    finally:
        conn.disconnect()
    saved = Path(f"/etc/frr/{ns_of(p, 'hefei-rt')}/frr.conf").read_text()
    assert desc in saved and "hostname hefei-rt" in saved


def test_router_login_by_key_over_ipv6(testlab):
    from netmiko import ConnectHandler
    p, _ = testlab
    r = p.router("chuzhou-rt")
    user, _ = router_credentials(p)
    conn = ConnectHandler(device_type="cisco_ios", host=str(r.management.ipv6.ip), username=user,
                          use_keys=True, key_file=str(secrets_dir(p) / "id_ed25519"), timeout=20, conn_timeout=10)
    try:
        assert conn.find_prompt() == "chuzhou-rt#"
        assert "FRRouting" in conn.send_command("show version")
    finally:
        conn.disconnect()


def test_interfaces_follow_the_model_and_links_carry_traffic(testlab):
    p, _ = testlab
    ns = ns_of(p, "hefei-rt")
    brief = subprocess.run(["vtysh", "-N", ns, "-c", "show interface brief"], capture_output=True, text=True, timeout=20).stdout
    for _link, local, remote in p.links_of("hefei-rt"):
        if remote.device in {d.name for d in testlab.state.devices}:
            assert local.ifname in brief
            assert str(local.address.ipv4.ip) in brief
    # loopback on lo
    assert str(p.router("hefei-rt").loopback.ipv4.ip) in brief
    # a backbone link carries traffic both families (province-rt end of hefei's data plane)
    link = next(line for line in p.links if line.a.device == "province-rt" and line.b.device == "hefei-rt" and line.plane == "data")
    for addr in (link.a.address.ipv4.ip, link.a.address.ipv6.ip):
        r = subprocess.run(["ip", "netns", "exec", ns, "ping", "-c", "1", "-W", "2", str(addr)],
                           capture_output=True, text=True, timeout=10)
        assert r.returncode == 0, r.stdout + r.stderr
    # the host reaches its gateway over ext0
    node = p.node("hefei")
    r = subprocess.run(["ip", "netns", "exec", ns_of(p, "hefei"), "ping", "-c", "1", "-W", "2", str(node.gateway.ipv6.ip)],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stdout + r.stderr


def test_routers_forward_hosts_and_root_do_not(testlab):
    p, _ = testlab
    def fwd(ns: str) -> str:
        return subprocess.run(["ip", "netns", "exec", ns, "cat", "/proc/sys/net/ipv4/ip_forward"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
    assert fwd(ns_of(p, "hefei-rt")) == "1"
    assert fwd(ns_of(p, "hefei")) == "0"
    assert Path("/proc/sys/net/ipv4/ip_forward").read_text().strip() == "0"
