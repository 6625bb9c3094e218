"""addressing.yaml: the eight supernets (loopback, p2p, service, management x IPv4/IPv6).

Why checked before anything is derived: every address of the province comes from these prefixes,
so a prefix of the wrong family, outside the lab ranges on a lab, or overlapping another purpose
would put two devices on one address. The industry supernets are checked by
:func:`egovops.model.industry.supernets` against the result.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from egovops.model import addressing as plan
from egovops.model import schema
from egovops.model.checks import Collector

LAB_V4 = ipaddress.IPv4Network("198.18.0.0/15")
LAB_V6 = ipaddress.IPv6Network("fd00::/8")


def in_lab_range(net: plan.IPNetwork) -> bool:
    """Whether ``net`` lies in the lab ranges of its family (198.18.0.0/15, fd00::/8)."""
    return net.subnet_of(LAB_V4) if isinstance(net, ipaddress.IPv4Network) else net.subnet_of(LAB_V6)


def networks(col: Collector, a: schema.AddressingFile, env: str) -> plan.Supernets | None:
    """The parsed supernets, or None when any is unusable (each problem reported, overlaps among the rest too)."""
    nets: dict[str, Any] = {}
    ok = True
    for fam, version in (("ipv4", 4), ("ipv6", 6)):
        for purpose in ("loopback", "p2p", "service", "management"):
            text = getattr(getattr(a, fam), purpose)
            keys = (fam, purpose)
            try:
                net = ipaddress.ip_network(text, strict=True)
            except ValueError as exc:
                col.add(
                    "addressing.yaml",
                    keys,
                    f"bad prefix {text!r}: {exc}",
                    "write a network address, e.g. 198.18.0.0/20",
                    "prefix",
                )
                ok = False
                continue
            if net.version != version:
                col.add(
                    "addressing.yaml",
                    keys,
                    f"{text} is not an {fam} prefix",
                    f"put an {fam} prefix under {fam}",
                    "prefix",
                )
                ok = False
                continue
            if env == "lab" and not in_lab_range(net):
                col.add(
                    "addressing.yaml",
                    keys,
                    f"{net} is outside the lab ranges",
                    "lab addresses come only from 198.18.0.0/15 and fd00::/8",
                    "lab-range",
                )
                ok = False
            nets[purpose + str(version)] = net
    items = list(nets.items())  # check overlaps among the prefixes that parsed, even if others did not
    for i, (ka, na) in enumerate(items):
        for kb, nb in items[i + 1 :]:
            if na.version == nb.version and na.overlaps(nb):
                fam = "ipv4" if na.version == 4 else "ipv6"
                col.add(
                    "addressing.yaml",
                    (fam, kb[:-1]),
                    f"{nb} overlaps {ka[:-1]} {na}",
                    "every purpose needs its own, disjoint supernet",
                    "overlap",
                )
    if not ok:
        return None
    return plan.Supernets(**nets)
