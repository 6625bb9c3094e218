"""egovops stacks config|preview|policies|diff|up — the Pulumi stacks of the 1+16+N nodes.

``preview`` is offline (Pulumi's mock runtime, the Helm library, the Kubernetes OpenAPI schemas,
the 等保 policies) and says so; ``diff`` and ``up`` need the Pulumi CLI and a cluster and stop with
one sentence when the CLI is missing.
"""

from __future__ import annotations

import os
from pathlib import Path

import click
from rich.markup import escape

from egovops.cli import output
from egovops.cli.common import inventory_option, json_option, limit_option, load_or_exit
from egovops.cli.output import CHECK_FAILED, OK, bad_input, console, err_console, print_json
from egovops.model.province import Province
from egovops.render.files import OutputFolderError


def table(title: str, columns, rows):
    """Plain-text cells: Pulumi types such as ``egovops:cloud:CloudNode`` are no markup or emoji codes."""
    return output.table(title, columns, rows, plain=True)


stack_option = click.option("--stack", "-s", "stacks", multiple=True, metavar="NODE",
                            help="Stack (node or managed industry cloud slug) to act on; repeatable. Default: every stack.")


def _check_stacks(p: Province, stacks: tuple[str, ...], as_json: bool) -> list[str]:
    """The requested stacks, or exit 2 naming the unknown ones (nothing runs)."""
    known = [n.slug for n in p.nodes] + [c.slug for c in p.managed_industry()]
    unknown = [s for s in stacks if s not in known]
    if unknown:
        bad_input(f"unknown stack(s): {', '.join(unknown)} (stacks are node and managed industry cloud slugs: "
                  f"{', '.join(known)})", as_json)
    return list(stacks) or known


@click.group("stacks")
def stacks_group() -> None:
    """Pulumi stacks: one per node (province, 16 cities, DR sites) and managed industry cloud, verified offline."""


@stacks_group.command("config")
@inventory_option
@json_option
@click.option("--out", default=None, type=click.Path(file_okay=False),
              help="Folder for Pulumi.<node>.yaml (default: the Pulumi project, stacks/).")
@click.option("--force", is_flag=True,
              help="Write even if the folder holds Pulumi.*.yaml files egovops did not write (never deleted).")
def config_cmd(inventory: str, as_json: bool, out: str | None, force: bool) -> None:
    """Render every stack's Pulumi.<node>.yaml from the inventory into the Pulumi project.

    Only stack files this command wrote before (recorded with their hash in the folder's
    .egovops-stacks) are removed when their node is gone; a user's own Pulumi.<stack>.yaml is
    never deleted, and its presence is refused unless --force.
    """
    from egovops.stacks.config import write_stack_configs

    p = load_or_exit(inventory, as_json)
    try:
        res = write_stack_configs(p, Path(out) if out else None, force=force)
    except OutputFolderError as exc:
        bad_input(f"refusing to write the stack configs: {exc}", as_json, exc.blocked + exc.foreign + exc.forged)
    except (OSError, RuntimeError, ValueError) as exc:  # --out is a file, unwritable, a symlink loop, has a NUL
        bad_input(f"cannot write the stack configs into {out}: {exc}", as_json)
    if as_json:
        print_json({"ok": True, **res.as_dict()})
        return
    console.print(f"[green]✓[/] {len(res.files)} stack configs in {escape(str(res.out))} ({len(res.written)} written, "
                  f"{len(res.unchanged)} unchanged, {len(res.removed)} removed) from inventory {escape(p.meta.name)}")
    if res.foreign:
        console.print(table(f"Stack files not written by egovops, left in place (--force): {len(res.foreign)}",
                            ["file"], [(f,) for f in res.foreign]))


@stacks_group.command("preview")
@inventory_option
@json_option
@stack_option
@limit_option
@click.option("--jobs", "-j", default=2, show_default=True, type=click.IntRange(1, 16),
              help="Worker processes (each runs whole stacks).")
@click.option("--resources", "show_resources", is_flag=True,
              help="List every resource (type, name, parent, key properties); --json always includes them.")
