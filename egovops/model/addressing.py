"""The dual-stack address plan: a pure function of the supernets and stable ids.

Choices (documented in README "Address plan"):

* Point-to-point links use /31 (RFC 3021) and /127 (RFC 6164): compact, no wasted addresses,
  and both families index the same way. The parent (upstream) end takes the even address.
* A *site* is the provincial core (0) or a city (its node id). A site has 128 *slots*:
  slot 1 is the site's router, slot 1+<county id> a county router, slot 127 of site 0 the
  external (national) peer. Loopback and management index = site*128 + slot.
* Links are indexed site*256 + link slot: the two uplink planes take slots 0/1, county k's
  planes 2+2k and 3+2k; extra links (links.yaml) live in site 31, slot = their id.
* Node service LANs are the node id's /24 and /64 of the service supernets. The router takes
  the first address, the node host the tenth.
* Hosts' management addresses are in site 31 (index 3968 + 1 + node id); the NOC controller
  (the provincial NOC, where the CLI, Ansible, netmiko and Prometheus run) is index 3968.

Because every address depends only on its own object's ids, adding a county or a node never
renumbers anything that existed (property-tested in tests/unit/test_model_addressing.py).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TypeAlias, overload

IPNetwork: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network
IPInterface: TypeAlias = ipaddress.IPv4Interface | ipaddress.IPv6Interface

SLOTS_PER_SITE = 128
LINK_SLOTS_PER_SITE = 256
MAX_SITES = 32
HOST_SITE = 31
EXTRA_LINK_SITE = 31
EXTERNAL_SLOT = 127
PLANES = ("data", "video")
HOST_OFFSET_IN_LAN = 10


class PlanCapacityError(ValueError):
    """An index does not fit in its supernet: the supernet is too small for the inventory."""


def _nth(net: IPNetwork, index: int) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    if index < 0 or index >= net.num_addresses:
        raise PlanCapacityError(f"index {index} does not fit in {net} ({net.num_addresses} addresses)")
    return net.network_address + index


def device_index(site: int, slot: int) -> int:
    if not 0 <= site < MAX_SITES or not 0 <= slot < SLOTS_PER_SITE:
        raise PlanCapacityError(f"site {site} slot {slot} outside the plan (sites < {MAX_SITES}, slots < {SLOTS_PER_SITE})")
    return site * SLOTS_PER_SITE + slot


def host_index(node_id: int) -> int:
    return device_index(HOST_SITE, 1 + node_id)


CONTROLLER_INDEX = HOST_SITE * SLOTS_PER_SITE


def link_index(site: int, link_slot: int) -> int:
    if not 0 <= site < MAX_SITES or not 0 <= link_slot < LINK_SLOTS_PER_SITE:
        raise PlanCapacityError(f"link site {site} slot {link_slot} outside the plan")
    return site * LINK_SLOTS_PER_SITE + link_slot


def uplink_slot(plane: str) -> int:
    return PLANES.index(plane)


def county_link_slot(county_id: int, plane: str) -> int:
    return 2 + 2 * county_id + PLANES.index(plane)


def address(net: IPNetwork, index: int) -> IPInterface:
    """Host address ``index`` of ``net`` as a single-address interface (/32 or /128)."""
    addr = _nth(net, index)
    return ipaddress.ip_interface(f"{addr}/{addr.max_prefixlen}")


def in_net(net: IPNetwork, index: int) -> IPInterface:
    """Host address ``index`` of ``net`` with the supernet's own prefix length (e.g. management)."""
    return ipaddress.ip_interface(f"{_nth(net, index)}/{net.prefixlen}")


def p2p_pair(net: IPNetwork, index: int) -> tuple[IPInterface, IPInterface]:
    """The two ends of point-to-point link ``index``: a /31 (IPv4) or /127 (IPv6)."""
    plen = net.max_prefixlen - 1
    base = _nth(net, 2 * index)
    _nth(net, 2 * index + 1)
    return (
        ipaddress.ip_interface(f"{base}/{plen}"),
        ipaddress.ip_interface(f"{base + 1}/{plen}"),
    )


