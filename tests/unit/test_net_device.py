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
