"""Where reachability is judged from: the provincial NOC's view of the extranet.

Why an abstraction: in the lab the NOC's extranet vantage is the provincial node host's network
namespace (the controller itself only reaches the management network — lab safety), in
production it is a probe host in the provincial NOC reached over SSH. The push engine and
``net verify`` only ask "is this address reachable from the NOC?", bounded in count and time.
"""

from __future__ import annotations

import ipaddress
import shlex
import subprocess
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from egovops.model.province import Province


class Vantage(Protocol):
    name: str

    def reachable(self, address: str) -> bool: ...


def _ping_argv(address: str, wait_s: int = 1) -> list[str]:
    ip = ipaddress.ip_address(address)       # refuses anything that is not a plain address
    return ["ping", "-6" if ip.version == 6 else "-4", "-n", "-q", "-c", "1", "-W", str(wait_s), str(ip)]


def _addresses(text: str) -> set[str]:
    """The addresses fping printed as alive (one per line; anything else is not an answer)."""
    out: set[str] = set()
    for ln in text.splitlines():
        try:
            out.add(str(ipaddress.ip_address(ln.split()[0])))
        except (ValueError, IndexError):
            continue
    return out


class CommandVantage:
    """Ping from wherever ``prefix`` runs the command: ``ip netns exec NS`` (lab) or ``ssh probe`` (production)."""

    def __init__(self, name: str, prefix: list[str], timeout_s: float = 3.0, anchor: str | None = None) -> None:
        self.name, self.prefix, self.timeout_s = name, list(prefix), timeout_s
        # the router this vantage sits behind (its probes leave through it), when known: the push engine
        # orders and holds a wave by distance from it (None: every device waits for the whole wave)
        self.anchor = anchor

    def reachable(self, address: str) -> bool:
        try:
            return subprocess.run(self.prefix + _ping_argv(address), stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, timeout=self.timeout_s).returncode == 0
        except subprocess.TimeoutExpired:
            return False

    def reachable_many(self, addresses: Iterable[str], workers: int = 16) -> dict[str, bool]:
        """Every address at once: ONE ``fping`` where the vantage runs (else one ping each, in parallel).

        Why: a wave of 123 routers has 246 loopbacks; one ``ip netns exec … ping`` per address cost
        ~0.8 s each on the loaded lab machine (1558 of them in one fleet push: the largest share of the
        verify time). fping sends to all of them together and prints the ones that answered.
        """
        addrs = list(dict.fromkeys(str(ipaddress.ip_address(a)) for a in addresses))
        if not addrs:
            return {}
        argv = self.prefix + ["fping", "-a", "-q", "-r", "2", "-t", "700", "-i", "1", *addrs]
        try:
            res = subprocess.run(argv, capture_output=True, text=True,
                                 timeout=self.timeout_s + 3 * len(addrs) * 0.01 + 3)
        except subprocess.TimeoutExpired:
            return dict.fromkeys(addrs, False)
        except FileNotFoundError:
            res = None
        if res is None or res.returncode not in (0, 1):   # no fping there (127), bad argument (>= 2)
            with ThreadPoolExecutor(max_workers=max(1, min(workers, len(addrs)))) as pool:
                return dict(zip(addrs, pool.map(self.reachable, addrs), strict=True))
        alive = _addresses(res.stdout)        # parsed once (per address it was 60k parses for 246 loopbacks)
        return {a: a in alive for a in addrs}

    def describe(self) -> str:
        return f"{self.name} ({shlex.join(self.prefix)})"


class NetnsVantage(CommandVantage):
    """The lab: ping from inside a namespace (the provincial node host's), never from the root namespace."""

    def __init__(self, netns: str, name: str = "provincial NOC", anchor: str | None = None) -> None:
        super().__init__(name, ["ip", "netns", "exec", netns], anchor=anchor)
        self.netns = netns


class SshVantage(CommandVantage):
    """Production: ping from a NOC probe host over SSH (key-based, batch mode, bounded)."""

    def __init__(self, host: str, user: str = "egovops", name: str = "provincial NOC probe",
                 anchor: str | None = None) -> None:
        super().__init__(name, ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=3", f"{user}@{host}"], 6.0,
                         anchor=anchor)


def reach_many(vantage: Vantage, addresses: Iterable[str], workers: int = 16) -> dict[str, bool]:
    """Reachability of every address: the vantage's batch probe where it has one, else one check each."""
    addrs = list(dict.fromkeys(addresses))
    batch = getattr(vantage, "reachable_many", None)
    if callable(batch):
        return dict(batch(addrs, workers))
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(addrs) or 1))) as pool:
        return dict(zip(addrs, pool.map(vantage.reachable, addrs), strict=True))


def lab_node_vantages(province: Province) -> tuple[list[str], Callable[[str], NetnsVantage]]:
    """The node matrix of a running lab: the cloud nodes whose hosts are up, and each one's own namespace."""
    from egovops.lab import lab_state, ns_of

    st = lab_state(province)
    cloud = {n.slug for n in province.cloud_nodes}
    nodes = [h.name for h in (st.hosts if st else []) if h.up and h.name in cloud]
    return nodes, lambda n: NetnsVantage(ns_of(province, n), n)


def lab_vantage(province: Province) -> NetnsVantage:
    """The provincial node host's namespace of a running lab (the node of kind ``provincial``)."""
    from egovops.lab import ns_of

    prov = next(n for n in province.nodes if n.kind == "provincial")
    return NetnsVantage(ns_of(province, prov.slug), f"provincial NOC ({prov.slug})", anchor=prov.router)
