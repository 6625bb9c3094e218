"""The deploy step ``monitoring`` (after ``harden``): the same service function as ``egovops monitor up``."""

from __future__ import annotations

from egovops.deploy import DeployContext, StepResult
from egovops.monitor.service import up


def run(ctx: DeployContext) -> StepResult:
    assert ctx.province is not None, "monitoring runs after validate"
    res = up(ctx.province, wait=float(ctx.options.get("monitor_wait", 180.0)), progress=ctx.log)
    st = res.status
    up_ = sum(n.targets_up for n in st.nocs)
    total = sum(n.targets_total for n in st.nocs)
    summary = (f"{len(st.nocs)} NOC Prometheus, {up_}/{total} targets up, alertmanager "
               f"{'up' if st.alertmanager_up else 'down'}, {res.changed} change(s) in {res.seconds:.0f}s")
    if not res.ok:
        return StepResult("failed", summary, res.as_dict())
    return StepResult("changed" if res.changed else "ok", summary, res.as_dict())
