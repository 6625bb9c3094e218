"""egovops deploy: the main job.

On a lab inventory: every step in order (lab up, push, verify, harden, ... comply).
On a production inventory: lab steps are skipped; a read-only **plan** (network diff, harden in
check mode, stacks) runs first and is shown; nothing is applied without ``--yes`` or an
interactive "yes". ``--plan-only`` stops after the plan on any inventory. The whole apply holds
the inventory's change lock (a second deploy/push/harden waits ``--lock-wait`` s, then exit 2).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.text import Text

from egovops.cli.common import inventory_option, json_option, limit_option
from egovops.cli.output import BAD_INPUT, CHECK_FAILED, OK, console, err_console, print_json, table
from egovops.deploy import STEPS, DeployContext, StepRecord, run_pipeline, run_plan

STYLE = {"ok": "green", "changed": "yellow", "failed": "bold red", "skipped": "dim"}
PLAN_LINES = 200          # diff lines shown per plan part (the JSON document has all of them)


def _records_doc(records: list[StepRecord]) -> list[dict]:
    return [{"name": r.name, "status": r.status, "seconds": r.seconds, "summary": r.summary, "details": r.details}
            for r in records]


def _bad(msg: str, as_json: bool, **extra) -> None:
    if as_json:
        print_json({"ok": False, "error": msg, **extra})
    err_console.print(Text.assemble(("✗ ", "bold red"), msg))
    raise SystemExit(BAD_INPUT)


def _province(inventory: str):
    """The model, or None when the inventory does not load (the validate step then reports every problem)."""
    from egovops.model.load import load_inventory
    from egovops.model.problems import InventoryError

    try:
        return load_inventory(inventory)
    except (InventoryError, OSError):
        return None


@click.command("deploy")
@inventory_option
@limit_option
@json_option
@click.option("--skip", multiple=True, metavar="STEP", help=f"Skip a step (repeatable). Steps: {', '.join(STEPS)}.")
@click.option("--out", default="build/artefacts", show_default=True, type=click.Path(file_okay=False),
              help="Where the derived artefacts are written.")
@click.option("--counties", is_flag=True, help="Include the 105 county routers where a step supports it (lab up, net push).")
@click.option("--industry", is_flag=True,
              help="Lab: bring up the industry clouds the inventory lists (lab_industry) too (implied by a --limit naming them).")
@click.option("--plan-only", is_flag=True, help="Show the plan (what would change) and stop; change nothing.")
@click.option("--yes", "-y", is_flag=True, help="Apply a production plan without asking.")
@click.option("--lock-wait", type=click.FloatRange(0, 3600), default=10.0, show_default=True,
              help="Seconds to wait for another change on this inventory (then exit 2 naming it).")
def deploy(inventory: str, limit: str | None, as_json: bool, skip: tuple[str, ...], out: str, counties: bool,
           plan_only: bool, yes: bool, lock_wait: float, industry: bool) -> None:
    """Deploy the province onto its target: every step in order, with progress and a summary."""
    from egovops.changelock import ChangeLocked, change_lock, command_line

    unknown = sorted(set(skip) - set(STEPS))
    if unknown:
        if as_json:  # --json promises a document on stdout, also for bad input
            print_json({"ok": False, "error": f"unknown step(s) for --skip: {', '.join(unknown)}", "steps": list(STEPS)})
        err_console.print(Text(f"unknown step(s) for --skip: {', '.join(unknown)} (steps: {', '.join(STEPS)})",
                               style="red"))
        raise SystemExit(BAD_INPUT)
    log = (lambda m: err_console.print(Text(f"    {m}"))) if as_json else (lambda m: console.print(Text(f"    {m}")))
    ctx = DeployContext(inventory=inventory, out=Path(out), log=log,
                        options={"counties": counties, "industry": industry, "json": as_json, "limit": limit, "lock_wait": lock_wait,
                                 "command": command_line()})
    out_console = err_console if as_json else console

    def on_start(name: str, i: int, n: int) -> None:
        out_console.print(Text(f"→ [{i}/{n}] {name}", style="bold"))

    def on_done(rec: StepRecord) -> None:
        if rec.status != "skipped":
            out_console.print(Text.assemble("  ", (rec.status, STYLE[rec.status]), f" {rec.summary} ({rec.seconds:.1f}s)"))
            for line in rec.details.get("problems", [])[:50]:
                out_console.print(Text.assemble(("    ✗ ", "red"), str(line)))
            for line in rec.details.get("diff", [])[:PLAN_LINES]:
                sign = line.split(": ", 1)[-1][:1]
                style = "green" if sign == "+" else "red" if sign == "-" else "dim"
                out_console.print(Text(f"    {line}", style=style))
            if len(rec.details.get("diff", [])) > PLAN_LINES:
                out_console.print(Text(f"    … {len(rec.details['diff']) - PLAN_LINES} more line(s) (see --json)"))

    p = _province(inventory)
    production = p is not None and p.meta.environment != "lab"
    plan: list[StepRecord] = []
    if p is not None and (production or plan_only):
        ctx.province = p
        out_console.print(Text(f"plan for {p.meta.name} ({p.meta.environment}): read-only, nothing changes",
                               style="bold"))
        plan = run_plan(ctx, set(skip), on_start, on_done)
        plan_failed = any(r.status == "failed" for r in plan)
        if plan_only or plan_failed:
            if plan_failed and not plan_only:
                out_console.print(Text("the plan could not be completed: nothing was applied", style="bold red"))
            # a plan part that could not run for want of input (credentials, a vars file, the lock) is bad input
            code = BAD_INPUT if any(r.bad_input for r in plan) else CHECK_FAILED if plan_failed else OK
            _finish(as_json, inventory, plan, [], code, applied=False)
        if not yes:
            if as_json or not _interactive():
                _bad("a production deploy applies only with --yes (or an interactive yes): nothing was applied",
                     as_json, plan=_records_doc(plan))
            if not click.confirm(f"Apply this plan to {p.meta.name} ({p.meta.environment})?", default=False,
                                 err=True):
                _bad("not approved: nothing was applied", as_json, plan=_records_doc(plan))
    elif plan_only:                                # an inventory that does not load: its problems, exit 2
        skip = tuple(set(STEPS) - {"validate"})
    name = p.meta.name if p is not None else None
    try:
        with (change_lock(name, command=command_line(), wait=lock_wait) if name else _nolock()):
            records = run_pipeline(ctx, set(skip), on_start, on_done)
    except ChangeLocked as exc:
        _bad(str(exc), as_json)
    failed = [r for r in records if r.status == "failed"]
    code = OK
    if failed:
        # a bad inventory is bad input, also when validate was skipped and a later step loaded it
        code = BAD_INPUT if failed[0].name == "validate" or failed[0].bad_input else CHECK_FAILED
    _finish(as_json, inventory, plan, records, code, applied=not plan_only)


def _interactive() -> bool:
    return sys.stdin.isatty()


class _nolock:
    """No change lock when the inventory does not even load (validate reports it; nothing is applied)."""

    def __enter__(self):
        return None

    def __exit__(self, *a):
        return False


def _finish(as_json: bool, inventory: str, plan: list[StepRecord], records: list[StepRecord], code: int,
            applied: bool) -> None:
    if as_json:
        doc = {"ok": code == OK, "inventory": inventory, "steps": _records_doc(records)}
        if plan:
            doc.update({"plan": _records_doc(plan), "applied": applied})
        print_json(doc)
    else:
        rows = [(r.name, Text(r.status, style=STYLE[r.status]), f"{r.seconds:.1f}", r.summary) for r in plan + records]
        console.print(table("deploy summary" if records else "deploy plan", ["step", "status", "seconds", "summary"], rows))
    raise SystemExit(code)
