"""egovops deploy: the main job."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from egovops.cli.common import inventory_option, json_option
from egovops.cli.output import CHECK_FAILED, OK, BAD_INPUT, console, err_console, print_json, table
from egovops.deploy import STEPS, DeployContext, StepRecord, run_pipeline

STYLE = {"ok": "green", "changed": "yellow", "failed": "bold red", "skipped": "dim"}


@click.command("deploy")
@inventory_option
@json_option
@click.option("--skip", multiple=True, metavar="STEP", help=f"Skip a step (repeatable). Steps: {', '.join(STEPS)}.")
@click.option("--out", default="build/artefacts", show_default=True, type=click.Path(file_okay=False),
              help="Where the derived artefacts are written.")
@click.option("--counties", is_flag=True, help="Include the 105 county routers where a step supports it (lab up, net push).")
def deploy(inventory: str, as_json: bool, skip: tuple[str, ...], out: str, counties: bool) -> None:
    """Deploy the province onto the target: every step in order, with progress and a summary."""
    unknown = sorted(set(skip) - set(STEPS))
    if unknown:
        err_console.print(f"[red]unknown step(s) for --skip: {', '.join(unknown)}[/] (steps: {', '.join(STEPS)})")
        if as_json:  # --json promises a document on stdout, also for bad input
            print_json({"ok": False, "error": f"unknown step(s) for --skip: {', '.join(unknown)}", "steps": list(STEPS)})
        raise SystemExit(BAD_INPUT)
    log = (lambda m: err_console.print(f"    {m}")) if as_json else (lambda m: console.print(f"    {m}"))
    ctx = DeployContext(inventory=inventory, out=Path(out), options={"counties": counties, "json": as_json}, log=log)
    out_console = err_console if as_json else console

    def on_start(name: str, i: int, n: int) -> None:
        out_console.print(f"[bold]→ [{i}/{n}] {name}[/]")

    def on_done(rec: StepRecord) -> None:
        if rec.status != "skipped":
            out_console.print(f"  [{STYLE[rec.status]}]{rec.status}[/] {escape(rec.summary)} ({rec.seconds:.1f}s)")
            for line in rec.details.get("problems", [])[:50]:
                out_console.print(f"    [red]✗[/] {escape(line)}")

    records = run_pipeline(ctx, set(skip), on_start, on_done)
    failed = [r for r in records if r.status == "failed"]
    code = OK
    if failed:
        # a bad inventory is bad input, also when validate was skipped and a later step loaded it
        code = BAD_INPUT if failed[0].name == "validate" or failed[0].bad_input else CHECK_FAILED
    if as_json:
        print_json({"ok": not failed, "inventory": inventory,
                    "steps": [{"name": r.name, "status": r.status, "seconds": r.seconds, "summary": r.summary,
                               "details": r.details} for r in records]})
    else:
        console.print(table("deploy summary", ["step", "status", "seconds", "summary"],
                            [(r.name, f"[{STYLE[r.status]}]{r.status}[/]", f"{r.seconds:.1f}", escape(r.summary)) for r in records]))
    raise SystemExit(code)
