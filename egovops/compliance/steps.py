"""Deploy step "comply" (last): the proof of the baseline that the "harden" step
(:mod:`egovops.harden.step`) applied.

On a lab inventory, ``comply`` applies the lab waivers (egovops/compliance/waivers/lab.yaml: what a
container host cannot offer, each with a reason, approver and expiry) and says so in its summary;
elsewhere it applies ``options["waivers"]`` when the deploy was given a file.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from egovops.model.load import load_inventory
from egovops.steptypes import DeployContext, StepResult

LAB_WAIVERS = Path(__file__).with_name("waivers") / "lab.yaml"


def comply(ctx: DeployContext) -> StepResult:
    from egovops.compliance import report as rep
    from egovops.compliance import waivers as wv
    from egovops.compliance.catalogue import load
    from egovops.compliance.runner import scan
    from egovops.compliance.targets import REPO, role_params, select
    from egovops.exporters.compliance import write_textfile
    p = ctx.province or load_inventory(ctx.inventory)
    from egovops.compliance.routers import is_router_control, router_selection, scan_routers, with_routers

    cat = with_routers(load())
    sel = select(p, ctx.options.get("limit"))
    rnames, _ = router_selection(p, ctx.options.get("limit"))
    if not sel.targets and not rnames:
        return StepResult("skipped", sel.note or "no hosts or routers selected")
    wfile = ctx.options.get("waivers") or (LAB_WAIVERS if p.meta.environment == "lab" else None)
    waivers = wv.load(wfile, cat) if wfile else []
    from egovops.compliance import industry

    try:  # each industry cloud's own waivers, valid only for its own host and router
        cloud_waivers, cloud_files = industry.load_all(p, cat)
    except wv.WaiverError as exc:
        return StepResult("failed", f"industry clouds' waivers: {len(exc.problems)} problem(s); nothing was checked",
                          {"problems": exc.problems, "bad_input": True})
    waivers += cloud_waivers
    s = scan(sel.targets, cat, role_params(), sel.admin, p.meta.name, p.meta.version, known_hosts=sel.known_hosts,
             controls=[c for c in cat.controls if not is_router_control(c)])
    s.results += scan_routers(p, rnames)
    s.unused_waivers = wv.apply(s.results, waivers, dt.date.today())
    out = REPO / "build" / "compliance" / p.meta.name
    written = rep.write(s, cat, out, rep.FORMATS)
    write_textfile(s, out / "egov_compliance.prom")
    c = s.counts()
    summary = (f"{len(s.nodes())} hosts and routers: pass {c['pass']}, fail {c['fail']}, waived {c['waived']}, error {c['error']}"
               f" (score {s.score() * 100:.1f}%){'; waivers ' + str(wfile) if wfile else ''}"
               f"{'; industry waivers ' + ', '.join(f.name for f in cloud_files) if cloud_files else ''}"
               f"; report {written['html']}")
    return StepResult("failed" if s.failed else "ok", summary, {"counts": c, "score": s.score(),
                                                                 "reports": {k: str(v) for k, v in written.items()}})
