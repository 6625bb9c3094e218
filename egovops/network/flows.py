"""``egovops net flows``: the catalogue's cross-node calls proven on the wire (issue 13).

Why real TCP: the derived firewall and NetworkPolicies say which node may call which service; only a
connection between two hosts shows that the routers carry it and the callee's host firewall admits
it — and that a flow the catalogue does not list is dropped. In the lab, for every catalogue call
between hosts that are up (zones.yaml ``calls``, industry ``consumes``; both families), the caller's
host namespace connects from its service address to the callee's on the called port; and for a
bounded, deterministic sample of node pairs the callee's firewall does not admit on those ports, the
same connection must time out (dropped), never connect nor be refused.

Listeners: lab hosts do not run the platform services, so for the duration of the run a small
listener is started in the callee's namespace (``ip netns exec``) on its service addresses and
the port, and stopped by its PID; a port something already serves is used as it is. Every
connection has a timeout (2 s by default) and the listeners a deadline, so a run is bounded.

Granularity: a lab host stands for a whole node, so a denied flow is a (caller node, callee node,
port) the callee's firewall does not admit; two services of one node sharing a port are told apart
by the NetworkPolicies (``stacks preview``), not here.

Production: refused (exit 2). Its equivalent is the same probe run from a host of each caller node
over SSH against the callees' ingress, which needs listeners the operator owns: not built.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from egovops.model.province import DualStack, Province, matches
from egovops.render.host_firewall import admits, host_rules, node_calls

FAMILIES = ("ipv4", "ipv6")
MAX_SAMPLE = 64


class FlowInputError(Exception):
    """Bad input or a target this command cannot act on (exit 2); nothing was started."""


@dataclass(frozen=True)
class FlowRequest:
    province: Province
    limit: str | None = None
    sample: int = 8               # denied node pairs to try (each in both families)
    timeout_s: float = 2.0        # per connection
    workers: int = 16             # connections in flight per caller host


@dataclass(frozen=True)
class Probe:
    kind: str        # "allowed" (a catalogue call) or "denied" (not admitted by the callee's firewall)
    caller: str
    callee: str
    label: str       # the call(s), or "not in the catalogue"
    family: str
    source: str
    target: str
    port: int


@dataclass
class FlowCheck:
    probe: Probe
    outcome: str     # connected | timeout | refused | unreachable | error
    detail: str
    ms: float

    @property
    def result(self) -> str:
        """allowed-and-works ("works"), denied-and-blocked ("blocked"), or "broken"."""
        if self.probe.kind == "allowed":
            return "works" if self.outcome == "connected" else "broken"
        return "blocked" if self.outcome == "timeout" else "broken"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self.probe), "outcome": self.outcome, "detail": self.detail, "ms": round(self.ms, 1),
                "result": self.result}


@dataclass
class FlowPlan:
    allowed: list[Probe]
    denied: list[Probe]
    candidates: int                  # denied (pair, port) candidates the sample was drawn from
    not_tested: list[str]            # catalogue calls with an end not selected or not up


@dataclass
class FlowReport:
    inventory: str
    checks: list[FlowCheck] = field(default_factory=list)
    listeners: list[dict[str, Any]] = field(default_factory=list)
    not_tested: list[str] = field(default_factory=list)
    candidates: int = 0
    seconds: float = 0.0
    error: str = ""

    @property
    def ok(self) -> bool:
        allowed = [c for c in self.checks if c.probe.kind == "allowed"]
        return not self.error and bool(allowed) and all(c.result != "broken" for c in self.checks)

    def counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {"allowed": {"works": 0, "broken": 0}, "denied": {"blocked": 0, "broken": 0}}
        for c in self.checks:
            out[c.probe.kind][c.result] += 1
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"inventory": self.inventory, "ok": self.ok, "error": self.error, "seconds": round(self.seconds, 2),
                "summary": self.counts(), "denied_candidates": self.candidates, "not_tested": self.not_tested,
                "listeners": self.listeners, "checks": [c.as_dict() for c in self.checks]}


# ------------------------------------------------------------------------------------------ plan (pure)
def _address(province: Province, slug: str) -> DualStack | None:
    for n in province.nodes:
        if n.slug == slug:
            return n.address
    for c in province.industry:
        if c.slug == slug:
            return c.address
    return None


def _ip(ds: DualStack, family: str) -> str:
    return str((ds.ipv4 if family == "ipv4" else ds.ipv6).ip)


def _rules(province: Province, slug: str) -> list[dict[str, Any]] | None:
    for n in province.nodes:
        if n.slug == slug:
            return host_rules(province, n)
    return None  # not a node of ours (an industry cloud's host): its firewall is its department's


def plan(province: Province, hosts: list[str], sample: int, selected: set[str] | None = None) -> FlowPlan:
    """Probes among ``hosts`` (up): every catalogue call in both families, and ``sample`` node pairs
    (both families) the callee's derived firewall does not admit on a called port. With ``selected``
    (``--limit``): the calls with an end among them, and denied flows toward them only."""
    if not 0 <= sample <= MAX_SAMPLE:
        raise FlowInputError(f"--sample {sample}: between 0 and {MAX_SAMPLE} denied node pairs")
    up = set(hosts)
    sel = up if selected is None else up & selected

    def touches(a: str, b: str) -> bool:
        return a in sel or b in sel
    calls = node_calls(province)
    grouped: dict[tuple[str, str, int], list[str]] = {}
    not_tested = []
    for c in calls:
        if not touches(c.caller, c.callee):
            continue
        if c.caller in up and c.callee in up:
            grouped.setdefault((c.caller, c.callee, c.port), []).append(c.label)
        else:
            not_tested.append(c.label)
    allowed = []
    for (caller, callee, port), labels in sorted(grouped.items()):
        src, dst = _address(province, caller), _address(province, callee)
        if src is None or dst is None:
            not_tested += labels
            continue
        for fam in FAMILIES:
            allowed.append(Probe("allowed", caller, callee, "; ".join(sorted(labels)), fam, _ip(src, fam), _ip(dst, fam),
                                 port))
    ports = sorted({c.port for c in calls})
    cands = []
    for callee in sorted(sel):   # denied: toward selected hosts only (theirs are the firewalls a limited run hardened)
        rules, dst = _rules(province, callee), _address(province, callee)
        if rules is None or dst is None:
            continue
        for caller in sorted(up - {callee}):
            src = _address(province, caller)
            if src is None:
                continue
            for port in ports:
                fams = [f for f in FAMILIES if not admits(rules, province, _ip(src, f), port)]
                if fams:
                    cands.append((caller, callee, port, fams))
    # deterministic and spread over the pairs: order by a hash of (caller, callee, port)
    cands.sort(key=lambda x: hashlib.sha256(f"{x[0]}>{x[1]}:{x[2]}".encode()).hexdigest())
    denied = []
    for caller, callee, port, fams in cands[:sample]:
        src, dst = _address(province, caller), _address(province, callee)
        assert src is not None and dst is not None
        denied += [Probe("denied", caller, callee, "not in the catalogue", f, _ip(src, f), _ip(dst, f), port) for f in fams]
    return FlowPlan(allowed, denied, len(cands), sorted(set(not_tested)))


# ------------------------------------------------------------------------------------------ the wire (lab)
# Run with the machine's Python inside a host's namespace (ip netns exec): nothing is installed on the host.
LISTENER = r"""
import errno, select, socket, sys, time
port, deadline, addrs = int(sys.argv[1]), time.monotonic() + float(sys.argv[2]), sys.argv[3:]
socks = []
for a in addrs:
    s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((a, port))
    except OSError as e:
        s.close()
        if e.errno == errno.EADDRINUSE:
            print("served " + a, flush=True); continue
        print("error " + a + " " + str(e), flush=True); continue
    s.listen(64); socks.append(s); print("listening " + a, flush=True)
