"""The foundation's deploy steps: validate the inventory, render the artefacts."""

from __future__ import annotations

from egovops.model.load import load_inventory
from egovops.render import render_all, write_tree
from egovops.steptypes import DeployContext, Status, StepResult


def validate(ctx: DeployContext) -> StepResult:
    # an InventoryError is reported by run_pipeline (every problem, exit 2)
    ctx.province = load_inventory(ctx.inventory)
    p = ctx.province
    return StepResult("ok", f"{len(p.cloud_nodes)} cloud nodes, {len(p.counties)} counties, "
                            f"{len([r for r in p.routers if r.is_ours])} routers, {len(p.links)} links")


def render(ctx: DeployContext) -> StepResult:
    assert ctx.province is not None, "render runs after validate"
    files = render_all(ctx.province)
    counts = write_tree(files, ctx.out)
    status: Status = "changed" if counts["written"] or counts["removed"] else "ok"
    return StepResult(status, f"{len(files)} files in {ctx.out} ({counts['written']} written, "
                              f"{counts['unchanged']} unchanged)", counts)
