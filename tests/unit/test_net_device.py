"""Device-output parsing with canned FRR 8.4 output: effective config (kernel addresses), adjacency state."""

from __future__ import annotations

import json

import pytest

from egovops.network import confdiff as cd
from egovops.network.device import frr_effective_config, frr_state

pytestmark = pytest.mark.unit

RUN = """Building configuration...

Current configuration:
!
frr version 8.4.4
hostname r1
!
interface up-d
 description backbone data to province-rt r1-d
 ip ospf area 0
exit
!
end
"""

IFACES = {
    "lo": {"ipAddresses": [{"address": "127.0.0.1/8"}, {"address": "198.18.5.1/32"}, {"address": "fd00:34:0:1::501/128"},
                           {"address": "::1/128"}]},
    "up-d": {"ipAddresses": [{"address": "198.18.84.1/31"}, {"address": "fe80::1/64"}]},
    "dormant": {},
}


def test_effective_config_adds_kernel_addresses_but_not_link_local_or_host_loopback():
    text = frr_effective_config(RUN, json.dumps(IFACES))
    tree = cd.parse(text, cd.FRR)
    assert set(tree.children["interface up-d"].children) == {
        "description backbone data to province-rt r1-d", "ip ospf area 0", "ip address 198.18.84.1/31"}
    assert set(tree.children["interface lo"].children) == {"ip address 198.18.5.1/32",
                                                           "ipv6 address fd00:34:0:1::501/128"}
    assert "interface dormant" not in tree.children
    # so a rendered config carrying the same addresses has nothing to add, and a rollback nothing to strip
    want = "interface lo\n ip address 198.18.5.1/32\n ipv6 address fd00:34:0:1::501/128\nexit\n"
    assert not [c for c in cd.diff(text, want, cd.FRR).changes if c.path == ("interface lo",)]


def test_effective_config_fails_closed_on_unreadable_interface_addresses():
    """Without the kernel's addresses the diff would strip or re-add addresses FRR did not put there."""
    import pytest

    from egovops.network.device import DeviceError

    for bad in ("not json", "", "% Unknown command", "[]"):
        with pytest.raises(DeviceError, match="interface addresses not readable"):
            frr_effective_config(RUN, bad)
    assert frr_effective_config(RUN, "{}") == RUN


def test_state_from_frr_json():
    out = {
        "show ip ospf neighbor json": {"neighbors": {"198.18.0.1": [
            {"nbrState": "Full/-", "state": "Full/-", "ifaceName": "up-d:198.18.84.1"}],
            "198.18.0.2": [{"state": "Init/-", "ifaceName": "up-v:198.18.84.3"}]}},
        "show ipv6 ospf6 neighbor json": {"neighbors": [
            {"neighborId": "198.18.0.1", "state": "Full", "interfaceName": "up-d"},
            {"neighborId": "198.18.0.1", "state": "ExStart", "interfaceName": "up-v"}]},
        "show bfd peers json": [{"peer": "198.18.84.0", "interface": "up-d", "status": "up"},
                                {"peer": "fe80::2", "interface": "up-d", "status": "up"},
                                {"peer": "198.18.84.2", "interface": "up-v", "status": "down"}],
        "show bgp summary json": {"ipv4Unicast": {"peers": {"198.18.64.0": {"state": "Established"},
                                                            "198.18.64.2": {"state": "Active"}}},
                                  "ipv6Unicast": {"peers": {"fd00:34:0:2::": {"state": "Established"}}}},
    }
    st = frr_state(lambda c: json.dumps(out[c]))
    assert st["ospf"] == {"198.18.0.1@up-d"}
    assert st["ospf6"] == {"198.18.0.1@up-d"}
    assert st["bfd"] == {"ipv4@up-d", "ipv6@up-d"}
    assert st["bgp"] == {"198.18.64.0", "fd00:34:0:2::"}


def test_host_keys_parsed_once_and_only_the_targets_keys_trusted(tmp_path):
    """The shared known_hosts parse (one per file version) gives each login only its host's keys, RejectPolicy kept."""
    import types

    import paramiko

    from egovops.network import device

    k1, k2 = paramiko.ECDSAKey.generate(), paramiko.ECDSAKey.generate()
    kh = tmp_path / "known_hosts"
    kh.write_text(f"198.18.0.1 {k1.get_name()} {k1.get_base64()}\n[198.18.0.2]:2222 {k2.get_name()} {k2.get_base64()}\n")
    assert device.known_host_keys(str(kh)) is device.known_host_keys(str(kh))      # parsed once
    build = device._verified_class("cisco_ios").__dict__["_build_ssh_client"]

    def client(host: str, port: int) -> paramiko.SSHClient:
        ns = types.SimpleNamespace(_get_ssh_client_instance=paramiko.SSHClient, alt_key_file=str(kh),
                                   alt_host_keys=True, system_host_keys=False, host=host, port=port,
                                   key_policy=paramiko.RejectPolicy())
        return build(ns)

    c = client("198.18.0.1", 22)
    assert c.get_host_keys().lookup("198.18.0.1")[k1.get_name()] == k1
    assert c.get_host_keys().lookup("[198.18.0.2]:2222") is None                   # another host's key: not given
    assert isinstance(c._policy, paramiko.RejectPolicy)
    assert client("198.18.0.2", 2222).get_host_keys().lookup("[198.18.0.2]:2222")[k2.get_name()] == k2
    assert len(client("198.18.0.9", 22).get_host_keys()) == 0                      # unknown host: nothing trusted
    kh.write_text(f"198.18.0.1 {k2.get_name()} {k2.get_base64()}\n")                # a changed file is re-read
    assert client("198.18.0.1", 22).get_host_keys().lookup("198.18.0.1")[k2.get_name()] == k2
