"""Deploy steps "net-push" (after lab-up) and "net-verify" (after net-push).

Why two steps: a push that rolled devices back is a failed deploy even before anything is
verified, and verification after a successful push is the proof the extranet works end to end
(it waits for routing to converge, bounded by ``net_verify_wait`` seconds).
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from egovops.deploy import DeployContext, StepResult
from egovops.model.load import load_inventory


def _ctx(ctx: DeployContext):
    from egovops.network import credentials
    from egovops.network.targets import default_vendor, select
    from egovops.network.vantage import lab_vantage

    p = ctx.province or load_inventory(ctx.inventory)
    sel = select(p, ctx.options.get("limit"))
    creds = credentials.load(p)
    credentials.install_redaction(creds)
    vantage = lab_vantage(p) if p.meta.environment == "lab" else None
    return p, sel, creds, default_vendor(p), vantage


def push(ctx: DeployContext) -> StepResult:
    from egovops.network.push import PushEngine, PushOptions
    from egovops.network.targets import plan_of

    try:
        p, sel, creds, vendor, vantage = _ctx(ctx)
    except Exception as exc:
        return StepResult("failed", str(exc))
    if p.meta.environment == "lab":
        from egovops.network.labprep import ensure_lab_router_sysctls

        ensure_lab_router_sysctls(p, sel.routers, log=ctx.log)
    plans = [plan_of(p, n, vendor) for n in sel.routers]
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    opts = PushOptions(workers=int(ctx.options.get("net_workers", 16)),
                       backup_dir=Path(ctx.out).parent / "net" / p.meta.name / "rollback" / stamp)
    rep = PushEngine(plans, creds, opts, vantage=vantage,
                     progress=lambda d, e, x: ctx.log(f"  {d}: {x}") if e == "done" else None).run()
    c = rep.counts()
    summary = (f"{c['changed']} changed, {c['unchanged']} unchanged, {c['rolled-back']} rolled back, "
               f"{c['failed']} failed of {c['total']} in {rep.seconds:.1f}s")
    status = "failed" if not rep.ok else "changed" if c["changed"] else "ok"
    return StepResult(status, summary, {"summary": c, "failed": [r.name for r in rep.results
                                                                 if r.status in ("failed", "rolled-back")]})


def verify(ctx: DeployContext) -> StepResult:
    from egovops.network.verify import verify as run_verify

    try:
        p, sel, creds, vendor, vantage = _ctx(ctx)
    except Exception as exc:
        return StepResult("failed", str(exc))
    if vantage is None:
        return StepResult("skipped", "no NOC vantage for a production inventory in deploy (use net verify --vantage)")
    nodes, vantage_of = None, None
    if p.meta.environment == "lab":
        from egovops.network.vantage import lab_node_vantages

        nodes, vantage_of = lab_node_vantages(p)
    rep = run_verify(p, sel.routers, vendor, creds, vantage, 16, nodes, vantage_of,
                     wait=float(ctx.options.get("net_verify_wait", 90)))
    s = rep.as_dict()["summary"]
    summary = (f"reachability {s['reachability']['ok']}/{s['reachability']['total']}, node matrix "
               f"{s['matrix']['ok']}/{s['matrix']['total']}, protocols {s['protocols']['ok']}/{s['protocols']['total']}")
    return StepResult("ok" if rep.ok else "failed", summary, {"broken": rep.broken()[:50]})
