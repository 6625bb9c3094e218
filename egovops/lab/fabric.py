"""The lab's cables: network namespaces, one veth pair per inventory link, the management network.

* One namespace per router and per host (``<prefix>-<device>``).
* One veth pair per link whose two ends are both up, created directly inside the two namespaces
  (no root-side name, so nothing can clash with another lab), named exactly as the model says
  (``Link.a/b.ifname``) and addressed v4 + v6 from the address plan (IPv6 ``nodad``).
* Router loopbacks: the /32 and /128 go on the namespace's ``lo`` (the kernel here has no dummy
  interfaces; ``lo`` is what FRR treats as a loopback anyway, always up, never flaps).
* Management: a bridge ``<prefix>-mgmt`` in the root namespace carrying the controller's
  addresses, one veth per device (root side ``<prefix>-m<index>``, device side ``mgmt0``). This is
  the only part of the lab in the root namespace, and its connected routes are the only routes the
  lab adds there. The root namespace does not forward (checked, never changed).
"""

from __future__ import annotations

import ipaddress
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from egovops.lab.paths import bridge_name, mgmt_veth, ns_name, prefix
from egovops.lab.sh import LabError, ip_batch, run
from egovops.model.province import DualStack, Province

NETNS_DIR = Path("/run/netns")


def mgmt_index(province: Province, mgmt: DualStack) -> int:
    """A device's number on the management network (its v4 management address index): unique per lab."""
    return int(mgmt.ipv4.ip) - int(province.noc.management_v4.network_address)


def _addr_lines(dev: str, ds: DualStack, *, v4_override: str | None = None) -> list[str]:
    return [f"addr replace {v4_override or ds.ipv4} dev {dev}", f"addr replace {ds.ipv6} dev {dev} nodad"]


def check_no_forwarding() -> None:
    """Refuse to build a lab on a machine that forwards: lab prefixes must never be routed out."""
    for path in ("/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv6/conf/all/forwarding"):
        try:
            if Path(path).read_text().strip() != "0":
                raise LabError(f"{path} is not 0: this machine forwards packets; the lab refuses to run "
                               "(lab traffic must never leave its namespaces). Set it to 0 first.")
        except FileNotFoundError:
            pass


def check_management_prefixes(province: Province) -> None:
    """Refuse a management network that overlaps a route the root namespace already has on another
    device (another lab's management network, or the machine's own): the controller could not tell
    the two apart, and SSH to a lab device would reach the wrong machine."""
    import json as _json
    mine = bridge_name(province)
    for net, fam in ((province.noc.management_v4, "-4"), (province.noc.management_v6, "-6")):
        out = run(["ip", "-j", fam, "route", "show"], timeout=10, check=False).stdout or "[]"
        for route in _json.loads(out):
            dst, dev = route.get("dst", ""), route.get("dev", "")
            if dst in ("default", "") or dst.startswith("fe80") or dst.startswith("ff00") or dev == mine:
                continue
            try:
                other = ipaddress.ip_network(dst, strict=False)
            except ValueError:
                continue
            if other.version == net.version and other.overlaps(net):
                raise LabError(f"management network {net} of lab {province.meta.name} overlaps {other} on {dev} "
                               f"(another lab or the machine): give the inventory its own management prefix in addressing.yaml")


def existing_namespaces() -> set[str]:
    return {p.name for p in NETNS_DIR.iterdir()} if NETNS_DIR.exists() else set()


def lab_namespaces(province: Province) -> set[str]:
    """Namespaces on the machine that carry this lab's prefix (whatever state files say)."""
    pre = prefix(province) + "-"
    return {n for n in existing_namespaces() if n.startswith(pre)}


def create_namespaces(names: list[str]) -> None:
    have = existing_namespaces()
    ip_batch([f"netns add {n}" for n in names if n not in have])


