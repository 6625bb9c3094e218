"""The deploy step ``stacks-preview``: the offline preview of every stack ``--limit`` selects (before ``comply``)."""

from __future__ import annotations

from egovops.deploy import DeployContext, StepResult


def run(ctx: DeployContext) -> StepResult:
    from egovops.stacks import preview as pv

    assert ctx.province is not None, "stacks-preview runs after validate"
    limit = ctx.options.get("limit")
    only = pv.select_stacks(ctx.province, limit) if limit else None
    if only == []:
        return StepResult("skipped", f"no stack matches --limit {limit}")
    report = pv.preview(ctx.province, only, jobs=int(ctx.options.get("jobs", 2) or 2),
                        progress=lambda i, n, r: ctx.log(f"[{i}/{n}] {r.stack}: {len(r.resources)} resources, "
                                                         f"{'ok' if r.ok else 'FAILED'} ({r.seconds:.1f}s)"))
    d = report.as_dict(detail=False)
    t = d["totals"]
    problems = [f"{s.stack}: {s.error}" for s in report.stacks if s.error]
    problems += [f"{s.stack}: schema: {x}" for s in report.stacks for x in s.schema_problems]
    problems += [f"{s.stack}: {v.control} {v.policy}: {v.resource}: {v.message}" for s in report.stacks for v in s.violations]
    problems += [f"chart lint ({m['values']}): {m.get('path')}: {m.get('error')}" for m in report.lint]
    summary = (f"offline (Pulumi mock runtime): {t['stacks']} stacks, {t['resources']} resources, "
               f"{t['schema_problems']} schema problems, {t['violations']} policy violations in {report.seconds:.1f}s")
    return StepResult("ok" if report.ok else "failed", summary, {"totals": t, "problems": problems})
