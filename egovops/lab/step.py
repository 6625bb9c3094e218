"""Deploy step "lab-up": bring the lab of the deploy's inventory up (idempotent)."""

from __future__ import annotations

from egovops.deploy import DeployContext, StepResult
from egovops.model.load import load_inventory


def run(ctx: DeployContext) -> StepResult:
    from egovops.lab import LabError, lab_up
    p = ctx.province or load_inventory(ctx.inventory)
    try:
        res = lab_up(p, counties=bool(ctx.options.get("counties")), limit=ctx.options.get("limit"), progress=ctx.log,
                     industry=bool(ctx.options.get("industry")))
    except LabError as exc:
        return StepResult("failed", str(exc))
    summary = (f"{res.routers} routers, {res.hosts} hosts" + (f", {res.links} links up in {res.seconds:.1f}s" if res.changed
                                                              else " already running"))
    return StepResult("changed" if res.changed else "ok", summary,
                      {"routers": res.routers, "hosts": res.hosts, "links": res.links, "seconds": round(res.seconds, 2)})
