"""``egovops net``: render, diff, push (confirmed, with automatic rollback), verify, backup, rollback.

Thin: options and output only; the work is in :mod:`egovops.network`.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click
from rich.text import Text

from egovops.cli.common import inventory_option, json_option, limit_option, load_or_exit
from egovops.cli.output import CHECK_FAILED, OK, bad_input, console, err_console, print_json, table
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


def _setup_logging(verbose: int, log_file: str | None) -> None:
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


def _request(cls, inventory: str, as_json: bool, **kw):
    """Load the inventory (exit 2 on problems) and build a service request."""
    return cls(province=load_or_exit(inventory, as_json), **kw)


def _creds(province: Province, vault: str | None, as_json: bool):
    from egovops.network.service import NetInputError, credentials_of

    try:
        return credentials_of(province, vault)
    except NetInputError as exc:
        bad_input(str(exc), as_json)


def _select(province: Province, limit: str | None, as_json: bool):
    from egovops.network.service import NetInputError, selection_of

    try:
        return selection_of(province, limit)
    except NetInputError as exc:
        bad_input(str(exc), as_json)


def _vendor(province: Province, vendor: str | None) -> str:
    from egovops.network.service import vendor_of

    return vendor_of(province, vendor)


def _stamp() -> str:
    from egovops.changelock import run_stamp

    return run_stamp()


STATUS_STYLE = {"changed": "green", "unchanged": "dim", "would-change": "yellow", "rolled-back": "magenta",
                "failed": "red", "not-touched": "yellow", "unknown": "bold red"}


def _progress(as_json: bool, total: int):
    """Progress lines on stderr; device names and device text are printed literally (rich Text, never markup)."""
    done = {"n": 0}
    quiet = not sys.stderr.isatty() and not os.environ.get("EGOVOPS_PROGRESS")

    def cb(device: str, event: str, detail: str) -> None:
        if device == "*":                         # engine events: waves, stop
            err_console.print(Text.assemble((f"{event}: ", "bold"), str(detail)))
        elif event == "done":
            done["n"] += 1
            count = f"[{done['n']:>3}/{total}] " if total > 0 else f"[{done['n']:>3}] "
            err_console.print(Text.assemble(count, (f"{device:<28} ", ""),
                                            (str(detail), STATUS_STYLE.get(detail, "white"))))
        elif event == "rollback" and not quiet:
            err_console.print(Text.assemble(f"      {device:<28} ", ("rolling back", "magenta"), f": {detail}"))
        elif not quiet:
            err_console.print(Text.assemble(f"      {device:<28} ", (f"{event} {detail}", "dim")))
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
def render_cmd(inventory: str, limit: str | None, vendor: str | None, out: str | None, as_json: bool) -> None:
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
def _run_push(as_json: bool, verbose: int, log_file: str | None, req_kw: dict, title: str = "push") -> None:
    from egovops.network.service import NetInputError, PushRequest, push

    _setup_logging(verbose, log_file)
    req = _request(PushRequest, req_kw.pop("inventory"), as_json, title=title, **req_kw)
    if not as_json:
        err_console.print(Text.assemble((title, "bold"), f" {req.province.meta.name}"
                                        + (" — dry run, nothing changes" if req.dry_run else "")))
    try:
        out = push(req, progress=_progress(as_json, 0),         # the selection is made inside the service
                   log=lambda m: err_console.print(Text.assemble(("lab prerequisite ", "yellow"), m)))
    except NetInputError as exc:
        bad_input(str(exc), as_json)
    data = out.as_dict()
    if as_json:
        print_json(data)
    else:
        _print_push(data, show_diff=req.dry_run or verbose > 0)
    raise SystemExit(OK if out.ok else CHECK_FAILED)


def _print_push(data: dict, show_diff: bool) -> None:
    """The diff (coloured by sign) and the device table; every device line is printed literally."""
    for d in data["devices"]:
        if d["diff"] and (show_diff or d["status"] in ("would-change",)):
            console.print(Text(d["name"], style="bold"))
            for line in d["diff"]:
                style = "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
                console.print(Text(line, style=style), highlight=False, soft_wrap=True)
    rows = [(d["name"], d["status"], f"+{d['added']} -{d['removed']}",
             " ".join(f"{k}={v}" for k, v in d["seconds"].items()), d["error"] or "") for d in data["devices"]]
    console.print(table("devices", ["router", "status", "changes", "seconds", "error"], rows, plain=True))
    s = data["summary"]
    waves = data.get("waves") or []
    console.print(Text.assemble(("ok" if data["ok"] else "FAILED", "bold"),
                                f" in {data['seconds']}s: changed {s['changed']}, unchanged {s['unchanged']}, "
                                f"would change {s['would-change']}, rolled back {s['rolled-back']}, failed {s['failed']}, "
                                f"not touched {s.get('not-touched', 0)}, state unknown {s.get('unknown', 0)} "
                                f"(of {s['total']})"
                                + (f"; {len(waves)} wave(s)" if len(waves) > 1 else "")
                                + (f"; report {data['report']}" if data.get("report") else "")))
    if data.get("stopped"):
        console.print(Text.assemble(("stopped: ", "bold red"), data["stopped"]))
        console.print(Text("not touched: " + ", ".join(data.get("untouched") or [])))
    if data.get("unknown"):
        console.print(Text.assemble(("state UNKNOWN (rollback failed or not checked; inspect by hand): ", "bold red"),
                                    ", ".join(data["unknown"])))


def _max_fail(ctx, param, value):
    if value is None:
        return -1                                   # the environment's default
    if str(value).lower() == "none":
        return None
    try:
        n = int(value)
    except ValueError:
        raise click.BadParameter(f"{value!r}: expected a number >= 1 or 'none'") from None
    if n < 1:
        raise click.BadParameter(f"{value!r}: expected a number >= 1 or 'none'")
    return n


def _push_options(f):
    for opt in reversed([
        inventory_option, limit_option, vendor_option, workers_option, timeout_option, vault_option,
        click.option("--confirm-timeout", type=click.FloatRange(5, 3600), default=120.0, show_default=True,
                     help="A change not verified and confirmed within this many seconds is rolled back."),
        click.option("--settle-timeout", type=click.FloatRange(1, 3600), default=60.0, show_default=True,
                     help="How long verification waits for adjacencies and reachability."),
        click.option("--min-hold", type=click.FloatRange(0, 600), default=5.0, show_default=True,
                     help="Adjacencies must stay up this long after a change before it is confirmed."),
        click.option("--canary", type=click.IntRange(0, 10000), default=None,
                     help="Devices pushed and verified first, alone; if one fails nothing else is touched "
                          "(default: 1 in production, 0 in the lab)."),
        click.option("--batch", default=None, metavar="SIZE|PCT%",
                     help="Devices per wave after the canary (default: 10% in production, 100% in the lab)."),
        click.option("--max-fail", default=None, callback=_max_fail, metavar="K|none",
                     help="Stop after K failed devices; the rest are not touched (default: 1 in production, "
                          "none in the lab)."),
        click.option("--lock-wait", type=click.FloatRange(0, 3600), default=10.0, show_default=True,
                     help="Seconds to wait for another change on this inventory to finish (then exit 2 naming it)."),
        vantage_option, verbose_option, log_file_option,
        click.option("--report", type=click.Path(dir_okay=False), default=None, help="Where to write the JSON report."),
        json_option,
    ]):
        f = opt(f)
    return f


def _push_kw(inventory, limit, vendor, workers, timeout, vault, confirm_timeout, settle_timeout, min_hold, canary,
             batch, max_fail, lock_wait, vantage, report, dry_run) -> dict:
    return dict(inventory=inventory, limit=limit, vendor=vendor, workers=workers, timeout=timeout, vault=vault,
                confirm_timeout=confirm_timeout, settle_timeout=settle_timeout, min_hold=min_hold, canary=canary,
                batch=batch, max_fail=max_fail, lock_wait=lock_wait, vantage=vantage,
                report=Path(report) if report else None, dry_run=dry_run)


@net_group.command("push")
@_push_options
@click.option("--dry-run", is_flag=True, help="Connect and show what would change; change nothing.")
def push_cmd(inventory, limit, vendor, workers, timeout, vault, confirm_timeout, settle_timeout, min_hold, canary,
             batch, max_fail, lock_wait, vantage, verbose, log_file, report, as_json, dry_run) -> None:
    """Push the rendered configs in waves (canary, batches): diff, apply, verify, confirm — or roll back."""
    _run_push(as_json, verbose, log_file, _push_kw(inventory, limit, vendor, workers, timeout, vault, confirm_timeout,
                                                   settle_timeout, min_hold, canary, batch, max_fail, lock_wait,
                                                   vantage, report, dry_run))


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
    from egovops.network.service import NetInputError, PushRequest, diff

    _setup_logging(verbose, None)
    req = _request(PushRequest, inventory, as_json, limit=limit, vendor=vendor, workers=workers, timeout=timeout,
                   vault=vault)
    try:
        data = diff(req).as_dict()
    except NetInputError as exc:
        bad_input(str(exc), as_json)
    if as_json:
        print_json(data)
    else:
        _print_push(data, show_diff=True)
    failed = any(d["status"] in ("failed", "unknown") for d in data["devices"])
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
    from egovops.network.service import NetInputError, NetRequest, verify

    _setup_logging(verbose, None)
    req = _request(NetRequest, inventory, as_json, limit=limit, vendor=vendor, workers=workers, vault=vault)
    try:
        rep, sel, v, nodes = verify(req, vantage, wait, matrix,
                                    progress=(lambda m: None) if as_json else (lambda m: err_console.print(Text(m, style="dim"))))
    except NetInputError as exc:
        bad_input(str(exc), as_json)
    data = rep.as_dict()
    data.update({"inventory": req.province.meta.name, "vantage": v.name, "routers": sel.routers, "nodes": nodes or [],
                 "skipped": sel.skipped})
    if as_json:
        print_json(data)
    else:
        _print_verify(rep, data, sel.routers, v.name, nodes)
    raise SystemExit(OK if rep.ok else CHECK_FAILED)


def _print_verify(rep, data: dict, routers: list[str], vantage: str, nodes) -> None:
    """Verify tables: router and device text as literal Text cells; only our own words carry style."""
    s = data["summary"]
    # the reachability matrix as a table: router x family (cells are Text: device text stays literal)
    by: dict[str, dict[str, Text]] = {}
    for r in rep.reachability:
        by.setdefault(r["to"], {})[r["family"]] = Text("ok", style="green") if r["ok"] else Text("UNREACHABLE", style="red")
    proto = {r["router"]: r for r in rep.protocols}
    rows = []
    for name in routers:
        pr = proto.get(name, {})
        up = pr.get("up", {})
        broken = "" if pr.get("ok") else ("; ".join(f"{k}: {', '.join(v)}" for k, v in pr.get("missing", {}).items())
                                          or pr.get("error", ""))
        rows.append((Text(name), by.get(name, {}).get("ipv4", Text("")), by.get(name, {}).get("ipv6", Text("")),
                     Text(str(up.get("ospf", ""))), Text(str(up.get("ospf6", ""))), Text(str(up.get("bfd", ""))),
                     Text(str(up.get("bgp", ""))), Text(str(broken))))
    console.print(table(f"loopbacks from {vantage}; adjacencies up/expected",
                        ["router", "IPv4", "IPv6", "OSPF", "OSPFv3", "BFD", "BGP", "broken"], rows))
    if rep.matrix:
        bad = [m for m in rep.matrix if not m["ok"]]
        console.print(Text(f"node matrix: {s['matrix']['ok']}/{s['matrix']['total']} node→node checks ok "
                           f"({len(nodes or [])} nodes, IPv4 + IPv6)"))
        if bad:
            console.print(table("unreachable node pairs", ["from", "to", "family", "address"],
                                [(m["from"], m["to"], m["family"], m["address"]) for m in bad], plain=True))
    console.print(Text.assemble(("ok" if rep.ok else "BROKEN", "bold"),
                                f": reachability {s['reachability']['ok']}/{s['reachability']['total']}, protocols "
                                f"{s['protocols']['ok']}/{s['protocols']['total']}, matrix {s['matrix']['ok']}/"
                                f"{s['matrix']['total']} in {data['seconds']}s ({rep.attempts} attempt(s))"))


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
def rollback_cmd(inventory, limit, vendor, workers, timeout, vault, confirm_timeout, settle_timeout, min_hold, canary,
                 batch, max_fail, lock_wait, vantage, verbose, log_file, report, as_json, to, dry_run) -> None:
    """Restore routers to a backup exactly (same confirmed-commit, canary and batch safety as push)."""
    kw = _push_kw(inventory, limit, vendor, workers, timeout, vault, confirm_timeout, settle_timeout, min_hold, canary,
                  batch, max_fail, lock_wait, vantage, report, dry_run)
    _run_push(as_json, verbose, log_file, {**kw, "rollback_to": Path(to)}, title="rollback")


# ------------------------------------------------------------------------------------------ flows
@net_group.command("flows")
@inventory_option
@limit_option
@click.option("--sample", type=click.IntRange(0, 64), default=8, show_default=True,
              help="Denied node pairs to try (deterministic sample, each in both families).")
@click.option("--timeout", type=click.FloatRange(0.1, 30), default=2.0, show_default=True,
              help="Seconds per connection (a denied flow must time out: dropped).")
@json_option
def flows_cmd(inventory, limit, sample, timeout, as_json) -> None:
    """Lab: real TCP connections for every catalogue call (v4 + v6) and a sample of denied flows."""
    from egovops.network.flows import FlowInputError, FlowRequest, run

    req = FlowRequest(province=load_or_exit(inventory, as_json), limit=limit, sample=sample, timeout_s=timeout)
    try:
        rep = run(req, progress=(lambda m: None) if as_json else (lambda m: err_console.print(Text(m, style="dim"))))
    except FlowInputError as exc:
        bad_input(str(exc), as_json)
    data = rep.as_dict()
    if as_json:
        print_json(data)
        raise SystemExit(OK if rep.ok else CHECK_FAILED)
    style = {"works": "green", "blocked": "green", "broken": "red"}

    def note(c) -> str:
        if c.result == "broken":
            return f"{c.outcome}: {c.detail}" if c.detail else c.outcome
        if c.probe.kind == "denied":
            return f"{c.outcome} (dropped)"
        called = sorted({part.rpartition(":")[2] for part in c.probe.label.split("; ")})
        return f"{len(called)} call(s): {', '.join(called)}"

    rows = [(Text(c.probe.kind), Text(c.probe.caller), Text(c.probe.callee), Text(f"tcp/{c.probe.port}"),
             Text(c.probe.family), Text(c.result, style=style[c.result]), Text(note(c))) for c in rep.checks]
    console.print(table(f"cross-node flows of {rep.inventory} (caller's service address -> callee's)",
                        ["flow", "caller", "callee", "port", "family", "result", "detail"], rows))
    s = data["summary"]
    if rep.not_tested:
        console.print(Text(f"{len(rep.not_tested)} catalogue call(s) not tested (an end not selected or not up)"))
    console.print(Text.assemble(("ok" if rep.ok else "BROKEN", "bold"),
                                f": allowed {s['allowed']['works']} work, {s['allowed']['broken']} broken; denied "
                                f"{s['denied']['blocked']} blocked, {s['denied']['broken']} got through or unproven "
                                f"(sample of {data['denied_candidates']} candidates) in {data['seconds']}s",
                                (f"; {rep.error}" if rep.error else "")))
    raise SystemExit(OK if rep.ok else CHECK_FAILED)
