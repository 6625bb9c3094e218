"""Lab lifecycle: up (idempotent, resumable), down (leaves nothing), state and status.

Serialisation: ``lab up`` and ``lab down`` hold an exclusive flock on ``.lab/<name>.lock``, so two
concurrent calls for the same lab run one after the other. The state file
(``.lab/<name>/state.json``) records what was asked for and what is up; it is written before the
parts are built (so a ``down`` after an interrupted ``up`` knows the lab), but ``down`` does not
trust it: it removes every namespace, mount, pathspace and process carrying the lab's prefix.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from egovops.lab import cgroups, fabric, hosts, known_hosts, procs, routers, secrets
from egovops.lab.paths import (
    CONTROLLER_MARKER,
    CONTROLLER_STATE,
    bridge_name,
    controller_state_dir,
    lab_dir,
    lab_root,
    lock_path,
    ns_name,
    prefix,
    secrets_dir,
)
from egovops.lab.sh import LabError, LabInputError
from egovops.model.province import Province, matches

Progress = Callable[[str], None]
LOCK_TIMEOUT = 900.0


@dataclass
class DeviceState:
    """One router or host of a running lab, as other capabilities need it."""

    name: str
    kind: str                 # "router" | "host"
    role: str                 # router role or node kind
    netns: str
    mgmt_ipv4: str
    mgmt_ipv6: str
    up: bool                  # its processes (FRR + sshd, or the nspawn host) are running
    ssh_ipv4: bool | None = None   # filled by status(): SSH answers on the management v4 address
    ssh_ipv6: bool | None = None


@dataclass
class LabState:
    name: str
    prefix: str
    inventory: str
    counties: bool
    limit: str | None
    complete: bool            # the last `lab up` finished
    bridge: str
    controller_ipv4: str
    controller_ipv6: str
    secrets: str
    routers: list[DeviceState] = field(default_factory=list)
    hosts: list[DeviceState] = field(default_factory=list)
    industry: bool = False    # the lab's industry clouds were asked for (lab up --industry)

    @property
    def devices(self) -> list[DeviceState]:
        return self.routers + self.hosts

    @property
    def all_up(self) -> bool:
        return self.complete and all(d.up for d in self.devices)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["all_up"] = self.all_up
        return d


def state_file(province: Province) -> Path:
    return lab_dir(province) / "state.json"


_held: dict[str, int] = {}  # locks this process holds (re-entrant: a test fixture may hold it around lab_up)


@contextlib.contextmanager
def locked(province: Province, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the lab's exclusive flock (bounded wait: a stuck holder is reported, not waited on forever).

    Re-entrant within one process, so a caller can hold it across lab_state + lab_up.
    """
    key = str(lock_path(province))
    if _held.get(key):
        _held[key] += 1
        try:
            yield
        finally:
            _held[key] -= 1
        return
    lab_root().mkdir(parents=True, exist_ok=True)
    from egovops.changelock import ChangeLocked, change_lock

    # the inventory's change lock too: a lab up/down never runs beside a net push/harden/deploy
    change = change_lock(province.meta.name, wait=timeout)
    try:
        change.__enter__()
    except ChangeLocked as exc:
        raise LabInputError(str(exc)) from None
    with contextlib.ExitStack() as stack, open(lock_path(province), "w") as f:
        stack.push(change.__exit__)
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise LabError(f"another `lab up/down` of {province.meta.name} holds {lock_path(province)} "
                                   f"for over {timeout:.0f}s") from None
                time.sleep(0.2)
        _held[key] = 1
        try:
            yield
        finally:
            _held.pop(key, None)
            fcntl.flock(f, fcntl.LOCK_UN)


