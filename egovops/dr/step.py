"""Deploy step "dr" (after monitoring): the object stores and their replication, then the database
tier, ending with every tier and pair healthy in ``dr status`` — the same service function as
``egovops dr up``."""

from __future__ import annotations

from egovops.deploy import DeployContext, StepResult
from egovops.model.load import load_inventory
from egovops.model.province import matches


def run(ctx: DeployContext) -> StepResult:
    from egovops.dr.postgres import DrError, DrInputError
    from egovops.dr.service import UpOptions, up
    p = ctx.province or load_inventory(ctx.inventory)
    limit = ctx.options.get("limit")
    if limit and not any(matches(p, n, limit) for r in p.replications for n in (r.source, r.target)):
        # e.g. --limit kind:industry: no DR site or replicated node is selected, so DR has nothing to do
        return StepResult("skipped", f"--limit {limit} selects no DR site or replicated node")
    try:
        res = up(p, UpOptions(objects=getattr(p, "object_store", None) is not None), progress=ctx.log)
    except (DrInputError, DrError) as exc:
        return StepResult("failed", str(exc))
    pairs = (res.status or {}).get("pairs", [])
    healthy = sum(1 for r in pairs if r.get("healthy"))
    summary = f"{healthy}/{len(pairs)} tiers and pairs healthy, {res.changed} change(s) in {res.seconds:.0f}s"
    if not res.ok:
        return StepResult("failed", f"{summary}; {res.problems[0]}", res.as_dict())
    return StepResult("changed" if res.changed else "ok", summary, res.as_dict())
