"""egovops dr: disaster recovery — bring it up, read its status, drill it, fail back.

Parses options, calls :mod:`egovops.dr.service`, prints. Exit 0 ok, 1 a check or target missed,
2 bad input (unknown scenario, DR not up, a city that is not up) with nothing changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, NoReturn

import click
from rich.markup import escape

from egovops.cli.common import inventory_option, json_option, load_or_exit
from egovops.cli.output import CHECK_FAILED, OK, bad_input, console, err_console, print_json, table

SCENARIO_HELP = "province-primary-loss | remote-restore | city-pair-loss"


@click.group("dr")
def dr_group() -> None:
    """Disaster recovery: same-city standby, remote backups, city backup pairs — status, drills, failback."""


def _log(as_json: bool):
    out = err_console if as_json else console
    return lambda m: out.print(f"[dim]{escape(m)}[/]")


def _ts(v) -> str:
    if v is None:
        return "—"
    return dt.datetime.fromtimestamp(float(v), dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _num(v, unit: str = "s") -> str:
    return "—" if v is None else f"{float(v):.1f}{unit}"


def _run_and_exit(action: Callable[[], Any], as_json: bool, headline: Callable[[Any], str],
                  errors: tuple[type[Exception], type[Exception]]) -> NoReturn:
    """Run a DR action that changes the estate and print its result the same way for every such command.

    ``errors`` is (bad input → exit 2, nothing changed; a DR failure → exit 1). ``headline`` builds the
    one-line summary from the result; it is printed literally (it carries inventory and host names).
    """
    input_error, dr_error = errors
    try:
        res = action()
    except input_error as exc:
        bad_input(str(exc), as_json)
    except dr_error as exc:
        if as_json:
            print_json({"ok": False, "error": str(exc)})
        else:
            err_console.print(f"[bold red]✗[/] {escape(str(exc))}")
        raise SystemExit(CHECK_FAILED) from None
    if as_json:
        print_json(res.as_dict())
    else:
        mark = "[green]✓[/]" if res.ok else "[bold red]✗[/]"
        console.print(f"{mark} {escape(headline(res))}")
        for prob in res.problems:
            console.print(f"  [red]✗[/] {escape(prob)}")
    raise SystemExit(OK if res.ok else CHECK_FAILED)


@dr_group.command("up")
@inventory_option
@json_option
@click.option("--no-objects", is_flag=True, help="Only the database tier (the object stores are already up).")
def up_cmd(inventory: str, as_json: bool, no_objects: bool) -> None:
    """Bring DR up (idempotent): object stores and replication, then the database tier; ends with status."""
    from egovops.dr.postgres import DrError, DrInputError
    from egovops.dr.service import UpOptions, up
    p = load_or_exit(inventory, as_json)
    _run_and_exit(lambda: up(p, UpOptions(objects=not no_objects), _log(as_json)), as_json,
                  lambda res: f"DR up on {p.meta.name} in {res.seconds:.0f}s, {res.changed} change(s)",
                  (DrInputError, DrError))


@dr_group.command("status")
@inventory_option
@json_option
def status_cmd(inventory: str, as_json: bool) -> None:
    """Every tier and pair: replication state, lag, last verified backup, healthy (exit 1 if any is not)."""
    from egovops.dr.postgres import DrInputError
    from egovops.dr.service import status
    p = load_or_exit(inventory, as_json)
    try:
        st = status(p)
    except DrInputError as exc:
        bad_input(str(exc), as_json)
    if as_json:
        print_json(st.as_dict())
    else:
        rows = [(r.store, r.tier, f"{r.source} → {r.target}", r.state, _num(r.lag_seconds), _ts(r.last_sync),
                 _ts(r.last_verified_backup), _num(r.rpo_seconds), "yes" if r.healthy else "NO")
                for r in st.pairs]
        console.print(table(f"DR status {p.meta.name}: database primary {st.primary or 'NONE'}"
                            + (" (roles swapped: failback pending)" if st.roles_swapped else ""),
                            ["store", "tier", "pair", "state", "lag", "last sync", "last backup", "RPO", "healthy"],
                            rows, plain=True))
        for r in st.pairs:
            if r.problem:
                console.print(f"  [red]✗[/] {escape(f'{r.store}/{r.tier} {r.source} → {r.target}: {r.problem}')}")
        bad = sum(1 for r in st.pairs if not r.healthy)
        console.print("[green]✓[/] every tier and pair healthy" if st.ok else
                      f"[bold red]✗[/] {bad} of {len(st.pairs)} not healthy")
    raise SystemExit(OK if st.ok else CHECK_FAILED)


@dr_group.command("drill")
@inventory_option
@json_option
@click.option("--scenario", required=True, help=SCENARIO_HELP)
@click.option("--city", default=None, help="city-pair-loss: the city whose store is lost (its partner from dr.yaml).")
@click.option("--no-objects", is_flag=True, help="province-primary-loss: database rows only.")
def drill_cmd(inventory: str, as_json: bool, scenario: str, city: str | None, no_objects: bool) -> None:
    """Run a drill on the lab: bounded load, a real failure, RPO/RTO measured against dr.yaml.

    Exit 0 when every target is met, 1 when one is missed, 2 on bad input (nothing changed).
    A report is written under build/dr/<inventory>/.
    """
    from egovops.dr.postgres import DrInputError
    from egovops.dr.service import DrillOptions, drill
    p = load_or_exit(inventory, as_json)
    try:
        res = drill(p, DrillOptions(scenario, city, objects=not no_objects), _log(as_json))
    except DrInputError as exc:
        bad_input(str(exc), as_json)
    if as_json:
        print_json(res.as_dict())
    else:
        t = res.targets
        console.print(table(f"drill {res.scenario} on {p.meta.name} ({res.drill_id})", ["", ""], [
            ("RTO", f"{_num(res.rto_seconds)} (target {t.get('rto_seconds')}s, tier {t.get('tier')})"),
            ("RPO", f"{_num(res.rpo_seconds)} (target {t.get('rpo_seconds')}s)"),
            ("acknowledged writes", res.acknowledged_writes), ("lost writes", res.lost_writes),
            ("objects checked / missing / differing", f"{res.objects_checked} / {res.objects_missing} / "
                                                       f"{res.objects_mismatched}"),
            ("primary before → after", f"{res.old_primary} → {res.new_primary}"),
            ("report", res.report)], plain=True))
        for prob in res.problems:
            console.print(f"  [red]✗[/] {escape(prob)}")
        console.print("[green]✓[/] every target met" if res.ok else "[bold red]✗[/] drill failed")
    raise SystemExit(OK if res.ok else CHECK_FAILED)


@dr_group.command("failback")
@inventory_option
@json_option
def failback_cmd(inventory: str, as_json: bool) -> None:
    """Re-attach the former primary as the standby (after a failover); run again to restore the original roles."""
    from egovops.dr.postgres import DrError, DrInputError
    from egovops.dr.service import failback
    p = load_or_exit(inventory, as_json)
    _run_and_exit(lambda: failback(p, _log(as_json)), as_json,
                  lambda res: f"failback ({res.action}): primary {res.primary}, standby {res.standby} "
                              f"in {res.seconds:.0f}s",
                  (DrInputError, DrError))
