"""Deploy step "net-flows" (after comply, lab only): the catalogue's cross-node calls proven on the wire.

Why last: it needs routing (net-push) and the hosts' firewalls (harden) in place; it then shows that
every catalogue call connects in both families and a sample of other flows is dropped. It calls the
same service function as ``egovops net flows`` (:func:`egovops.network.flows.run`).
"""

from __future__ import annotations

from egovops.model.load import load_inventory
from egovops.steptypes import DeployContext, StepResult


def run(ctx: DeployContext) -> StepResult:
    from egovops.network.flows import FlowInputError, FlowRequest
    from egovops.network.flows import run as run_flows

    p = ctx.province or load_inventory(ctx.inventory)
    try:
        rep = run_flows(FlowRequest(province=p, limit=ctx.options.get("limit"),
                                    sample=int(ctx.options.get("flows_sample", 8))), progress=ctx.log)
    except FlowInputError as exc:
        return StepResult("failed", str(exc), {"bad_input": True})
    c = rep.counts()
    summary = (f"allowed {c['allowed']['works']} work, {c['allowed']['broken']} broken; denied {c['denied']['blocked']} "
               f"blocked, {c['denied']['broken']} got through or unproven in {rep.seconds:.1f}s"
               + (f"; {rep.error}" if rep.error else ""))
    broken = [c.as_dict() for c in rep.checks if c.result == "broken"]
    return StepResult("ok" if rep.ok else "failed", summary, {"summary": c, "broken": broken[:20],
                                                              "not_tested": len(rep.not_tested)})
