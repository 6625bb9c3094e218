"""egovops comply: check every level-3 control on the hosts; reports for auditors and machines."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import NoReturn

import click
from rich.markup import escape

from egovops.cli.common import inventory_option, json_option, limit_option, load_or_exit
from egovops.cli.output import CHECK_FAILED, OK, bad_input, console, err_console, print_json, table

STYLE = {"pass": "green", "fail": "bold red", "waived": "blue", "error": "yellow"}


@click.command("comply")
@inventory_option
@limit_option
@json_option
@click.option("--waivers", "waivers_file", default=None, type=click.Path(dir_okay=False),
              help="Waivers YAML (control, hosts glob, reason, approver, expires) [default: on a lab inventory, "
                   "egovops/compliance/waivers/lab.yaml; elsewhere none].")
@click.option("--report", "formats", default="html,json,junit", show_default=True,
              help="Reports to write: any of html,json,junit (empty: none).")
@click.option("--out", default=None, type=click.Path(file_okay=False),
              help="Report folder [default: build/compliance/<inventory name>].")
@click.option("--controls", default=None, help="Only these control ids (comma-separated globs, e.g. L3-CES1-*).")
@click.option("--textfile", default=None, type=click.Path(dir_okay=False),
              help="Also write the metrics here (node_exporter textfile) [default: <out>/egov_compliance.prom].")
@click.option("--push-metrics", is_flag=True,
              help="Also write each node's own metrics into its node_exporter textfile directory.")
def comply(inventory: str, limit: str | None, as_json: bool, waivers_file: str | None, formats: str,
           out: str | None, controls: str | None, textfile: str | None, push_metrics: bool) -> None:
    """Check the 等保2.0 三级 controls per host: pass / fail / waived / error, with the observed evidence.

    Exit 0 when every control passes or is waived, 1 when any fails (or cannot be checked), 2 on bad input.
    """
    import fnmatch

    from egovops.compliance import report as rep
    from egovops.compliance import waivers as wv
    from egovops.compliance.catalogue import load
    from egovops.compliance.routers import is_router_control, router_selection, scan_routers, with_routers
    from egovops.compliance.runner import scan
    from egovops.compliance.targets import REPO, role_params, select
    from egovops.exporters.compliance import write_textfile

    p = load_or_exit(inventory, as_json)
    cat = with_routers(load())
    say = (lambda m: err_console.print(f"[dim]{escape(m)}[/]")) if as_json else \
        (lambda m: console.print(f"[dim]{escape(m)}[/]"))

    def bad(msg: str, problems: list[str] | None = None) -> NoReturn:
        bad_input(msg, as_json, problems or [])

    fmts = [f.strip() for f in formats.split(",") if f.strip()]
    unknown = [f for f in fmts if f not in rep.FORMATS]
    if unknown:
        bad(f"--report: unknown format(s) {', '.join(unknown)} (choose from {', '.join(rep.FORMATS)})")
    from egovops.compliance.waiver_sources import for_run

    try:  # --waivers, else the lab's on a lab inventory; plus each industry cloud's own (its devices only)
        ws = for_run(p, cat, waivers_file)
    except wv.WaiverError as exc:
        bad(f"waivers: {len(exc.problems)} problem(s); nothing was checked", exc.problems)
    waivers = ws.waivers
    if ws.file:
        say(f"waivers: {ws.file}" + ("" if waivers_file else " (the lab's default; --waivers FILE to choose another)"))
    if ws.cloud_files:
        say(f"industry clouds' waivers: {', '.join(str(f) for f in ws.cloud_files)}")
    chosen = list(cat.controls)
    if controls:
        globs = [g.strip() for g in controls.split(",") if g.strip()]
        chosen = [c for c in cat.controls if any(fnmatch.fnmatchcase(c.id, g) for g in globs)]
        if not chosen:
            bad(f"--controls {controls}: matches no control of the catalogue")
    sel = select(p, limit)
    if sel.note:
        say(sel.note)
    rnames, rnote = router_selection(p, limit)
    if rnote and rnames:
        say(rnote)
    if not sel.targets and not rnames:
        bad("no hosts or routers selected (check --limit, and that the lab is up)")
    host_controls = [c for c in chosen if not is_router_control(c)]
    router_controls = [c.id for c in chosen if is_router_control(c)]
    outdir = Path(out) if out else REPO / "build" / "compliance" / p.meta.name
    prom_path = Path(textfile) if textfile else outdir / "egov_compliance.prom"
    try:  # where the results go must be writable before the hosts are scanned
        for d in (outdir, prom_path.parent):
            d.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        bad(f"cannot write the reports or metrics: {exc}")
    say(f"checking {len(host_controls)} controls on {len(sel.targets)} hosts (testinfra, paramiko) and "
        f"{len(router_controls)} on {len(rnames)} routers (netmiko)")

    def progress(node: str, rows: list) -> None:
        c = {s: sum(1 for r in rows if r.status == s) for s in STYLE}
        say(f"  {node}: " + " ".join(f"{k} {v}" for k, v in c.items()))

    s = scan(sel.targets if host_controls else [], cat, role_params(), sel.admin, p.meta.name, p.meta.version,
             progress=progress, controls=host_controls or chosen, known_hosts=sel.known_hosts)
    if router_controls:
        s.results += scan_routers(p, rnames, router_controls, progress=progress)
    s.note = sel.note
    s.unused_waivers = wv.apply(s.results, waivers, dt.date.today())
    written = rep.write(s, cat, outdir, fmts)
    prom = write_textfile(s, prom_path)
    if push_metrics:
        from egovops.exporters.compliance_push import push_textfiles
        pushed = push_textfiles(s, sel)
        say(f"metrics written on {pushed} node(s) into their node_exporter textfile directory")
    if as_json:
        doc = s.as_dict()
        doc["reports"] = {k: str(v) for k, v in written.items()}
        doc["metrics"] = str(prom)
        print_json(doc)
    else:
        rows = []
        for n in s.nodes():
            c = s.counts(n)
            first = next(r for r in s.results if r.node == n)
            rows.append((n, first.city, c["pass"], c["fail"], c["waived"], c["error"], f"{s.score(n) * 100:.1f}%"))
        console.print(table(f"comply {p.meta.name} {p.meta.version}: {len(chosen)} controls × {len(s.nodes())} hosts "
                            f"in {s.seconds:.1f}s", ["host", "city", "pass", "fail", "waived", "error", "score"], rows,
                            plain=True))
        bad_rows = [r for r in s.results if r.status in ("fail", "error")]
        if bad_rows:
            console.print(table("Not compliant", ["host", "control", "result", "evidence"],
                                [(r.node, r.control, r.status, r.evidence[:160]) for r in bad_rows], plain=True))
        tot = s.counts()
        mark = "[bold red]✗[/]" if s.failed else "[green]✓[/]"
        console.print(f"{mark} pass {tot['pass']}, fail {tot['fail']}, waived {tot['waived']}, error {tot['error']} — "
                      f"score {s.score() * 100:.1f}%")
        for k, v in written.items():
            console.print(f"  {k}: {v}")
        console.print(f"  metrics: {prom}")
        if s.unused_waivers:
            console.print(f"[yellow]{len(s.unused_waivers)} waiver(s) matched nothing[/]")
    raise SystemExit(CHECK_FAILED if s.failed else OK)
