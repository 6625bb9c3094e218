"""``egovops monitor``: the NOC hierarchy — up, status, down, alerts, check (parses and prints only)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from rich.markup import escape

from egovops.cli.common import inventory_option, json_option, limit_option, load_or_exit
from egovops.cli.output import CHECK_FAILED, OK, bad_input, console, err_console, print_json, styled, table


@click.group("monitor")
def monitor_group() -> None:
    """Prometheus per NOC (16 cities + province), Alertmanager routing per city, exporters, sinks."""


def _log(as_json: bool):
    return (lambda m: err_console.print(f"[dim]{escape(m)}[/]")) if as_json else \
        (lambda m: console.print(f"[dim]{escape(m)}[/]"))


def _print_status(st) -> None:
    rows = [(n.name, n.host, styled("[green]up[/]") if n.prometheus_up else styled("[red]down[/]"),
             f"{n.targets_up}/{n.targets_total}", n.firing, n.error) for n in st.nocs]
    console.print(table("NOC Prometheus servers", ["noc", "host", "prometheus", "targets up", "firing", "error"], rows))
    for n in st.nocs:
        for d in n.down:
            console.print(f"  [red]✗[/] {escape(n.name)}: {escape(d['job'])} {escape(d['instance'])} "
                          f"{escape(d['health'])} {escape(d['error'])}")
    console.print(f"alertmanager: {'[green]up[/]' if st.alertmanager_up else '[red]down[/]'}"
                  + "".join(f", {escape(k)}: {'[green]running[/]' if v else '[red]not running[/]'}"
                            for k, v in st.controller.items()))
    console.print("[green]✓[/] every target up" if st.ok else "[bold red]✗[/] not everything is up")


@monitor_group.command("up")
@inventory_option
@limit_option
@json_option
@click.option("--check", is_flag=True, help="Run the role in check mode (--diff): change nothing.")
@click.option("--wait", type=click.FloatRange(0, 900), default=120.0, show_default=True,
              help="Seconds to wait for every target's first scrape.")
@click.option("--interval", type=click.FloatRange(10, 86400), default=None,
              help="Seconds between scheduled drift/compliance checks [default: the environment's].")
@click.option("--dr", type=click.Choice(["auto", "on", "off"]), default="auto", show_default=True,
              help="Serve DR metrics (auto: production always; a lab once DR was deployed on it).")
def up_cmd(inventory, limit, as_json, check, wait, interval, dr) -> None:
    """Deploy the hierarchy (roles/monitoring) and start the controller's exporter, sinks and checks.

    Exit 0 when every target of every NOC is up, 1 when not (or a host failed), 2 on bad input
    (e.g. the lab is not up)."""
    from egovops.harden.playbook import PlaybookInputError
    from egovops.monitor.service import MonitorInputError, up

    p = load_or_exit(inventory, as_json)
    try:
        res = up(p, limit=limit, check=check, wait=wait, interval=interval, progress=_log(as_json), dr=dr)
    except (MonitorInputError, PlaybookInputError) as exc:
        bad_input(str(exc), as_json)
    if as_json:
        print_json(res.as_dict())
    else:
        console.print(table(f"monitoring playbook: {len(res.hosts)} hosts (rc {res.playbook_rc})",
                            ["host", "ok", "changed", "failed", "unreachable"],
                            [(h["host"], h["ok"], h["changed"], h["failed"], h["unreachable"]) for h in res.hosts]))
        if res.log:
            console.print(res.log, markup=False)
        if not check:
            _print_status(res.status)
        console.print(f"{'[green]✓[/]' if res.ok else '[bold red]✗[/]'} monitor up in {res.seconds:.1f}s")
    raise SystemExit(OK if res.ok else CHECK_FAILED)


@monitor_group.command("status")
@inventory_option
@json_option
def status_cmd(inventory, as_json) -> None:
    """Every NOC Prometheus: up?, targets up/total, alerts firing. Exit 1 if any target is down."""
    from egovops.monitor.service import MonitorInputError, require_lab_up, status

    p = load_or_exit(inventory, as_json)
    try:
        require_lab_up(p)
    except MonitorInputError as exc:
        bad_input(str(exc), as_json)
    st = status(p)
    if as_json:
        print_json(st.as_dict())
    else:
        _print_status(st)
    raise SystemExit(OK if st.ok else CHECK_FAILED)


@monitor_group.command("down")
@inventory_option
@json_option
def down_cmd(inventory, as_json) -> None:
    """Stop the controller's exporter, sinks and check scheduler (by PID file)."""
    from egovops.monitor.service import down

    p = load_or_exit(inventory, as_json)
    res = down(p)
    if as_json:
        print_json({"ok": True, "stopped": res.stopped})
    else:
        console.print(f"[green]✓[/] stopped {len(res.stopped)} monitoring process(es) on the controller")
    raise SystemExit(OK)