def preview_cmd(inventory: str, as_json: bool, stacks: tuple[str, ...], limit: str | None, jobs: int,
                show_resources: bool) -> None:
    """OFFLINE preview of the stacks under Pulumi's mock runtime: resources, schema, 等保 policies.

    Runs every stack program with pulumi.runtime.set_mocks (no Pulumi engine, no cluster: nothing is
    deployed), renders the charts with the Helm library, validates every Kubernetes object against the
    pinned Kubernetes version's OpenAPI schema and evaluates the policies. Exit 1 on any problem.
    """
    from egovops.stacks import preview as pv

    p = load_or_exit(inventory, as_json)
    only = _check_stacks(p, stacks, as_json)
    if limit:
        only = [s for s in only if s in pv.select_stacks(p, limit)]
        if not only:
            bad_input(f"--limit {limit}: selects no stack", as_json)
    say = err_console if as_json else console
    say.print(f"[bold]{pv.OFFLINE_NOTE}[/]")

    def progress(i: int, n: int, rep: pv.StackReport) -> None:
        mark = "[green]✓[/]" if rep.ok else "[red]✗[/]"
        say.print(f"  {mark} [{i}/{n}] {rep.stack}: {len(rep.resources)} resources "
                  f"({len(rep.objects)} Kubernetes objects) in {rep.seconds:.2f}s")

    report = pv.preview(p, only, jobs=jobs, progress=progress)
    code = OK if report.ok else CHECK_FAILED
    if as_json:
        print_json(report.as_dict(detail=True))
        raise SystemExit(code)
    d = report.as_dict(detail=False)
    console.print(table("Stacks (offline preview, Pulumi mock runtime)",
                        ["stack", "kind", "resources", "k8s objects", "schema problems", "violations",
                         "CRs (subset schema)", "no schema", "seconds"],
                        [(s.stack, s.kind, len(s.resources), len(s.objects), len(s.schema_problems),
                          len(s.violations), len(s.subset_checked), len(s.unchecked), f"{s.seconds:.2f}")
                         for s in report.stacks]))
    kinds: dict[str, int] = {}
    for s in report.stacks:
        for k, v in s.counts().items():
            kinds[k] = kinds.get(k, 0) + v
    console.print(table("Resources by kind (all previewed stacks)", ["kind / type", "count"], sorted(kinds.items())))
    if show_resources:
        for s in report.stacks:
            rows = [(r["type"], r["name"], r["parent"], ", ".join(f"{k}={v}" for k, v in r.items()
                                                                if k not in ("type", "name", "parent")))
                    for r in s.as_dict(detail=True)["resource_list"]]
            console.print(table(f"{s.stack}: {len(rows)} resources", ["type", "name", "parent", "key properties"], rows))
    problems = [(s.stack, "error", "", s.error) for s in report.stacks if s.error]
    problems += [(s.stack, "schema", x.object, f"{x.path}: {x.message}") for s in report.stacks for x in s.schema_problems]
    problems += [(s.stack, f"{v.control} {v.policy}", v.resource, v.message) for s in report.stacks for v in s.violations]
    problems += [("chart", "lint", m["values"], f"{m.get('path')}: {m.get('error')}") for m in report.lint]
    if problems:
        console.print(table(f"Problems ({len(problems)})", ["stack", "check", "object", "problem"], problems[:500]))
    t = d["totals"]
    verdict = "[green]✓ passed[/]" if report.ok else "[bold red]✗ failed[/]"
    console.print(f"{verdict}: {t['stacks']} stacks, {t['resources']} resources, {t['kubernetes_objects']} Kubernetes "
                  f"objects ({t['custom_resources_subset_schema']} custom resources checked by subset schemas, "
                  f"{t['unchecked_custom_resources']} with no schema), "
                  f"{t['schema_problems']} schema problems, {t['violations']} policy violations, "
                  f"{len(report.lint)} chart lint findings in {report.seconds:.1f}s — offline, nothing deployed.")
    raise SystemExit(code)


@stacks_group.command("policies")
@json_option
def policies_cmd(as_json: bool) -> None:
    """The 等保 policy set: name, control id, clause, scope, what it requires."""
    from egovops.stacks.policies import POLICIES

    rows = [(p.control, p.clause, p.name, p.scope, p.description) for p in POLICIES]
    if as_json:
        print_json([{"control": c, "clause": cl, "name": n, "scope": s, "description": d} for c, cl, n, s, d in rows])
        return
    console.print(table(f"等保 policies ({len(rows)})", ["control", "clause", "policy", "scope", "requires"], rows))


def _production(action: str, inventory: str, as_json: bool, stacks: tuple[str, ...], endpoint: str | None,
                bucket: str, s3_endpoint: str | None) -> None:
    from egovops.render.pulumi_config import stack_configs
    from egovops.stacks import production

    if len(stacks) != 1:
        bad_input(f"stacks {action} acts on exactly one stack: pass --stack <node>", as_json)
    backend = production.Backend(endpoint, bucket) if endpoint else None
    try:
        production.check_prerequisites(backend)
    except production.PrerequisiteMissing as exc:
        bad_input(str(exc), as_json)
    p = load_or_exit(inventory, as_json)
    (name,) = _check_stacks(p, stacks, as_json)
    out = err_console if as_json else console
    rendered = stack_configs(p)[name]["config"]
    if s3_endpoint:
        rendered["egovops:s3Endpoint"] = s3_endpoint
    res = production.run(action, name, rendered, backend,  # type: ignore[arg-type]
                         on_output=lambda line: out.print(line.rstrip("\n"), markup=False, highlight=False))
    if as_json:
        print_json({"ok": True, **res})
    else:
        console.print(f"[green]✓[/] {action} {name}: {res}")


backend_options = [
    click.option("--backend-endpoint", default=lambda: os.environ.get("EGOVOPS_STATE_ENDPOINT"),
                 help="S3-compatible endpoint of the state store (env EGOVOPS_STATE_ENDPOINT)."),
    click.option("--backend-bucket", default="egovops-pulumi-state", show_default=True, help="State bucket."),
    click.option("--s3-endpoint", default=lambda: os.environ.get("EGOVOPS_S3_ENDPOINT"),
                 help="The node's S3-compatible store for its buckets (config egovops:s3Endpoint; env EGOVOPS_S3_ENDPOINT)."),
]


def _with_backend(f):
    for opt in reversed(backend_options):
        f = opt(f)
    return f


@stacks_group.command("diff")
@inventory_option
@json_option
@stack_option
@_with_backend
def diff_cmd(inventory: str, as_json: bool, stacks: tuple[str, ...], backend_endpoint: str | None,
             backend_bucket: str, s3_endpoint: str | None) -> None:
    """pulumi preview --diff of one stack with the policy pack (needs the Pulumi CLI and a cluster)."""
    _production("diff", inventory, as_json, stacks, backend_endpoint, backend_bucket, s3_endpoint)


@stacks_group.command("up")
@inventory_option
@json_option
@stack_option
@_with_backend
def up_cmd(inventory: str, as_json: bool, stacks: tuple[str, ...], backend_endpoint: str | None,
           backend_bucket: str, s3_endpoint: str | None) -> None:
    """pulumi up of one stack with the policy pack (needs the Pulumi CLI and a cluster)."""
    _production("up", inventory, as_json, stacks, backend_endpoint, backend_bucket, s3_endpoint)