def select(province: Province, counties: bool = False, limit: str | None = None,
           industry: bool = False) -> tuple[list[str], list[str]]:
    """(routers, hosts) a lab up brings: the core, the national stand-in and the provincial + DR hosts
    always; the chosen cities' routers and hosts; county routers only with ``counties``; with
    ``industry``, the router and host of each industry cloud the inventory lists for this lab
    (inventory.yaml ``lab_industry``; they hang off the core, which is always up)."""
    always_r = {r.name for r in province.routers if r.role in ("core", "external")}
    always_h = {n.slug for n in province.nodes if n.kind in ("provincial", "dr")}
    rs = [r.name for r in province.routers
          if r.name in always_r or ((counties or r.role != "county") and matches(province, r.name, limit))]
    if limit:  # a county router needs its city router
        cities_up = {province.router(r).city for r in rs if province.router(r).role == "city"}
        rs = [r for r in rs if province.router(r).role != "county" or province.router(r).city in cities_up]
    hs = [n.slug for n in province.nodes if n.slug in always_h or matches(province, n.slug, limit)]
    hs = [h for h in hs if province.node(h).router in rs]
    if industry:   # all of them, or those the limit names (e.g. --limit transport, kind:industry)
        clouds = province.managed_industry()
        named = [c for c in clouds if limit and (matches(province, c.slug, limit) or matches(province, c.router.name, limit))]
        rs += [c.router.name for c in named or clouds]
        hs += [c.slug for c in named or clouds]
    return rs, hs


def _ordered(province: Province, names: set[str], kind: str) -> list[str]:
    """``names`` in the inventory's order: the province's routers (hosts) first, then industry clouds'."""
    base = [r.name for r in province.routers] if kind == "router" else [n.slug for n in province.nodes]
    ind = [c.router.name if kind == "router" else c.slug for c in province.industry]
    return [n for n in base + ind if n in names]


def _read_raw(province: Province) -> dict | None:
    try:
        return json.loads(state_file(province).read_text())
    except (OSError, ValueError):
        return None


def _write_raw(province: Province, raw: dict) -> None:
    lab_dir(province).mkdir(parents=True, exist_ok=True)
    tmp = state_file(province).with_suffix(".tmp")
    tmp.write_text(json.dumps(raw, indent=2, sort_keys=True) + "\n")
    tmp.rename(state_file(province))


def lab_state(province: Province) -> LabState | None:
    """What of this lab is up (None when nothing of it exists). Cheap: checks processes, not SSH."""
    raw = _read_raw(province)
    if raw is None:
        if not fabric.lab_namespaces(province):
            return None
        raw = {"inventory": province.source, "counties": False, "limit": None, "complete": False, "routers": [], "hosts": []}
    st = LabState(province.meta.name, prefix(province), raw["inventory"], raw["counties"], raw["limit"], raw["complete"],
                  bridge_name(province), str(province.noc.controller.ipv4.ip), str(province.noc.controller.ipv6.ip),
                  str(secrets_dir(province)), industry=bool(raw.get("industry", False)))
    nss = fabric.existing_namespaces()
    for r in raw["routers"]:
        rt = province.router(r)
        pids = routers.frr_pids(province, r)
        up = ns_name(province, r) in nss and len(pids) == len(routers.DAEMONS) + 1 and bool(routers.sshd_pid(province, r))
        st.routers.append(DeviceState(r, "router", rt.role, ns_name(province, r), str(rt.management.ipv4.ip),
                                      str(rt.management.ipv6.ip), up))
    for h in raw["hosts"]:
        n = province.node(h)
        up = ns_name(province, h) in nss and bool(hosts.nspawn_pid(province, h))
        st.hosts.append(DeviceState(h, "host", n.kind, ns_name(province, h), str(n.management.ipv4.ip),
                                    str(n.management.ipv6.ip), up))
    return st


def ns_of(province: Province, device: str) -> str:
    """The network namespace of a router or host (whether or not it is up)."""
    try:
        province.router(device)
    except KeyError:
        province.node(device)  # raises KeyError naming the device when it is neither
    return ns_name(province, device)


@dataclass
class UpResult:
    changed: bool
    routers: int
    hosts: int
    links: int
    seconds: float
    state: LabState


