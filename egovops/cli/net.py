"""``egovops net``: render, diff, push (confirmed, with automatic rollback), verify, backup, rollback.

Thin: options and output only; the work is in :mod:`egovops.network`.
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import click

from egovops.cli.common import inventory_option, json_option, limit_option, load_or_exit
from egovops.cli.output import bad_input, CHECK_FAILED, OK, console, err_console, print_json, table
from egovops.model.province import Province

VENDOR_CHOICE = click.Choice(["frr", "huawei_vrp"])

vendor_option = click.option("--vendor", type=VENDOR_CHOICE, default=None,
                             help="Config dialect (default: frr on a lab inventory, huawei_vrp otherwise).")
workers_option = click.option("--workers", "-w", type=click.IntRange(1, 64), default=16, show_default=True,
                              help="Devices handled in parallel.")
timeout_option = click.option("--timeout", type=click.FloatRange(1, 600), default=30.0, show_default=True,
                              help="Per-device session/command timeout (seconds).")
vault_option = click.option("--vault", type=click.Path(dir_okay=False), default=None,
                            help="Ansible-vault file with username/password (env EGOVOPS_NET_VAULT).")
verbose_option = click.option("--verbose", "-v", count=True, help="More log output on stderr (-vv: debug, incl. netmiko).")
log_file_option = click.option("--log-file", type=click.Path(dir_okay=False), default=None,
                               help="Also write the log (at the chosen verbosity) to this file.")
vantage_option = click.option("--vantage", default="auto", show_default=True,
                              help="Where reachability is judged from: auto (lab: the provincial node host's "
                                   "namespace), netns:NAME, ssh:HOST (a NOC probe), none.")


def _setup_logging(verbose: int, log_file: Optional[str]) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    root = logging.getLogger()
    root.setLevel(level)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    h = logging.StreamHandler(sys.stderr)
    h.setFormatter(fmt)
    root.addHandler(h)
    if log_file:
        fh = logging.FileHandler(log_file)
        fh.setFormatter(fmt)
        root.addHandler(fh)


def _creds(province: Province, vault: Optional[str], as_json: bool):
    from egovops.network import credentials

    try:
        c = credentials.load(province, vault)
    except (credentials.CredentialError, OSError) as exc:
        bad_input(str(exc), as_json)
    credentials.install_redaction(c)
    return c


def _select(province: Province, limit: Optional[str], as_json: bool):
    from egovops.network.targets import SelectionError, select

    try:
        return select(province, limit)
    except SelectionError as exc:
        bad_input(str(exc), as_json)


def _vantage(province: Province, spec: str, as_json: bool):
    from egovops.network.targets import is_lab
    from egovops.network.vantage import NetnsVantage, SshVantage, lab_vantage

    if spec == "none":
        return None
    if spec.startswith("netns:"):
        return NetnsVantage(spec[6:], spec)
    if spec.startswith("ssh:"):
        return SshVantage(spec[4:])
    if spec == "auto":
        if is_lab(province):
            return lab_vantage(province)
        probe = os.environ.get("EGOVOPS_NET_PROBE")
        if probe:
            return SshVantage(probe)
        bad_input("no reachability vantage for a production inventory: pass --vantage ssh:<NOC probe host> "
             "(or set EGOVOPS_NET_PROBE), or --vantage none to skip reachability", as_json)
    bad_input(f"--vantage {spec!r}: expected auto, none, netns:NAME or ssh:HOST", as_json)


def _vendor(province: Province, vendor: Optional[str]) -> str:
    from egovops.network.targets import default_vendor

    return vendor or default_vendor(province)


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _progress(as_json: bool, total: int):
    done = {"n": 0}
    quiet = not sys.stderr.isatty() and not os.environ.get("EGOVOPS_PROGRESS")
    colours = {"changed": "green", "unchanged": "dim", "would-change": "yellow", "rolled-back": "magenta",
               "failed": "red"}

    def cb(device: str, event: str, detail: str) -> None:
        if event == "done":
            done["n"] += 1
            c = colours.get(detail, "white")
            err_console.print(f"[{done['n']:>3}/{total}] {device:<28} [{c}]{detail}[/]")
        elif event == "rollback" and not quiet:
            err_console.print(f"      {device:<28} [magenta]rolling back[/]: {detail}")
        elif not quiet:
            err_console.print(f"      {device:<28} [dim]{event} {detail}[/]")
    return cb


@click.group("net")
def net_group() -> None:
    """Extranet routers: render configs, diff, push with confirmed commit + automatic rollback, verify."""


# ------------------------------------------------------------------------------------------ render
@net_group.command("render")
@inventory_option
@limit_option
@vendor_option
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Folder to write <router>.conf|.cfg into (default build/net/<inventory>/<vendor>).")
@json_option
def render_cmd(inventory: str, limit: Optional[str], vendor: Optional[str], out: Optional[str], as_json: bool) -> None:
    """Render every selected router's configuration from its intent (no device is contacted)."""
    from egovops.network.render import RenderError, file_name, render_province

    p = load_or_exit(inventory, as_json)
    vendor = _vendor(p, vendor)
    try:
        rendered = render_province(p, vendor, limit)
    except RenderError as exc:
        bad_input(str(exc), as_json)
    if not rendered:
        bad_input(f"no router matches --limit {limit!r}", as_json)
    folder = Path(out or f"build/net/{p.meta.name}/{vendor}")
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for r in rendered:
        path = folder / file_name(r.router, vendor)
        changed = not path.exists() or path.read_text() != r.text
        if changed:
            path.write_text(r.text)
        rows.append({"router": r.router, "file": str(path), "lines": r.text.count("\n"),
                     "written": changed})
    if as_json:
        print_json({"ok": True, "vendor": vendor, "out": str(folder), "routers": rows})
    else:
        console.print(table(f"{len(rows)} {vendor} config(s) in {folder}", ["router", "lines", "file", "written"],
                            [(r["router"], r["lines"], r["file"], "yes" if r["written"] else "unchanged") for r in rows]))
    raise SystemExit(OK)


