"""Deploy step "comply" (last): the proof of the baseline that the "harden" step
(:mod:`egovops.harden.step`) applied.

The waivers are chosen as for ``egovops comply`` (:func:`egovops.compliance.waiver_sources.for_run`):
``options["waivers"]`` when the deploy was given a file, else the lab waivers on a lab inventory; the
summary names the file applied.
"""

from __future__ import annotations

import datetime as dt

from egovops.model.load import load_inventory
from egovops.steptypes import DeployContext, StepResult


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
    from egovops.compliance.waiver_sources import for_run

    try:  # the given file or the lab's, and each industry cloud's own (valid only for its own devices)
        ws = for_run(p, cat, ctx.options.get("waivers"))
    except wv.WaiverError as exc:
        return StepResult("failed", f"waivers: {len(exc.problems)} problem(s); nothing was checked",
                          {"problems": exc.problems, "bad_input": True})
    waivers, wfile, cloud_files = ws.waivers, ws.file, ws.cloud_files
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
