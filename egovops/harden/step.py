"""Deploy step "harden" (after net-verify): apply the level-3 baseline to the selected hosts."""

from __future__ import annotations

from egovops.model.load import load_inventory
from egovops.steptypes import DeployContext, StepResult


def run(ctx: DeployContext) -> StepResult:
    from egovops.harden.baseline import HardenInputError, run
    from egovops.harden.targets import select

    p = ctx.province or load_inventory(ctx.inventory)
    sel = select(p, ctx.options.get("limit"))
    if not sel.targets:
        return StepResult("skipped", sel.note or "no hosts selected")
    try:
        res = run(p, sel, progress=lambda m: None)
    except HardenInputError as exc:
        return StepResult("failed", str(exc))
    details = {"seconds": res.seconds, "hosts": [h.__dict__ for h in res.hosts], "rc": res.rc}
    summary = f"{len(res.hosts)} hosts, {res.changed} change(s) in {res.seconds:.0f}s"
    if not res.ok:
        bad = [h.host for h in res.hosts if h.failed or h.unreachable]
        return StepResult(
            "failed", f"{summary}; failed or unreachable: {', '.join(bad) or 'ansible rc ' + str(res.rc)}", details
        )
    return StepResult("changed" if res.changed else "ok", summary, details)