# ------------------------------------------------------------------------------------------ push/diff
def _run_push(inventory, limit, vendor, workers, timeout, vault, as_json, dry_run, confirm_timeout,
              settle_timeout, min_hold, verbose, log_file, vantage_spec, report, plans_from=None, title="push"):
    from egovops.network.push import PushEngine, PushOptions
    from egovops.network.targets import plan_of

    _setup_logging(verbose, log_file)
    p = load_or_exit(inventory, as_json)
    vendor = _vendor(p, vendor)
    sel = _select(p, limit, as_json)
    creds = _creds(p, vault, as_json)
    vantage = None if dry_run else _vantage(p, vantage_spec, as_json)
    # the plans first: a bad `rollback --to` folder exits 2 before anything on a router is changed
    if plans_from is not None:
        plans = plans_from(p, sel.routers, vendor, timeout)
    else:
        plans = [plan_of(p, n, vendor, timeout) for n in sel.routers]
    if not dry_run and p.meta.environment == "lab":
        from egovops.network.labprep import ensure_lab_router_sysctls

        ensure_lab_router_sysctls(p, sel.routers, log=lambda m: err_console.print(f"[yellow]lab prerequisite[/] {m}"))
    stamp = _stamp()
    opts = PushOptions(dry_run=dry_run, workers=workers, confirm_timeout=confirm_timeout, device_timeout=timeout,
                       settle_timeout=settle_timeout, min_hold=min_hold,
                       backup_dir=None if dry_run else Path(f"build/net/{p.meta.name}/rollback/{stamp}"))
    if not as_json:
        err_console.print(f"[bold]{title}[/] {len(plans)} router(s), {vendor}, {workers} worker(s)"
                          + (" — dry run, nothing changes" if dry_run else
                             f", confirm within {confirm_timeout:g}s, vantage: {getattr(vantage, 'name', 'none')}"))
    engine = PushEngine(plans, creds, opts, vantage=vantage, progress=_progress(as_json, len(plans)))
    rep = engine.run()
    data = rep.as_dict()
    data.update({"inventory": p.meta.name, "vendor": vendor, "workers": workers, "skipped": sel.skipped,
                 "credentials": creds.as_dict()})
    if not dry_run:
        rdir = Path(f"build/net/{p.meta.name}/reports")
        rdir.mkdir(parents=True, exist_ok=True)
        path = Path(report) if report else rdir / f"{title}-{stamp}.json"
        import json as _json
        path.write_text(_json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
        data["report"] = str(path)
    if as_json:
        print_json(data)
    else:
        _print_push(data, show_diff=dry_run or verbose > 0)
    raise SystemExit(OK if rep.ok else CHECK_FAILED)


def _print_push(data: dict, show_diff: bool) -> None:
    for d in data["devices"]:
        if d["diff"] and (show_diff or d["status"] in ("would-change",)):
            console.print(f"[bold]{d['name']}[/]")
            for line in d["diff"]:
                style = "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
                console.print(f"[{style}]{line}[/]", markup=True, highlight=False, soft_wrap=True)
    rows = [(d["name"], d["status"], f"+{d['added']} -{d['removed']}",
             " ".join(f"{k}={v}" for k, v in d["seconds"].items()), d["error"] or "") for d in data["devices"]]
    console.print(table("devices", ["router", "status", "changes", "seconds", "error"], rows))
    s = data["summary"]
    console.print(f"[bold]{'ok' if data['ok'] else 'FAILED'}[/] in {data['seconds']}s: "
                  f"changed {s['changed']}, unchanged {s['unchanged']}, would change {s['would-change']}, "
                  f"rolled back {s['rolled-back']}, failed {s['failed']} (of {s['total']})"
                  + (f"; report {data['report']}" if data.get("report") else ""))


def _push_options(f):
    for opt in reversed([
        inventory_option, limit_option, vendor_option, workers_option, timeout_option, vault_option,
        click.option("--confirm-timeout", type=click.FloatRange(5, 3600), default=120.0, show_default=True,
                     help="A change not verified and confirmed within this many seconds is rolled back."),
        click.option("--settle-timeout", type=click.FloatRange(1, 3600), default=60.0, show_default=True,
                     help="How long verification waits for adjacencies and reachability."),
        click.option("--min-hold", type=click.FloatRange(0, 600), default=5.0, show_default=True,
                     help="Adjacencies must stay up this long after a change before it is confirmed."),
        vantage_option, verbose_option, log_file_option,
        click.option("--report", type=click.Path(dir_okay=False), default=None, help="Where to write the JSON report."),
        json_option,
    ]):
        f = opt(f)
    return f


@net_group.command("push")
@_push_options
@click.option("--dry-run", is_flag=True, help="Connect and show what would change; change nothing.")
def push_cmd(inventory, limit, vendor, workers, timeout, vault, confirm_timeout, settle_timeout, min_hold,
             vantage, verbose, log_file, report, as_json, dry_run) -> None:
    """Push the rendered configs: diff, apply only the diff, verify, confirm — or roll back automatically."""
    _run_push(inventory, limit, vendor, workers, timeout, vault, as_json, dry_run, confirm_timeout, settle_timeout,
              min_hold, verbose, log_file, vantage, report)


@net_group.command("diff")
@inventory_option
@limit_option
@vendor_option
@workers_option
@timeout_option
@vault_option
@verbose_option
@json_option
def diff_cmd(inventory, limit, vendor, workers, timeout, vault, verbose, as_json) -> None:
    """What a push would change on each router (hierarchical, coloured); exit 1 when something would change."""
    from egovops.network.push import PushEngine, PushOptions
    from egovops.network.targets import plan_of

    _setup_logging(verbose, None)
    p = load_or_exit(inventory, as_json)
    vendor = _vendor(p, vendor)
    sel = _select(p, limit, as_json)
    creds = _creds(p, vault, as_json)
    plans = [plan_of(p, n, vendor, timeout) for n in sel.routers]
    rep = PushEngine(plans, creds, PushOptions(dry_run=True, workers=workers, device_timeout=timeout)).run()
    data = rep.as_dict()
    data.update({"inventory": p.meta.name, "vendor": vendor, "skipped": sel.skipped})
    if as_json:
        print_json(data)
    else:
        _print_push(data, show_diff=True)
    failed = any(d["status"] == "failed" for d in data["devices"])
    drift = any(d["status"] == "would-change" for d in data["devices"])
    raise SystemExit(CHECK_FAILED if failed or drift else OK)


# ------------------------------------------------------------------------------------------ verify
@net_group.command("verify")
@inventory_option
@limit_option
@vendor_option
@workers_option
@vault_option
@vantage_option
@click.option("--wait", type=click.FloatRange(0, 600), default=0.0, show_default=True,
              help="Retry failing checks for up to this many seconds (e.g. right after a push).")
@click.option("--matrix/--no-matrix", default=True, show_default=True,
              help="Lab: also check every cloud node from every other node's host (v4 and v6).")
@verbose_option
@json_option
def verify_cmd(inventory, limit, vendor, workers, vault, vantage, wait, matrix, verbose, as_json) -> None:
    """Dual-stack reachability (NOC → every loopback, node ↔ node), OSPF/OSPFv3/BFD/BGP state; what is broken where."""
    from egovops.network.targets import is_lab
    from egovops.network.vantage import lab_node_vantages
    from egovops.network.verify import verify

    _setup_logging(verbose, None)
    p = load_or_exit(inventory, as_json)
    vendor = _vendor(p, vendor)
    sel = _select(p, limit, as_json)
    creds = _creds(p, vault, as_json)
    v = _vantage(p, vantage, as_json)
    if v is None:
        bad_input("net verify needs a vantage (reachability is its point)", as_json)
    nodes, vantage_of = None, None
    if matrix and is_lab(p):
        nodes, vantage_of = lab_node_vantages(p)
    rep = verify(p, sel.routers, vendor, creds, v, workers, nodes, vantage_of, wait,
                 progress=(lambda m: None) if as_json else (lambda m: err_console.print(f"[dim]{m}[/]")))
    data = rep.as_dict()
    data.update({"inventory": p.meta.name, "vantage": v.name, "routers": sel.routers, "nodes": nodes or [],
                 "skipped": sel.skipped})
    if as_json:
        print_json(data)
    else:
        s = data["summary"]
        # the reachability matrix as a table: router x family
        by: dict[str, dict[str, str]] = {}
        for r in rep.reachability:
            by.setdefault(r["to"], {})[r["family"]] = "[green]ok[/]" if r["ok"] else "[red]UNREACHABLE[/]"
        proto = {r["router"]: r for r in rep.protocols}
        rows = []
        for name in sel.routers:
            pr = proto.get(name, {})
            up = pr.get("up", {})
            rows.append((name, by.get(name, {}).get("ipv4", ""), by.get(name, {}).get("ipv6", ""),
                         up.get("ospf", ""), up.get("ospf6", ""), up.get("bfd", ""), up.get("bgp", ""),
                         "" if pr.get("ok") else ("; ".join(f"{k}: {', '.join(v)}" for k, v in pr.get("missing", {}).items())
                                                  or pr.get("error", ""))))
        console.print(table(f"loopbacks from {v.name}; adjacencies up/expected",
                            ["router", "IPv4", "IPv6", "OSPF", "OSPFv3", "BFD", "BGP", "broken"], rows))
        if rep.matrix:
            bad = [m for m in rep.matrix if not m["ok"]]
            console.print(f"node matrix: {s['matrix']['ok']}/{s['matrix']['total']} node→node checks ok "
                          f"({len(nodes or [])} nodes, IPv4 + IPv6)")
            if bad:
                console.print(table("unreachable node pairs", ["from", "to", "family", "address"],
                                    [(m["from"], m["to"], m["family"], m["address"]) for m in bad]))
        console.print(f"[bold]{'ok' if rep.ok else 'BROKEN'}[/]: reachability {s['reachability']['ok']}/"
                      f"{s['reachability']['total']}, protocols {s['protocols']['ok']}/{s['protocols']['total']}"
                      f", matrix {s['matrix']['ok']}/{s['matrix']['total']} in {data['seconds']}s "
                      f"({rep.attempts} attempt(s))")
    raise SystemExit(OK if rep.ok else CHECK_FAILED)


# ------------------------------------------------------------------------------------------ backup/rollback
@net_group.command("backup")
@inventory_option
@limit_option
@vendor_option
@workers_option
@timeout_option
@vault_option
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Folder (default build/net/<inventory>/backups/<UTC timestamp>).")
@json_option
def backup_cmd(inventory, limit, vendor, workers, timeout, vault, out, as_json) -> None:
    """Save every selected router's running config into a timestamped folder (for `net rollback --to`)."""
    from egovops.network.backup import backup

    p = load_or_exit(inventory, as_json)
    vendor = _vendor(p, vendor)
    sel = _select(p, limit, as_json)
    creds = _creds(p, vault, as_json)
    folder = Path(out or f"build/net/{p.meta.name}/backups/{_stamp()}")
    res = backup(p, sel.routers, vendor, creds, folder, workers, timeout)
    if as_json:
        print_json(res)
    else:
        console.print(table(f"backup in {folder}", ["router", "status", "file / error"],
                            [(r["router"], "ok" if r["ok"] else "FAILED", r.get("file") or r.get("error"))
                             for r in res["routers"]]))
    raise SystemExit(OK if res["ok"] else CHECK_FAILED)


@net_group.command("rollback")
@_push_options
@click.option("--to", "to", required=True, type=click.Path(file_okay=False, exists=True),
              help="A folder written by `net backup` (or a push's rollback point under build/net/<inv>/rollback/).")
@click.option("--dry-run", is_flag=True, help="Show what restoring would change; change nothing.")
def rollback_cmd(inventory, limit, vendor, workers, timeout, vault, confirm_timeout, settle_timeout, min_hold,
                 vantage, verbose, log_file, report, as_json, to, dry_run) -> None:
    """Restore routers to a backup exactly (same confirmed-commit safety as push)."""
    from egovops.network.backup import BackupError, plans_from_backup

    def plans(p, routers, vendor_, timeout_):
        try:
            return plans_from_backup(p, Path(to), routers, vendor_, timeout_)
        except BackupError as exc:
            bad_input(str(exc), as_json)

    _run_push(inventory, limit, vendor, workers, timeout, vault, as_json, dry_run, confirm_timeout, settle_timeout,
              min_hold, verbose, log_file, vantage, report, plans_from=plans, title="rollback")