def lab_up(province: Province, counties: bool = False, limit: str | None = None,
           progress: Progress = lambda m: None, industry: bool = False) -> UpResult:
    """Bring the lab up (or the missing parts of it). A running lab with everything asked is left alone."""
    if province.meta.environment != "lab":
        raise LabInputError(f"inventory {province.meta.name!r} is a {province.meta.environment} inventory: "
                       "the lab builds only inventories with environment: lab (lab address ranges)")
    ind_devices = [d for c in province.managed_industry() for d in (c.router.name, c.slug)]
    if limit and any(matches(province, d, limit) for d in ind_devices):
        industry = True          # a limit naming the lab's industry clouds asks for them (deploy --limit kind:industry)
    if limit and not any(matches(province, d, limit)
                         for d in [r.name for r in province.routers] + [n.slug for n in province.nodes] + ind_devices):
        raise LabInputError(f"--limit {limit!r} matches no router or host of {province.meta.name} "
                            "(use names or tags such as city:hefei, role:city, kind:dr; !x excludes)")
    if industry and not province.managed_industry():
        raise LabInputError(f"--industry: inventory {province.meta.name!r} lists no industry cloud for its lab "
                            "(inventory.yaml lab_industry: [<cloud>, ...], slugs of industry.yaml; addressing.yaml "
                            "needs the industry supernets)")
    t0 = time.monotonic()
    want_r, want_h = select(province, counties, limit, industry)
    with locked(province):
        _claim(province)
        current = lab_state(province)
        if current and current.all_up and set(want_r) <= {d.name for d in current.routers} \
                and set(want_h) <= {d.name for d in current.hosts}:
            return UpResult(False, len(current.routers), len(current.hosts), 0, time.monotonic() - t0, current)
        raw = _read_raw(province) or {}
        rs = _ordered(province, set(want_r) | set(raw.get("routers", [])), "router")
        hs = _ordered(province, set(want_h) | set(raw.get("hosts", [])), "host")
        raw = {"inventory": province.source, "counties": counties or raw.get("counties", False),
               "industry": industry or raw.get("industry", False),
               "limit": limit if not raw.get("routers") else raw.get("limit") if raw.get("limit") == limit else None,
               "complete": False, "routers": rs, "hosts": hs, "started": time.time()}
        _write_raw(province, raw)
        secrets.ensure(province)
        progress(f"fabric: {len(rs)} routers, {len(hs)} hosts")
        fab = fabric.build(province, rs, hs)
        progress(f"fabric: {fab['namespaces']} namespaces, {fab['links']} links, management bridge {bridge_name(province)}")
        routers.start(province, rs, progress)
        hosts.start(province, hs, progress)
        known_hosts.write(province)     # every SSH client verifies against the keys this lab made
        raw["complete"] = True
        raw["seconds"] = round(time.monotonic() - t0, 2)
        _write_raw(province, raw)
        st = lab_state(province)
        assert st is not None
        down = [d.name for d in st.devices if not d.up]
        if down:
            raise LabError(f"after lab up these are not running: {', '.join(down)}")
        return UpResult(True, len(rs), len(hs), fab["links"], time.monotonic() - t0, st)


OWNERS = Path("/run/egovops-lab")


def _owner_file(province: Province) -> Path:
    return OWNERS / f"{prefix(province)}.owner"


def _claim(province: Province, write: bool = True) -> None:
    """One checkout per lab name on a machine: the namespaces and the management bridge are
    machine-wide, so a second checkout bringing up the same inventory name would fight the first.
    The owner (the state folder) is recorded under /run/egovops-lab/ (gone at reboot with the lab)."""
    f = _owner_file(province)
    mine = str(lab_dir(province))
    try:
        owner = f.read_text().strip()
    except OSError:
        owner = ""
    if owner and owner != mine and fabric.lab_namespaces(province):
        raise LabError(f"lab {province.meta.name} (prefix {prefix(province)}) is already running from another checkout "
                       f"({owner}): use that checkout, or run `egovops lab down` there first")
    if write:
        OWNERS.mkdir(parents=True, exist_ok=True)
        f.write_text(mine + "\n")


def _release(province: Province) -> None:
    f = _owner_file(province)
    try:
        if f.read_text().strip() == str(lab_dir(province)):
            f.unlink()
    except OSError:
        pass
    try:
        OWNERS.rmdir()
    except OSError:
        pass