@overload
def service_lan(net: ipaddress.IPv4Network, node_id: int) -> ipaddress.IPv4Network: ...
@overload
def service_lan(net: ipaddress.IPv6Network, node_id: int) -> ipaddress.IPv6Network: ...


def service_lan(net: IPNetwork, node_id: int) -> IPNetwork:
    """The node's service LAN: the node id's /24 (IPv4) or /64 (IPv6) of the service supernet."""
    plen = 24 if net.version == 4 else 64
    if plen < net.prefixlen:
        raise PlanCapacityError(f"service supernet {net} is smaller than one /{plen}")
    count = 2 ** (plen - net.prefixlen)
    if node_id >= count:
        raise PlanCapacityError(f"node id {node_id} does not fit in {net} ({count} /{plen} LANs)")
    return ipaddress.ip_network((int(net.network_address) + node_id * 2 ** (net.max_prefixlen - plen), plen))


def lan_address(lan: IPNetwork, offset: int) -> IPInterface:
    return ipaddress.ip_interface(f"{lan.network_address + offset}/{lan.prefixlen}")


@dataclass(frozen=True)
class Supernets:
    """The eight supernets of an inventory (loopback, p2p, service, management x v4/v6)."""

    loopback4: ipaddress.IPv4Network
    p2p4: ipaddress.IPv4Network
    service4: ipaddress.IPv4Network
    management4: ipaddress.IPv4Network
    loopback6: ipaddress.IPv6Network
    p2p6: ipaddress.IPv6Network
    service6: ipaddress.IPv6Network
    management6: ipaddress.IPv6Network

    def by_family(self, version: int) -> dict[str, IPNetwork]:
        suffix = "4" if version == 4 else "6"
        return {k: getattr(self, k + suffix) for k in ("loopback", "p2p", "service", "management")}

    def all(self) -> list[IPNetwork]:
        return [*self.by_family(4).values(), *self.by_family(6).values()]


# ---- industry clouds (the N of 1+16+N) -----------------------------------------------------------
# They hang off the provincial core (site 0), whose slots 2..126 no county uses: industry cloud k
# (1..62) takes router slot 1+k, host management slot 64+k and core links 2+2k (+1 for the video
# plane). Its service LAN is the k-th /26 (IPv4) or /64 (IPv6) of the ``industry`` supernet in
# addressing.yaml, apart from the node LANs. Every index depends only on k: adding a cloud
# renumbers nothing.
INDUSTRY_MAX_ID = 62
INDUSTRY_HOST_SLOT_BASE = 64
INDUSTRY_LAN_LEN = {4: 26, 6: 64}


def industry_router_index(cloud_id: int) -> int:
    return device_index(0, 1 + cloud_id)


def industry_host_index(cloud_id: int) -> int:
    return device_index(0, INDUSTRY_HOST_SLOT_BASE + cloud_id)


def industry_link_index(cloud_id: int, plane: str) -> int:
    return link_index(0, 2 + 2 * cloud_id + PLANES.index(plane))


def industry_lan(net: IPNetwork, cloud_id: int) -> IPNetwork:
    """Industry cloud ``cloud_id``'s service LAN: its /26 (IPv4) or /64 (IPv6) of the industry supernet."""
    plen = INDUSTRY_LAN_LEN[net.version]
    if plen < net.prefixlen:
        raise PlanCapacityError(f"industry supernet {net} is smaller than one /{plen}")
    count = 2 ** (plen - net.prefixlen)
    if cloud_id >= count:
        raise PlanCapacityError(f"industry cloud id {cloud_id} does not fit in {net} ({count} /{plen} LANs)")
    return ipaddress.ip_network((int(net.network_address) + cloud_id * 2 ** (net.max_prefixlen - plen), plen))
