"""The monitoring service layer: ``monitor up|status|down|alerts|check`` and the deploy step call these.

``up`` renders the NOC artefacts from the model, starts the controller's parts (egovops exporter,
webhook sinks in the lab, the bounded check scheduler), runs ``playbooks/monitoring.yml`` through
the one playbook runner, and waits (bounded) until every Prometheus has scraped every target.
``status`` asks each NOC's Prometheus (its HTTP API) what is up; ``alerts`` asks the provincial one
what fires and reads what each receiver got. Typed options in, typed results out; no printing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from egovops.lab import procs
from egovops.model.province import Province
from egovops.monitor import drift, rules, sinks
from egovops.render import monitor_settings as settings
from egovops.render.alertmanager import receivers

REPO = settings.REPO
PLAYBOOK = REPO / "playbooks" / "monitoring.yml"
Progress = Callable[[str], None]


class MonitorInputError(ValueError):
    """Bad input or a missing prerequisite (one sentence saying what to do); nothing was changed."""


# ------------------------------------------------------------------------------------------ places
def state_dir(province: Province) -> Path:
    """Controller-side state: PID files, logs, drift state, sink files (lab: under the lab's folder)."""
    if province.meta.environment == "lab":
        from egovops.lab.paths import controller_state_dir
        return controller_state_dir(province, "monitor")  # lab down stops what is recorded there
    return Path("/var/lib/egovops/monitor")


def artefacts_dir(province: Province) -> Path:
    return REPO / "build" / "monitor" / province.meta.name


def sink_dir(province: Province) -> Path:
    return state_dir(province) / "sink"


# ------------------------------------------------------------------------------------------ processes
PROCESSES = ("exporter", "sinks", "scheduler")


def _pidfile(province: Province, name: str) -> Path:
    return state_dir(province) / f"{name}.pid"


def process_pid(province: Province, name: str) -> int | None:
    return procs.pid_if_ours(_pidfile(province, name), f"egovops.monitor.{name}")


def _start(province: Province, name: str, args: list[str]) -> int:
    """Start ``egovops.monitor.<name>`` unless it already runs with these arguments (a running one
    with other arguments — an upgrade, DR switched on — is stopped and started again)."""
    d = state_dir(province)
    argfile = d / f"{name}.args"
    pid = process_pid(province, name)
    if pid:
        try:
            same = json.loads(argfile.read_text()) == args
        except (OSError, ValueError):
            same = False
        if same:
            return pid
        procs.stop([pid], grace=5.0)
    d.mkdir(parents=True, exist_ok=True)
    argfile.write_text(json.dumps(args) + "\n")
    with open(d / f"{name}.log", "ab") as log:
        p = subprocess.Popen([sys.executable, "-m", f"egovops.monitor.{name}", *args], cwd=REPO,
                             stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    _pidfile(province, name).write_text(f"{p.pid}\n")
    return p.pid


def _wait_http(url: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except urllib.error.HTTPError:
            return True          # it answers (a 404/500 is an answer: the server is up)
        except OSError:
            time.sleep(0.2)
    return False


def dr_wanted(province: Province, mode: str = "auto") -> tuple[bool, str]:
    """Whether the exporter serves DR series now (``auto`` is re-judged on every scrape: see
    :mod:`egovops.monitor.drgate`), for the report of ``monitor up``."""
    if mode in ("on", "off"):
        return mode == "on", f"--dr {mode}"
    try:
        import egovops.dr.metrics  # noqa: F401
    except ModuleNotFoundError:
        return False, "egovops.dr.metrics is not part of this checkout"
    from egovops.monitor.drgate import dr_deployed
    on, why = dr_deployed(province)
    return on, why + ("" if on else "; served from the first scrape after `egovops dr up`")


def start_controller(province: Province, interval: float | None = None, dr: str = "auto") -> dict[str, int]:
    """Exporter, sinks (lab) and the check scheduler on the controller; idempotent."""
    t = settings.timings(province)
    c = str(province.noc.controller.ipv4.ip)
    d = state_dir(province)
    out = {}
    out["sinks"] = _start(province, "sinks", ["--dir", str(sink_dir(province)), "--listen", f"{c}:{settings.SINK_PORT}",
                                              *[a for r in receivers(province) for a in ("--receiver", r)]])
    if not drift.state_path(d).exists():
        # the exporter serves drift only once a check completed: run the (quick) router check now
        drift.save(d, drift.check_routers(province))
    out["exporter"] = _start(province, "exporter", ["--inventory", province.source, "--state", str(d),
                                                    "--listen", f"{c}:{settings.EGOVOPS_EXPORTER_PORT}"]
                             + ["--dr", dr])
    out["scheduler"] = _start(province, "scheduler", ["--inventory", province.source, "--state", str(d),
                                                      "--interval", str(interval or t.check_interval_s),
                                                      "--max-seconds", str(12 * 3600)])
    for name, port in (("sinks", settings.SINK_PORT), ("exporter", settings.EGOVOPS_EXPORTER_PORT)):
        if not _wait_http(f"http://{c}:{port}/", 10):
            raise RuntimeError(f"the {name} did not answer on {c}:{port} within 10s (see {d / (name + '.log')})")
    return out


def stop_controller(province: Province, remove_state: bool = False) -> list[int]:
    """Stop what start_controller started (by PID file, identity checked); optionally remove the state."""
    pids = [p for p in (process_pid(province, n) for n in PROCESSES) if p]
    procs.stop(pids, grace=5.0)
    for n in PROCESSES:
        _pidfile(province, n).unlink(missing_ok=True)
    if remove_state:
        shutil.rmtree(state_dir(province), ignore_errors=True)
    return pids


# ------------------------------------------------------------------------------------------ artefacts
def stage_artefacts(province: Province) -> Path:
    """Render the NOC artefacts and put each NOC's rule files beside its prometheus.yml."""
    from egovops.render import prometheus
    from egovops.render.files import write_tree

    present = None
    if province.meta.environment == "lab":
        from egovops.lab import lab_state
        st = lab_state(province)
        present = {d.name for d in st.devices if d.up} if st else set()
    files = prometheus.render(province, present)
    for noc in settings.nocs(province):
        for f in rules.files_for(noc):
            files[f"{noc}/rules/{f.name}"] = f.read_text(encoding="utf-8")
    out = artefacts_dir(province)
    write_tree(files, out)
    return out


# ------------------------------------------------------------------------------------------ status
@dataclass
class NocStatus:
    name: str
    host: str
    url: str
    prometheus_up: bool
    targets_up: int = 0
    targets_total: int = 0
    firing: int = 0
    down: list[dict[str, str]] = field(default_factory=list)
    error: str = ""


@dataclass
class StatusResult:
    nocs: list[NocStatus]
    alertmanager_up: bool
    controller: dict[str, bool]

    @property
    def ok(self) -> bool:
        return bool(self.nocs) and self.alertmanager_up and all(
            n.prometheus_up and n.targets_total > 0 and n.targets_up == n.targets_total for n in self.nocs) \
            and all(self.controller.values())

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "nocs": [asdict(n) for n in self.nocs], "alertmanager_up": self.alertmanager_up,
                "controller": self.controller}


def _get_json(url: str, timeout: float = 5.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        doc = json.loads(r.read())
    if doc.get("status") != "success":
        raise ValueError(f"{url}: status {doc.get('status')!r}")
    return doc["data"]


def prometheus_url(province: Province, noc: str) -> str:
    return f"http://{settings.noc_host(province, noc).management.ipv4.ip}:{settings.PROMETHEUS_PORT}"


def selected_nocs(province: Province) -> list[str]:
    """The NOCs whose host exists here (lab: the hosts that are up; production: all 17)."""
    if province.meta.environment != "lab":
        return settings.nocs(province)
    from egovops.lab import lab_state
    st = lab_state(province)
    up = {h.name for h in st.hosts if h.up} if st else set()
    return [n for n in settings.nocs(province) if settings.noc_host(province, n).slug in up]


def noc_status(province: Province, noc: str) -> NocStatus:
    url = prometheus_url(province, noc)
    s = NocStatus(noc, settings.noc_host(province, noc).slug, url, False)
    try:
        targets = _get_json(f"{url}/api/v1/targets?state=active")["activeTargets"]
        alerts = _get_json(f"{url}/api/v1/alerts")["alerts"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        s.error = f"{type(exc).__name__}: {exc}"[:200]
        return s
    s.prometheus_up = True
    s.targets_total = len(targets)
    s.targets_up = sum(t.get("health") == "up" for t in targets)
    s.down = [{"job": t["labels"].get("job", ""), "instance": t["labels"].get("instance", ""),
               "health": t.get("health", ""), "error": t.get("lastError", "")}
              for t in targets if t.get("health") != "up"]
    s.firing = sum(a.get("state") == "firing" for a in alerts)
    return s


def status(province: Province) -> StatusResult:
    nocs = selected_nocs(province)
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(nocs)))) as pool:
        rows = list(pool.map(lambda n: noc_status(province, n), nocs))
    am = f"http://{settings.noc_host(province, settings.PROVINCE_NOC).management.ipv4.ip}:{settings.ALERTMANAGER_PORT}"
    try:
        with urllib.request.urlopen(f"{am}/-/ready", timeout=5) as r:
            am_up = r.status == 200
    except OSError:
        am_up = False
    ctl = {}
    if province.meta.environment == "lab":
        ctl = {n: bool(process_pid(province, n)) for n in PROCESSES}
    return StatusResult(rows, am_up, ctl)


def wait_all_up(province: Province, timeout: float, progress: Progress = lambda m: None) -> StatusResult:
    """Poll status until every target of every NOC is up, at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last = ""
    while True:
        st = status(province)
        if st.ok or time.monotonic() >= deadline:
            return st
        msg = ", ".join(f"{n.name} {n.targets_up}/{n.targets_total}" for n in st.nocs)
        if msg != last:
            progress(f"waiting for first scrapes: {msg}")
            last = msg
        time.sleep(2.0)


# ------------------------------------------------------------------------------------------ up/down
@dataclass
class UpResult:
    ok: bool
    seconds: float
    changed: int
    playbook_rc: int
    hosts: list[dict[str, Any]]
    controller: dict[str, int]
    status: StatusResult
    log: str = ""
    dr_metrics: str = ""

    def as_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if k != "status"}
        d["status"] = self.status.as_dict()
        return d


def require_lab_up(province: Province) -> None:
    if province.meta.environment != "lab":
        return
    from egovops.lab import lab_state
    st = lab_state(province)
    if st is None or not st.all_up:
        raise MonitorInputError(f"the lab {province.meta.name} is not up: run `egovops lab up --inventory "
                                f"{province.source}` (and `egovops net push`) first")


def up(province: Province, limit: str | None = None, check: bool = False, wait: float = 120.0,
       interval: float | None = None, progress: Progress = lambda m: None, lock_wait: float = 10.0,
       dr: str = "auto") -> UpResult:
    """Deploy the hierarchy (idempotent) and wait, bounded, for every target to be up.

    Holds the inventory's change lock (it changes hosts): a push, harden or lab up/down of the same
    inventory waits for it, and it for them (at most ``lock_wait`` s, then MonitorInputError)."""
    from egovops.changelock import ChangeLocked, change_lock

    require_lab_up(province)
    try:
        with change_lock(province.meta.name, command="egovops monitor up", wait=lock_wait):
            return _up(province, limit, check, wait, interval, progress, dr)
    except ChangeLocked as exc:
        raise MonitorInputError(str(exc)) from None


def _up(province: Province, limit: str | None, check: bool, wait: float, interval: float | None,
        progress: Progress, dr: str) -> UpResult:
    from egovops.harden.playbook import run_playbook
    from egovops.harden.targets import select

    t0 = time.monotonic()
    out = stage_artefacts(province)
    progress(f"artefacts rendered in {out}")
    ctl: dict[str, int] = {}
    dr_on, dr_note = dr_wanted(province, dr)
    progress(f"DR metrics: {'on' if dr_on else 'off'} — {dr_note}")
    if province.meta.environment == "lab" and not check:
        ctl = start_controller(province, interval, dr)
        progress(f"controller: exporter, sinks and check scheduler running (PIDs {', '.join(map(str, ctl.values()))})")
    sel = select(province, limit)
    t = settings.timings(province)
    run = run_playbook(province, PLAYBOOK, sel, check=check, progress=progress,
                       extra_vars={"monitoring_artefacts_dir": str(out), "monitoring_retention_time": t.retention_time,
                                   "monitoring_retention_size": t.retention_size})
    hosts = [asdict(h) for h in run.hosts]
    if not run.ok or check:
        st = StatusResult([], False, {}) if check else status(province)
        return UpResult(run.ok, round(time.monotonic() - t0, 2), run.changed, run.rc, hosts, ctl, st, run.log[-4000:],
                        dr_note)
    st = wait_all_up(province, wait, progress)
    return UpResult(st.ok, round(time.monotonic() - t0, 2), run.changed, run.rc, hosts, ctl, st, "", dr_note)


@dataclass
class DownResult:
    stopped: list[int]


def down(province: Province) -> DownResult:
    """Stop the controller's parts (the NOC services on the hosts go with the hosts at ``lab down``)."""
    return DownResult(stop_controller(province))


# ------------------------------------------------------------------------------------------ alerts
@dataclass
class AlertsResult:
    firing: list[dict[str, Any]]
    delivered: dict[str, list[dict[str, Any]]]

    def as_dict(self) -> dict[str, Any]:
        return {"firing": self.firing, "delivered": self.delivered}


def firing(province: Province) -> list[dict[str, Any]]:
    """Firing alerts as the provincial Prometheus sees them: its own and every city's (federated ALERTS)."""
    url = prometheus_url(province, settings.PROVINCE_NOC)
    q = urllib.parse.quote('ALERTS{alertstate="firing"}')
    data = _get_json(f"{url}/api/v1/query?query={q}")
    return sorted((r["metric"] for r in data["result"]),
                  key=lambda m: (m.get("alertname", ""), m.get("city", ""), json.dumps(m, sort_keys=True)))


def delivered(province: Province) -> dict[str, list[dict[str, Any]]]:
    """Per receiver, each notification's alerts with labels and annotations as Alertmanager sent them."""
    out: dict[str, list[dict[str, Any]]] = {}
    for rcv, rows in sinks.read(sink_dir(province)).items():
        out[rcv] = [{"received_at": r["received_at"], "status": r["payload"].get("status"),
                     "alerts": [{"status": a.get("status"), "labels": a.get("labels", {}),
                                 "annotations": a.get("annotations", {}), "startsAt": a.get("startsAt"),
                                 "endsAt": a.get("endsAt")} for a in r["payload"].get("alerts", [])]}
                    for r in rows]
    return out


def alerts(province: Province) -> AlertsResult:
    return AlertsResult(firing(province), delivered(province))