@monitor_group.command("alerts")
@inventory_option
@json_option
def alerts_cmd(inventory, as_json) -> None:
    """What fires (provincial Prometheus, federated city alerts included) and what reached each receiver."""
    from egovops.monitor.service import MonitorInputError, alerts, require_lab_up

    p = load_or_exit(inventory, as_json)
    try:
        require_lab_up(p)
        res = alerts(p)
    except MonitorInputError as exc:
        bad_input(str(exc), as_json)
    except (OSError, ValueError) as exc:
        if as_json:
            print_json({"ok": False, "error": f"{type(exc).__name__}: {exc}"})
        else:
            err_console.print(f"[bold red]✗[/] cannot read alerts: {escape(str(exc))}")
        raise SystemExit(CHECK_FAILED) from None
    if as_json:
        print_json(res.as_dict())
        raise SystemExit(OK)
    console.print(table("firing (provincial NOC)", ["alert", "severity", "city", "noc", "labels"],
                        [(a.get("alertname", ""), a.get("severity", ""), a.get("city", ""), a.get("noc", ""),
                          " ".join(f"{k}={v}" for k, v in sorted(a.items())
                                   if k not in ("alertname", "severity", "city", "noc", "__name__", "alertstate")))
                         for a in res.firing]))
    rows = []
    for rcv, notes in sorted(res.delivered.items()):
        for n in notes:
            when = dt.datetime.fromtimestamp(n["received_at"]).strftime("%H:%M:%S")
            for a in n["alerts"]:
                rows.append((rcv, when, a["status"], a["labels"].get("alertname", ""), a["labels"].get("city", ""),
                             a["annotations"].get("runbook_url", "")))
    console.print(table("delivered", ["receiver", "at", "status", "alert", "city", "runbook"], rows))
    raise SystemExit(OK)


@monitor_group.command("check")
@inventory_option
@json_option
@click.option("--state", type=click.Path(file_okay=False), default=None,
              help="Folder of the drift state the exporter serves [default: the controller's].")
@click.option("--checks", default="router,host,comply", show_default=True,
              help="Which checks: router (drift), host (drift), comply (metrics to node_exporter).")
def check_cmd(inventory, as_json, state, checks) -> None:
    """Run the scheduled checks once (what the production timers and the lab scheduler run).

    Exit 0 when every check ran and read every device, 1 otherwise, 2 on bad input."""
    from egovops.monitor.scheduler import run_checks
    from egovops.monitor.service import state_dir

    p = load_or_exit(inventory, as_json)
    kinds = tuple(k.strip() for k in checks.split(",") if k.strip())
    unknown = [k for k in kinds if k not in ("router", "host", "comply")]
    if unknown or not kinds:
        bad_input(f"--checks {checks}: unknown check(s) {', '.join(map(repr, unknown)) or '(none given)'} "
                  "(use router, host, comply)", as_json)
    res = run_checks(p, Path(state) if state else state_dir(p), kinds, log=_log(as_json))
    if as_json:
        print_json({"ok": res.ok, "seconds": res.seconds, "checks": res.results})
    else:
        console.print(table("scheduled checks", ["check", "ok", "detail"],
                            [(k, v["ok"], v["detail"]) for k, v in res.results.items()]))
    raise SystemExit(OK if res.ok else CHECK_FAILED)
