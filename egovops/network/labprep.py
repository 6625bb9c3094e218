"""Linux prerequisites of FRR routers that a routing config depends on, checked (and on a lab, set).

Why: ospfd joins the OSPF multicast group on every OSPF interface with one socket, and Linux caps
a socket's IPv4 multicast memberships at ``net.ipv4.igmp_max_memberships`` (default 20). A router
with more than 20 OSPF interfaces (the provincial core has 35, a city with 11 counties 24) then
silently never hears hellos on the rest: neighbours stay in Init, IPv4 breaks while IPv6 (MLD,
no such cap) works. In production this is part of the FRR host's baseline; in the lab the push
raises it inside each lab router's own namespace (nothing outside the lab is touched) and says so.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from egovops.model.province import Province

SYSCTL = "net.ipv4.igmp_max_memberships"
WANTED = 256


def ospf_interfaces(province: Province, router: str) -> int:
    return sum(1 for link, _, _ in province.links_of(router) if link.area is not None) + 1


def ensure_lab_router_sysctls(province: Province, routers: list[str],
                              log: Callable[[str], None] = lambda m: None) -> list[str]:
    """Raise the multicast-membership cap in each lab router's namespace where it is too low; return changes."""
    from egovops.lab import ns_of

    def one(name: str) -> str | None:
        ns = ns_of(province, name)
        cur = subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-n", SYSCTL], capture_output=True, text=True,
                             timeout=10)
        try:
            value = int(cur.stdout.strip())
        except ValueError:
            return None
        wanted = max(WANTED, ospf_interfaces(province, name))
        if value >= wanted:
            return None
        subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw", f"{SYSCTL}={wanted}"], check=True, timeout=10)
        # memberships that already failed are not retried by a running ospfd: re-join them
        subprocess.run(["vtysh", "-N", ns, "-c", "clear ip ospf interface"], capture_output=True, timeout=20)
        log(f"{name}: {SYSCTL} {value} -> {wanted} (ospfd needs one membership per OSPF interface)")
        return name

    with ThreadPoolExecutor(max_workers=8) as pool:
        return [n for n in pool.map(one, routers) if n]
