"""Read-only plan parts of ``deploy`` on a production inventory (the network part is
:func:`egovops.network.step.plan`): what ``harden`` and the stacks would change, before approval.

Why here and not in the capabilities' steps: a plan is the deploy's question to each capability;
each function only calls that capability's own check/preview service and changes nothing.
"""

from __future__ import annotations

import shutil

from egovops.deploy import DeployContext, StepResult


def harden(ctx: DeployContext) -> StepResult:
    """``harden --check``: Ansible in check mode with --diff over the selected hosts."""
    from egovops.harden.baseline import HardenInputError, run
    from egovops.harden.targets import select

    assert ctx.province is not None
    sel = select(ctx.province, ctx.options.get("limit"))
    if not sel.targets:
        return StepResult("skipped", sel.note or "no hosts selected")
    try:
        res = run(ctx.province, sel, check=True, progress=lambda m: None)
    except HardenInputError as exc:
        return StepResult("failed", str(exc), {"bad_input": True})
    bad = [h.host for h in res.hosts if h.failed or h.unreachable]
    summary = f"harden --check: {len(res.hosts)} hosts, {res.changed} change(s) would be made"
    if bad or not res.ok:
        return StepResult("failed", f"{summary}; failed or unreachable: {', '.join(bad) or 'rc ' + str(res.rc)}",
                          {"problems": [f"{h}: failed or unreachable in check mode" for h in bad]})
    return StepResult("changed" if res.changed else "ok", summary, {"hosts": [h.__dict__ for h in res.hosts]})


def stacks(ctx: DeployContext) -> StepResult:
    """Stacks: a diff needs the Pulumi CLI (not on every controller); else the offline preview."""
    from egovops.stacks import step

    res = step.run(ctx)
    note = "" if shutil.which("pulumi") else " (no Pulumi CLI here: offline preview only, no live diff)"
    return StepResult(res.status, res.summary + note, res.details)
