"""Huawei VRP port numbers of the stable ids in the address plan, and the line card that bounds them.

Why in the model: a VRP router's ports are numbered by each link's stable id (a county's or an
industry cloud's link slot, a node's LAN index, an extra link's id; see
:func:`egovops.network.render.vrp_ports`), so the 48-port card bounds those ids. Validation
(:mod:`egovops.model.checks.ports`) refuses an id whose port would not exist, naming the file, key
and line; the renderer numbers ports with these same functions against the same card size and
refuses again (an intent built by hand). The model imports nothing of the renderer, so the rule
lives here, once.
"""

from __future__ import annotations

# a GE sub-card's ports 1..48, as the 48-port GE cards of Huawei's NE/CE/S lines
VRP_CARD_PORTS = 48
# the sub-cards of slot 0, one per kind of link (the backbone's video plane on BACKBONE_CARD + 1)
WAN_CARD, LAN_CARD, BACKBONE_CARD, EXTRA_CARD = 0, 1, 2, 4


def name(card: int, port: int) -> str:
    """The VRP interface name of a port (what the rendered config, ``net diff`` and cabling use)."""
    return f"GigabitEthernet0/{card}/{port}"


def wan_port(link_slot: int) -> int:
    """Card 0/0, a WAN link of the router's own site: both ends share the number (uplinks 1-2,
    county or industry cloud k: 3+2k data, 4+2k video)."""
    return link_slot + 1


def lan_port(lan_index: int) -> int:
    """Card 0/1, an access LAN: its index (the node id, 0 = the provincial cloud, or the cloud id) + 1."""
    return lan_index + 1


def backbone_port(city_id: int) -> int:
    """Cards 0/2 (data) and 0/3 (video), the provincial core's backbone to a city: the city id
    (1..30 by the plan, always on the card)."""
    return city_id


def extra_port(extra_id: int) -> int:
    """Card 0/4, an extra link of links.yaml: its id."""
    return extra_id


def on_card(port: int) -> bool:
    return 1 <= port <= VRP_CARD_PORTS