def lab_down(province: Province, progress: Progress = lambda m: None) -> dict[str, int]:
    """Remove everything of this lab: processes (by PID file, then anything left in its namespaces),
    host overlays, namespaces (and with them every veth), the management bridge, FRR pathspaces.
    Works after a complete or a half-finished up; a no-op when nothing is there."""
    with locked(province):
        _claim(province, write=False)
        raw = _read_raw(province) or {}
        names = set(raw.get("routers", []))
        rdir = routers.routers_dir(province)
        if rdir.exists():
            names |= {p.name for p in rdir.iterdir() if p.is_dir() and p.name != "accounts"}
        names |= {p.name[len(ns_name(province, "")):] for p in routers.FRR_RUN.glob(ns_name(province, "") + "*")} \
            if routers.FRR_RUN.exists() else set()
        for owner in CONTROLLER_STATE:  # processes other capabilities run for this lab (the monitor's exporter, sinks, scheduler)
            procs.stop_recorded(controller_state_dir(province, owner), CONTROLLER_MARKER)
            shutil.rmtree(controller_state_dir(province, owner), ignore_errors=True)
        router_pids = [p for n in names for p in _safe_pids(province, n)]
        host_pids = hosts.pids(province)
        procs.stop(router_pids + host_pids, grace=8.0)  # all at once: FRR, sshd and nspawn in parallel
        h = {"hosts": len(host_pids), "mounts": hosts.remove_all(province)}
        inodes = {i for i in (procs.netns_inode(fabric.NETNS_DIR / n) for n in fabric.lab_namespaces(province)) if i}
        stray = sorted(set(procs.pids_in_netns(inodes)) | set(cgroups.pids(ns_name(province, ""))))
        procs.stop(stray, grace=3.0)
        deadline = time.monotonic() + 10  # emptied cgroups can be removed once the kernel has reaped them
        while cgroups.remove(ns_name(province, "")) >= 0 and cgroups.leftovers(ns_name(province, "")) \
                and time.monotonic() < deadline:
            time.sleep(0.1)
        progress(f"stopped {h['hosts']} hosts, {len(router_pids)} router processes, {len(stray)} other lab processes")
        fab = fabric.teardown(province)
        removed = routers.cleanup_files(province)
        for sub in ("routers", "hosts"):
            shutil.rmtree(lab_dir(province) / sub, ignore_errors=True)
        state_file(province).unlink(missing_ok=True)
        _release(province)
        progress(f"removed {fab['namespaces']} namespaces, {fab['links']} root links, {h['mounts']} mounts, {removed} FRR dirs")
        return {"hosts": h["hosts"], "router_processes": len(router_pids), "stray_processes": len(stray),
                "namespaces": fab["namespaces"], "mounts": h["mounts"], "frr_dirs": removed}


def _safe_pids(province: Province, name: str) -> list[int]:
    try:
        return routers.pids(province, name)
    except Exception:
        return []


def status(province: Province, workers: int = 16) -> LabState | None:
    """lab_state plus an SSH probe (banner) of every device on its v4 and v6 management address."""
    st = lab_state(province)
    if st is None:
        return None

    def reachable(addr: str) -> bool:
        # a loaded 2-core machine can take seconds to fork an sshd for the banner: one patient retry
        return routers.ssh_banner(addr, timeout=3.0) or routers.ssh_banner(addr, timeout=8.0)

    def probe(d: DeviceState) -> None:
        d.ssh_ipv4 = reachable(d.mgmt_ipv4)
        d.ssh_ipv6 = reachable(d.mgmt_ipv6)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(probe, st.devices))
    return st


def lab_pids(province: Province) -> list[int]:
    """Every live process of this lab: by PID file (FRR, sshd, nspawn) and by network namespace."""
    names = set()
    rdir = routers.routers_dir(province)
    if rdir.exists():
        names |= {p.name for p in rdir.iterdir() if p.is_dir() and p.name != "accounts"}
    out = [p for n in names for p in _safe_pids(province, n)]
    out += hosts.pids(province)
    inodes = {i for i in (procs.netns_inode(fabric.NETNS_DIR / n) for n in fabric.lab_namespaces(province)) if i}
    out += procs.pids_in_netns(inodes)
    out += cgroups.pids(ns_name(province, ""))
    return sorted(set(out))


def residue(province: Province) -> dict[str, list[str]]:
    """What of this lab exists on the machine: namespaces, root-side links, mounts, FRR dirs (empty after down)."""
    pre = prefix(province) + "-"
    frr_dirs = [str(d) for base in (routers.FRR_ETC, routers.FRR_RUN) if base.exists()
                for d in base.iterdir() if d.name.startswith(pre)]
    return {
        "namespaces": sorted(fabric.lab_namespaces(province)),
        "links": sorted(p.name for p in Path("/sys/class/net").iterdir() if p.name.startswith(pre)),
        "mounts": hosts.lab_mounts(province),
        "frr_dirs": sorted(frr_dirs),
        "cgroups": cgroups.leftovers(pre),
    }