def build(province: Province, routers: list[str], hosts: list[str], workers: int = 4) -> dict[str, int]:
    """Create namespaces, links, addresses and the management network for the given devices (idempotent)."""
    check_no_forwarding()
    check_management_prefixes(province)
    up = set(routers) | set(hosts)
    ns = {d: ns_name(province, d) for d in up}
    create_namespaces(list(ns.values()))
    root: list[str] = []
    per_ns: dict[str, list[str]] = {d: ["link set lo up"] for d in up}
    for r in routers:
        rt = province.router(r)
        per_ns[r] += [f"addr replace {rt.loopback.ipv4} dev lo", f"addr replace {rt.loopback.ipv6} dev lo"]

    links = 0
    for link in province.managed_links:    # the province's links and its lab's industry clouds'
        if link.a.device not in up or link.b.device not in up:
            continue
        links += 1
        a_ns, b_ns = ns[link.a.device], ns[link.b.device]
        if not _has_link(a_ns, link.a.ifname):
            root.append(f"link add name {link.a.ifname} netns {a_ns} type veth peer name {link.b.ifname} netns {b_ns}")
        for end, dev in ((link.a, link.a.device), (link.b, link.b.device)):
            per_ns[dev] += _addr_lines(end.ifname, end.address)
            per_ns[dev].append(f"link set {end.ifname} up")

    # management network: bridge in the root namespace, one veth per device
    br = bridge_name(province)
    if not Path(f"/sys/class/net/{br}").exists():
        root.append(f"link add name {br} type bridge")
    ctl = province.noc.controller
    root += _addr_lines(br, ctl)
    root.append(f"link set {br} up")
    for d in up:
        mgmt = province.router(d).management if d in routers else province.node(d).management
        veth = mgmt_veth(province, mgmt_index(province, mgmt))
        if not Path(f"/sys/class/net/{veth}").exists():
            if _has_link(ns[d], "mgmt0"):  # half-made by an interrupted run: its peer is gone, start over
                per_ns[d].insert(0, "link del mgmt0")
            root.append(f"link add name {veth} type veth peer name mgmt0 netns {ns[d]}")
        root += [f"link set {veth} master {br}", f"link set {veth} up"]
        per_ns[d] += _addr_lines("mgmt0", mgmt) + ["link set mgmt0 up"]

    for d in hosts:
        node = province.node(d)
        per_ns[d] += [f"route replace default via {node.gateway.ipv4.ip}",
                      f"route replace default via {node.gateway.ipv6.ip}"]

    # stale mgmt0 removal must happen before the root batch re-creates the pair
    for d, lines in per_ns.items():
        if lines and lines[0] == "link del mgmt0":
            ip_batch([lines.pop(0)], netns=ns[d])
    ip_batch(root)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda d: ip_batch(per_ns[d], netns=ns[d]), sorted(up)))
    return {"namespaces": len(up), "links": links}


def _has_link(netns: str, ifname: str) -> bool:
    return run(["ip", "-n", netns, "link", "show", "dev", ifname], check=False, timeout=10).returncode == 0


def teardown(province: Province) -> dict[str, int]:
    """Delete every namespace with this lab's prefix (their veths go with them) and the management bridge.

    Deleting a namespace destroys both ends of every veth inside it and the root-side management
    veths with their peers. Called only after every process in the namespaces has been stopped.
    """
    names = sorted(lab_namespaces(province))
    ip_batch([f"netns del {n}" for n in names], force=True)
    leftovers = [p.name for p in Path("/sys/class/net").iterdir() if p.name.startswith(prefix(province) + "-")]
    ip_batch([f"link del {n}" for n in leftovers], force=True)
    still = lab_namespaces(province)
    if still:
        raise LabError(f"namespaces still present after delete: {', '.join(sorted(still))}")
    return {"namespaces": len(names), "links": len(leftovers)}


def root_routes_ok(province: Province) -> list[str]:
    """Routes the lab put in the root namespace that are not the management prefix (should be none)."""
    bad = []
    br = bridge_name(province)
    for fam in ("-4", "-6"):
        out = run(["ip", fam, "-o", "route", "show", "dev", br], check=False, timeout=10).stdout
        for line in out.splitlines():
            dst = line.split()[0]
            if dst.startswith("fe80:") or dst in ("multicast",):
                continue
            net = ipaddress.ip_network(dst, strict=False)
            if net not in (province.noc.management_v4, province.noc.management_v6):
                bad.append(line.strip())
    return bad
