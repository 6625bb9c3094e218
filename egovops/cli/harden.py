"""egovops harden: bring hosts to the level-3 baseline (roles/baseline via playbooks/baseline.yml)."""

from __future__ import annotations

import click
from rich.markup import escape

from egovops.cli.common import inventory_option, json_option, limit_option, load_or_exit
from egovops.cli.output import CHECK_FAILED, OK, bad_input, console, err_console, print_json, table


@click.command("harden")
@inventory_option
@limit_option
@json_option
@click.option("--check", is_flag=True, help="Dry run with --diff: show what would change, change nothing.")
@click.option("--tags", default=None, help="Only these controls/families, e.g. L3-CES1-06,security_audit.")
@click.option("--disruptive", is_flag=True, help="Also run controls whose remediation is disruptive (baseline_disruptive).")
@click.option("-v", "verbosity", count=True, help="Pass -v.. to ansible-playbook (secrets stay hidden: no_log).")
def harden(inventory: str, limit: str | None, as_json: bool, check: bool, tags: str | None, disruptive: bool,
           verbosity: int) -> None:
    """Apply the 等保2.0 三级 baseline to the inventory's hosts (idempotent; --check changes nothing).

    Exit 0 when every host ran without failure, 1 when a host failed or was unreachable, 2 on bad input.
    """
    from egovops.harden.baseline import HardenInputError, run
    from egovops.harden.targets import select

    p = load_or_exit(inventory, as_json)
    if tags:  # ansible runs nothing for an unknown tag and reports success: name it instead
        from egovops.compliance.catalogue import load
        enforced = [c for c in load().controls if c.enforced_tag]
        known = {c.enforced_tag for c in enforced} | {c.family.slug for c in enforced}
        unknown = [t.strip() for t in tags.split(",") if t.strip() not in known]
        if unknown:
            bad_input(f"--tags {tags}: {', '.join(map(repr, unknown))} is no control id or family the baseline role "
                      f"enforces", as_json)
    sel = select(p, limit)
    # ansible's lines are text, not markup: "fatal: [hefei]" must keep its host, "[/etc/...]" must not crash rich
    log = (lambda m: err_console.print(f"[dim]{escape(m)}[/]")) if as_json else \
        (lambda m: console.print(f"[dim]{escape(m)}[/]"))
    if sel.note:
        log(sel.note)
    try:
        res = run(p, sel, check=check, tags=tags, disruptive=disruptive, progress=log, verbosity=verbosity)
    except HardenInputError as exc:
        bad_input(str(exc), as_json)
    from egovops.harden.pending import pending_changes

    pending = pending_changes(res.log) if check else []
    if as_json:
        print_json({"ok": res.ok, "check": res.check, "seconds": res.seconds, "rc": res.rc, "tasks": res.tasks,
                    "changed": res.changed, "hosts": [h.__dict__ for h in res.hosts],
                    **({"pending": [c.as_dict() for c in pending]} if check else {})})
    else:
        verb = "would change" if check else "changed"
        console.print(table(f"harden {'--check ' if check else ''}{p.meta.name}: {len(res.hosts)} hosts, "
                            f"{res.tasks} tasks, {res.seconds:.1f}s",
                            ["host", "ok", verb, "failed", "unreachable", "skipped"],
                            [(h.host, h.ok, h.changed, h.failed, h.unreachable, h.skipped) for h in res.hosts]))
        for c in pending:  # per control: which hosts would change, and how (the modules' diffs, literal text)
            console.print(f"[bold]{escape(c.task)}[/]: {escape(', '.join(c.hosts))}")
            for diff in dict.fromkeys(c.diffs.values()):  # a diff shared by several hosts is shown once
                lines = diff.splitlines()
                console.print("\n".join(lines[:40]) + (f"\n… {len(lines) - 40} more lines" if len(lines) > 40 else ""),
                              markup=False, highlight=False)
        mark = "[green]✓[/]" if res.ok else "[bold red]✗[/]"
        console.print(f"{mark} {res.changed} change(s) {'pending' if check else 'made'}; "
                      f"log: build/harden/{p.meta.name}/harden{'-check' if check else ''}.log")
        if not res.hosts:
            console.print(res.log[-2000:], markup=False)
    raise SystemExit(OK if res.ok else CHECK_FAILED)
