"""The network service layer: push, rollback, diff, verify — typed options in, typed result out.

Why one layer: ``egovops net push`` and the ``deploy`` step ``net-push`` used to orchestrate the
engine each in their own copy, and the copies drifted (the deploy push wrote no report and put its
rollback points elsewhere). Both now call :func:`push` (and :func:`verify`): the same selection,
change lock, rollback folder, report, canary/batch defaults and lab prerequisites. The callers only
turn options into a :class:`PushOptions`-like request and print the result.

Errors in the request (bad inventory input, nothing selected, no credentials, a bad backup folder,
the inventory locked by another change) raise :class:`NetInputError`: the CLI exits 2 and nothing
on any device was changed.

:func:`router_diff` is the read-only "diff of one router against its intent" (no lock, no change,
no folder written) for drift checks.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from egovops.changelock import DEFAULT_WAIT, ChangeLocked, change_lock, run_stamp, unique_dir
from egovops.model.province import Province
from egovops.network.credentials import Credentials, mask_secrets
from egovops.network.device import open_session
from egovops.network.push import DeviceResult, Opener, Plan, Progress, PushEngine, PushOptions, PushReport, parse_batch


@dataclass(frozen=True)
class WaveDefaults:
    canary: int
    batch: str
    max_fail: int | None


if TYPE_CHECKING:
    from egovops.network.targets import Selection
    from egovops.network.vantage import Vantage
    from egovops.network.verify import VerifyReport


# safe on production, fast in the lab (each can be overridden on the command line)
PRODUCTION_DEFAULTS = WaveDefaults(canary=1, batch="10%", max_fail=1)
LAB_DEFAULTS = WaveDefaults(canary=0, batch="100%", max_fail=None)


class NetInputError(ValueError):
    """The request cannot run (names what is wrong); nothing was changed. CLI: exit 2."""


@dataclass
class NetRequest:
    """What every network command starts from."""

    province: Province
    limit: str | None = None
    vendor: str | None = None
    vault: str | None = None
    workers: int = 16
    timeout: float = 30.0


@dataclass
class PushRequest(NetRequest):
    dry_run: bool = False
    confirm_timeout: float = 120.0
    settle_timeout: float = 60.0
    min_hold: float = 5.0
    vantage: str = "auto"                  # auto | none | netns:NAME | ssh:HOST
    canary: int | None = None           # None: the environment's default (see *_DEFAULTS)
    batch: str | None = None
    max_fail: int | None = -1           # -1: the environment's default; None: no budget
    lock_wait: float = DEFAULT_WAIT
    report: Path | None = None          # default build/net/<inventory>/reports/<title>-<stamp>.json
    state_dir: Path | None = None       # default build/net/<inventory>
    rollback_to: Path | None = None     # restore a backup exactly (net rollback --to)
    title: str = "push"
    command: str | None = None          # recorded as the lock holder


@dataclass
class PushOutcome:
    report: PushReport
    inventory: str
    vendor: str
    skipped: dict[str, str]
    credentials: dict[str, Any]
    settings: dict[str, Any]
    report_path: Path | None = None
    rollback_dir: Path | None = None
    lab_notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.report.ok

    def as_dict(self) -> dict[str, Any]:
        d = self.report.as_dict()
        d.update({"inventory": self.inventory, "vendor": self.vendor, "skipped": self.skipped,
                  "credentials": self.credentials, **self.settings})
        if self.report_path:
            d["report"] = str(self.report_path)
        if self.rollback_dir:
            d["rollback_point"] = str(self.rollback_dir)
        return d


def vendor_of(province: Province, vendor: str | None) -> str:
    from egovops.network.targets import default_vendor

    return vendor or default_vendor(province)


def credentials_of(province: Province, vault: str | None) -> Credentials:
    import logging

    from egovops.network import credentials, routing_keys

    try:
        c = credentials.load(province, vault)
    except (credentials.CredentialError, OSError) as exc:
        raise NetInputError(str(exc)) from None
    credentials.install_redaction(c)
    try:    # routing keys, where present, are scrubbed from logs too (push needs them: see _plans)
        keys = routing_keys.load(province)
    except (credentials.CredentialError, OSError):
        return c
    secrets = [keys.values()] + [routing_keys.industry_values(keys.values(), c.slug) for c in province.managed_industry()]
    logging_filter = credentials.RedactingFilter([str(v) for ks in secrets for k, v in ks.items() if k != "key_id"])
    for name in ("", "netmiko", "paramiko", "paramiko.transport"):
        logging.getLogger(name).addFilter(logging_filter)
    return c


def secrets_of(province: Province, creds: Credentials) -> list[str]:
    """Every secret a push or verify could echo: the login password and the routing-protocol keys.

    What :func:`egovops.network.credentials.mask_secrets` masks in reports and printed output
    (device errors quote what the device was sent or refused).
    """
    from egovops.network import credentials, routing_keys

    out = [creds.password.reveal()] if creds.password else []
    try:
        keys = routing_keys.load(province)
    except (credentials.CredentialError, OSError):
        return out
    sets = [keys.values()] + [routing_keys.industry_values(keys.values(), c.slug) for c in province.managed_industry()]
    return out + [str(v) for ks in sets for k, v in ks.items() if k != "key_id" and v]


def selection_of(province: Province, limit: str | None) -> Selection:
    from egovops.network.targets import SelectionError, select

    try:
        return select(province, limit)
    except SelectionError as exc:
        raise NetInputError(str(exc)) from None


def vantage_of(province: Province, spec: str) -> Vantage | None:
    """The reachability vantage named by ``spec`` (None for ``none``)."""
    import os

    from egovops.network.targets import is_lab
    from egovops.network.vantage import NetnsVantage, SshVantage, lab_vantage

    if spec == "none":
        return None
    if spec.startswith("netns:") and len(spec) > 6:
        return NetnsVantage(spec[6:], spec)
    if spec.startswith("ssh:") and len(spec) > 4:
        return SshVantage(spec[4:])
    if spec == "auto":
        if is_lab(province):
            return lab_vantage(province)
        probe = os.environ.get("EGOVOPS_NET_PROBE")
        if probe:
            # the NOC probe of EGOVOPS_NET_PROBE is at the provincial node: behind its router
            prov = next((n.router for n in province.nodes if n.kind == "provincial"), None)
            return SshVantage(probe, anchor=prov)
        raise NetInputError("no reachability vantage for a production inventory: pass --vantage ssh:<NOC probe "
                            "host> (or set EGOVOPS_NET_PROBE), or --vantage none to skip reachability")
    raise NetInputError(f"--vantage {spec!r}: expected auto, none, netns:NAME or ssh:HOST")


def wave_settings(req: PushRequest, total: int) -> dict[str, Any]:
    """Canary, batch size and failure budget: the request's, else the environment's safe default."""
    lab = req.province.meta.environment == "lab"
    d = LAB_DEFAULTS if lab else PRODUCTION_DEFAULTS
    canary = d.canary if req.canary is None else req.canary
    batch = d.batch if req.batch is None else req.batch
    max_fail = d.max_fail if req.max_fail == -1 else req.max_fail
    if canary < 0:
        raise NetInputError(f"--canary {canary}: expected 0 or more devices")
    if max_fail is not None and max_fail < 1:
        raise NetInputError(f"--max-fail {max_fail}: expected 1 or more (or 'none')")
    try:
        size = parse_batch(batch, max(1, total - min(canary, total)))
    except ValueError as exc:
        raise NetInputError(str(exc)) from None
    return {"canary": canary, "batch": batch, "batch_size": size, "max_fail": max_fail}


def _plans(req: PushRequest, province: Province, routers: list[str], vendor: str) -> list[Plan]:
    from egovops.network.targets import plan_of

    if req.rollback_to is None:
        from egovops.network.credentials import CredentialError

        try:    # rendering for a push needs the routing-protocol keys: missing or bad ones are bad input
            return [plan_of(province, n, vendor, req.timeout) for n in routers]
        except CredentialError as exc:
            raise NetInputError(str(exc)) from None
    from egovops.network.backup import BackupError, plans_from_backup

    try:
        return plans_from_backup(province, Path(req.rollback_to), routers, vendor, req.timeout)
    except BackupError as exc:
        raise NetInputError(str(exc)) from None


def push(req: PushRequest, progress: Progress = lambda d, e, x: None,
         log: Callable[[str], None] = lambda m: None) -> PushOutcome:
    """Diff, apply, verify, confirm or restore (see :mod:`egovops.network.push`), under the change lock.

    A dry run reads only: it takes no lock and writes nothing. A real run holds the inventory's
    change lock from before the first device is read until the report is written.
    """
    p = req.province
    vendor = vendor_of(p, req.vendor)
    sel = selection_of(p, req.limit)
    creds = credentials_of(p, req.vault)
    vantage = None if req.dry_run else vantage_of(p, req.vantage)
    # the plans first: a bad `rollback --to` folder is bad input before anything is touched
    plans = _plans(req, p, sel.routers, vendor)
    waves = wave_settings(req, len(plans))
    state_dir = req.state_dir or Path("build/net") / p.meta.name
    opts = PushOptions(dry_run=req.dry_run, workers=req.workers, confirm_timeout=req.confirm_timeout,
                       device_timeout=req.timeout, settle_timeout=req.settle_timeout, min_hold=req.min_hold,
                       canary=waves["canary"], batch_size=waves["batch_size"], max_fail=waves["max_fail"])
    settings = {"workers": req.workers, "waves": None, **{k: waves[k] for k in ("canary", "batch", "max_fail")}}
    if req.dry_run:
        rep = PushEngine(plans, creds, opts, vantage=None, progress=progress, secrets=secrets_of(p, creds)).run()
        out = PushOutcome(rep, p.meta.name, vendor, sel.skipped, creds.as_dict(), settings)
        out.settings["waves"] = rep.waves
        return out
    try:
        lock = change_lock(p.meta.name, command=req.command, wait=req.lock_wait)
        lock.__enter__()
    except ChangeLocked as exc:
        raise NetInputError(str(exc)) from None
    try:
        notes: list[str] = []
        if p.meta.environment == "lab":
            from egovops.network.labprep import ensure_lab_router_sysctls

            def note(m: str) -> None:
                notes.append(m)
                log(m)

            ensure_lab_router_sysctls(p, sel.routers, log=note)
        stamp = run_stamp()
        opts.backup_dir = unique_dir(state_dir / "rollback", stamp)
        rep = PushEngine(plans, creds, opts, vantage=vantage, progress=progress, secrets=secrets_of(p, creds)).run()
        out = PushOutcome(rep, p.meta.name, vendor, sel.skipped, creds.as_dict(), settings,
                          rollback_dir=opts.backup_dir, lab_notes=notes)
        out.settings["waves"] = rep.waves
        out.settings["vantage"] = getattr(vantage, "name", None)
        path = Path(req.report) if req.report else state_dir / "reports" / f"{req.title}-{opts.backup_dir.name}.json"
        out.report_path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(out.as_dict(), indent=2, sort_keys=True, default=str) + "\n")
        except OSError as exc:              # the push happened: say where the report could not go
            out.report_path = None
            out.settings["report_error"] = f"{path}: {exc.strerror or exc}"
        return out
    finally:
        lock.__exit__(None, None, None)


def diff(req: PushRequest, progress: Progress = lambda d, e, x: None) -> PushOutcome:
    """What a push would change on each selected router (read-only: no lock, nothing written)."""
    req.dry_run = True
    return push(req, progress)


def router_diff(province: Province, name: str, vendor: str | None = None, creds: Credentials | None = None,
                timeout: float = 30.0, opener: Opener | None = None) -> DeviceResult:
    """Read-only diff of one router's running config against its intent (for drift checks).

    Returns the engine's :class:`DeviceResult` with status ``unchanged`` (no drift), ``would-change``
    (``diff`` holds the hierarchical lines) or ``failed`` (``error`` says why the config was not read).
    Takes no lock, changes nothing, writes nothing.
    """
    from egovops.network.targets import plan_of

    vendor = vendor_of(province, vendor)
    creds = creds or credentials_of(province, None)
    opts = PushOptions(dry_run=True, workers=1, device_timeout=timeout)
    engine = PushEngine([plan_of(province, name, vendor, timeout)], creds, opts, opener=opener or open_session)
    return engine.run().results[0]


def verify(req: NetRequest, vantage: str = "auto", wait: float = 0.0, matrix: bool = True,
           progress: Callable[[str], None] = lambda m: None) -> tuple[VerifyReport, Selection, Vantage, list[str] | None]:
    """End-to-end checks (:mod:`egovops.network.verify`) for the CLI and the deploy step."""
    from egovops.network.targets import is_lab
    from egovops.network.vantage import lab_node_vantages
    from egovops.network.verify import verify as run_verify

    p = req.province
    vendor = vendor_of(p, req.vendor)
    sel = selection_of(p, req.limit)
    creds = credentials_of(p, req.vault)
    v = vantage_of(p, vantage)
    if v is None:
        raise NetInputError("net verify needs a vantage (reachability is its point)")
    nodes, vof = (lab_node_vantages(p) if matrix and is_lab(p) else (None, None))
    rep = run_verify(p, sel.routers, vendor, creds, v, req.workers, nodes, vof, wait, progress=progress)
    rep.protocols = mask_secrets(rep.protocols, secrets_of(p, creds))   # device errors, printed and --json
    return rep, sel, v, nodes