print("ready", flush=True)
while socks and time.monotonic() < deadline:
    r, _, _ = select.select(socks + [sys.stdin], [], [], 0.5)
    if sys.stdin in r and not sys.stdin.read(1):
        break
    for s in r:
        if s is not sys.stdin:
            try:
                c, _ = s.accept(); c.close()
            except OSError:
                pass
"""

CLIENT = r"""
import errno, json, socket, sys, time
from concurrent.futures import ThreadPoolExecutor
req = json.load(sys.stdin)
def one(p):
    fam = socket.AF_INET6 if ":" in p["target"] else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM); s.settimeout(req["timeout"]); t = time.monotonic()
    try:
        s.bind((p["source"], 0)); s.connect((p["target"], p["port"])); out = ("connected", "the callee accepted it")
    except socket.timeout:
        out = ("timeout", "no answer in %.1f s (dropped)" % req["timeout"])
    except ConnectionRefusedError:
        out = ("refused", "refused: reached the host, nothing dropped it")
    except OSError as e:
        kind = "unreachable" if e.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH) else "error"
        out = (kind, str(e))
    finally:
        s.close()
    return {"i": p["i"], "outcome": out[0], "detail": out[1], "ms": (time.monotonic() - t) * 1000}
with ThreadPoolExecutor(max_workers=req["workers"]) as pool:
    print(json.dumps(list(pool.map(one, req["probes"]))))
