"""Deploy steps "net-push" (after lab-up) and "net-verify" (after net-push), and the network part of the plan.

Why two steps: a push that rolled devices back is a failed deploy even before anything is
verified, and verification after a successful push is the proof the extranet works end to end
(it waits for routing to converge, bounded by ``net_verify_wait`` seconds).

Both call the same service functions as ``egovops net push`` / ``net verify``
(:mod:`egovops.network.service`): same selection (``--limit``), change lock, rollback folder,
report and canary/batch defaults per environment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from egovops.model.load import load_inventory
from egovops.steptypes import DeployContext, Status, StepResult

if TYPE_CHECKING:
    from egovops.network.service import PushOutcome, PushRequest


def _push_request(ctx: DeployContext, **kw: Any) -> PushRequest:
    from egovops.network.service import PushRequest

    o = ctx.options
    p = ctx.province or load_inventory(ctx.inventory)
    return PushRequest(province=p, limit=o.get("limit"), workers=int(o.get("net_workers", 16)),
                       vantage=o.get("net_vantage", "auto"), canary=o.get("canary"), batch=o.get("batch"),
                       max_fail=o.get("max_fail", -1), lock_wait=float(o.get("lock_wait", 10.0)),
                       command=o.get("command"), **kw)


def _summary(out: PushOutcome) -> str:
    c = out.report.counts()
    s = (f"{c['changed']} changed, {c['unchanged']} unchanged, {c['rolled-back']} rolled back, "
         f"{c['failed']} failed, {c['not-touched']} not touched of {c['total']} in {out.report.seconds:.1f}s")
    if out.report.unknown:
        s += f"; state UNKNOWN (rollback failed): {', '.join(out.report.unknown)}"
    return s + (f"; stopped: {out.report.stopped}" if out.report.stopped else "")


def push(ctx: DeployContext) -> StepResult:
    from egovops.network.service import NetInputError
    from egovops.network.service import push as run_push

    try:
        out = run_push(_push_request(ctx), progress=lambda d, e, x: ctx.log(f"  {d}: {x}") if e == "done" else None,
                       log=ctx.log)
    except NetInputError as exc:
        return StepResult("failed", str(exc), {"bad_input": True})
    c = out.report.counts()
    status: Status = "failed" if not out.ok else "changed" if c["changed"] else "ok"
    return StepResult(status, _summary(out) + (f"; report {out.report_path}" if out.report_path else ""),
                      {"summary": c, "report": str(out.report_path) if out.report_path else None,
                       "rollback_point": str(out.rollback_dir) if out.rollback_dir else None,
                       "untouched": out.report.untouched,
                       "failed": [r.name for r in out.report.results if r.status in ("failed", "rolled-back", "unknown")],
                       "unknown": out.report.unknown})


def plan(ctx: DeployContext) -> StepResult:
    """The network part of a production plan: what ``net push`` would change (read-only)."""
    from egovops.network.service import NetInputError, diff

    try:
        out = diff(_push_request(ctx))
    except NetInputError as exc:
        return StepResult("failed", str(exc), {"bad_input": True})
    c = out.report.counts()
    lines = [f"{r.name}: {line}" for r in out.report.results for line in r.diff]
    errors = [f"{r.name}: {r.error}" for r in out.report.results if r.status == "failed"]
    status: Status = "failed" if errors else "changed" if c["would-change"] else "ok"
    return StepResult(status, f"net: {c['would-change']} router(s) would change, {c['unchanged']} unchanged, "
                              f"{c['failed']} unreadable of {c['total']}",
                      {"diff": lines, "problems": errors, "summary": c})


def verify(ctx: DeployContext) -> StepResult:
    from egovops.network.service import NetInputError, NetRequest
    from egovops.network.service import verify as run_verify

    p = ctx.province or load_inventory(ctx.inventory)
    if p.meta.environment != "lab" and ctx.options.get("net_vantage", "auto") == "auto":
        import os

        if not os.environ.get("EGOVOPS_NET_PROBE"):
            return StepResult("skipped", "no NOC vantage for a production inventory (set EGOVOPS_NET_PROBE)")
    req = NetRequest(province=p, limit=ctx.options.get("limit"), workers=int(ctx.options.get("net_workers", 16)))
    try:
        rep, _sel, _v, _nodes = run_verify(req, ctx.options.get("net_vantage", "auto"),
                                           wait=float(ctx.options.get("net_verify_wait", 90)))
    except NetInputError as exc:
        return StepResult("failed", str(exc), {"bad_input": True})
    s = rep.as_dict()["summary"]
    summary = (f"reachability {s['reachability']['ok']}/{s['reachability']['total']}, node matrix "
               f"{s['matrix']['ok']}/{s['matrix']['total']}, protocols {s['protocols']['ok']}/{s['protocols']['total']}")
    return StepResult("ok" if rep.ok else "failed", summary, {"broken": rep.broken()[:50]})