"""


def _netns(province: Province, host: str) -> str:
    from egovops.lab import ns_of

    return ns_of(province, host)


@dataclass
class _Listener:
    host: str
    port: int
    proc: subprocess.Popen[str]
    lines: list[str]


def _start_listener(province: Province, host: str, port: int, addrs: list[str], budget_s: float) -> _Listener:
    argv = ["ip", "netns", "exec", _netns(province, host), sys.executable, "-c", LISTENER, str(port), f"{budget_s:.0f}",
            *addrs]
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    assert proc.stdout is not None
    end = time.monotonic() + 10
    while time.monotonic() < end:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.strip())
        if line.strip() == "ready":
            break
    return _Listener(host, port, proc, lines)


def _stop(listener: _Listener) -> None:
    """Stop one listener this run started, by its PID: close its stdin, then terminate, then kill."""
    p = listener.proc
    if p.poll() is None:
        try:
            assert p.stdin is not None
            p.stdin.close()
            p.wait(timeout=2)
        except (subprocess.TimeoutExpired, BrokenPipeError, OSError):
            p.terminate()
            try:
                p.wait(timeout=3)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=3)


def _connect_from(province: Province, caller: str, probes: list[tuple[int, Probe]],
                  req: FlowRequest) -> list[dict[str, Any]]:
    payload = {"timeout": req.timeout_s, "workers": req.workers,
               "probes": [{"i": i, "source": p.source, "target": p.target, "port": p.port} for i, p in probes]}
    waves = -(-len(probes) // req.workers)
    bound = 10 + waves * (req.timeout_s + 1)
    argv = ["ip", "netns", "exec", _netns(province, caller), sys.executable, "-c", CLIENT]
    try:
        r = subprocess.run(argv, input=json.dumps(payload), capture_output=True, text=True, timeout=bound)
        out = json.loads(r.stdout) if r.returncode == 0 else None
        why = r.stderr.strip()[-200:] or f"exit {r.returncode}"
    except subprocess.TimeoutExpired:
        out, why = None, f"the probe process in {caller} ran over {bound:.0f} s"
    except json.JSONDecodeError as exc:
        out, why = None, f"unreadable probe output ({exc})"
    if out is None:  # fail closed: nothing measured is nothing proven
        return [{"i": i, "outcome": "error", "detail": why, "ms": 0.0} for i, _ in probes]
    return list(out)


def _hosts(province: Province, limit: str | None) -> tuple[list[str], set[str] | None]:
    """(hosts up, hosts the limit selects or None): a flow is probed when one of its ends is selected."""
    if province.meta.environment != "lab":
        raise FlowInputError(
            f"{province.meta.name} is a {province.meta.environment} inventory: net flows opens test connections "
            "from the lab's host namespaces and runs only on a lab (production: probe from a host of each caller "
            "node against the callees' ingress; not built)")
    from egovops.lab import lab_state

    st = lab_state(province)
    if st is None:
        raise FlowInputError(f"lab {province.meta.name} is not up: run `egovops lab up --inventory {province.source}`")
    up = [h.name for h in st.hosts if h.up]
    if limit and not any(matches(province, h.name, limit) for h in st.hosts):
        raise FlowInputError(f"--limit {limit!r} matches no host of lab {province.meta.name}")
    return up, ({h for h in up if matches(province, h, limit)} if limit else None)


def run(req: FlowRequest, progress: Callable[[str], None] = lambda m: None) -> FlowReport:
    """Plan, start the listeners, connect from every caller, stop the listeners (always), report."""
    t0 = time.monotonic()
    p = req.province
    if not 0.1 <= req.timeout_s <= 30:
        raise FlowInputError(f"--timeout {req.timeout_s}: between 0.1 and 30 seconds")
    up, selected = _hosts(p, req.limit)
    pl = plan(p, up, req.sample, selected)
    rep = FlowReport(p.meta.name, not_tested=pl.not_tested, candidates=pl.candidates)
    probes = pl.allowed + pl.denied
    if not pl.allowed:
        rep.error = "no catalogue call between the selected hosts that are up: nothing to prove"
        rep.seconds = time.monotonic() - t0
        return rep
    ends: dict[tuple[str, int], set[str]] = {}
    for pr in probes:
        ends.setdefault((pr.callee, pr.port), set()).add(pr.target)
    callers: dict[str, list[tuple[int, Probe]]] = {}
    for i, pr in enumerate(probes):
        callers.setdefault(pr.caller, []).append((i, pr))
    budget = 30 + max(-(-len(v) // req.workers) for v in callers.values()) * (req.timeout_s + 1)
    progress(f"{len(pl.allowed)} catalogue probes, {len(pl.denied)} denied probes ({pl.candidates} candidates); "
             f"{len(ends)} listener(s)")
    listeners: list[_Listener] = []
    try:
        with ThreadPoolExecutor(max_workers=min(8, len(ends))) as pool:
            futs = [pool.submit(_start_listener, p, host, port, sorted(addrs), budget)
                    for (host, port), addrs in sorted(ends.items())]
            for fut in futs:  # every started listener is kept (and stopped below), even when another failed
                try:
                    listeners.append(fut.result())
                except (OSError, KeyError, subprocess.SubprocessError) as exc:
                    rep.error = f"a listener could not be started: {exc}"
        for ls in listeners:
            host, port = ls.host, ls.port
            rep.listeners.append({"host": host, "port": port, "pid": ls.proc.pid, "status": ls.lines})
            bad = [line for line in ls.lines if line.startswith("error")]
            if ("ready" not in ls.lines or bad) and not rep.error:
                rep.error = f"listener on {host} tcp/{port} did not start: {'; '.join(bad or ls.lines) or 'no output'}"
        if not rep.error:
            with ThreadPoolExecutor(max_workers=min(8, len(callers))) as pool:
                results = pool.map(lambda kv: _connect_from(p, kv[0], kv[1], req), sorted(callers.items()))
                for batch in results:
                    for r in batch:
                        rep.checks.append(FlowCheck(probes[int(r["i"])], str(r["outcome"]), str(r["detail"]),
                                                    float(r["ms"])))
                    progress(f"  {len(rep.checks)}/{len(probes)} probes done")
    finally:
        for ls in listeners:
            _stop(ls)
    rep.checks.sort(key=lambda c: (c.probe.kind, c.probe.caller, c.probe.callee, c.probe.port, c.probe.family))
    rep.seconds = time.monotonic() - t0
    return rep
