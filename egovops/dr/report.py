"""A drill's report: the same facts as ``--json``, as Markdown (and the JSON beside it) under
``build/dr/<inventory>/``, so every drill leaves evidence a reviewer can read without the lab."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from egovops.dr.drills import DrillResult

REPO = Path(__file__).resolve().parents[2]


def out_dir(inventory: str) -> Path:
    return REPO / "build" / "dr" / inventory


def _cell(v: Any) -> str:
    """Table cells are text: pipes and newlines would break the Markdown table."""
    return str(v).replace("|", "\\|").replace("\n", " ")


def markdown(res: DrillResult) -> str:
    t = res.targets
    verdict = "PASSED" if res.ok else "FAILED"
    rows = [
        ("scenario", res.scenario), ("drill id", res.drill_id), ("result", verdict),
        ("tier (targets from dr.yaml)", f"{t.get('tier')}: RPO {t.get('rpo_seconds')}s, RTO {t.get('rto_seconds')}s"),
        ("RTO measured", "—" if res.rto_seconds is None else f"{res.rto_seconds:.2f}s"),
        ("RPO measured", "—" if res.rpo_seconds is None else f"{res.rpo_seconds:.2f}s"),
        ("acknowledged writes", res.acknowledged_writes), ("lost writes", res.lost_writes),
        ("unacknowledged but present", res.unacknowledged_present),
        ("objects written / checked", f"{res.objects_written} / {res.objects_checked}"),
        ("objects missing / differing", f"{res.objects_missing} / {res.objects_mismatched}"),
        ("primary before / after", f"{res.old_primary} / {res.new_primary}"),
    ]
    out = [f"# DR drill `{res.scenario}` on {res.inventory}: {verdict}", "",
           "| | |", "|---|---|"] + [f"| {_cell(k)} | {_cell(v)} |" for k, v in rows]
    out += ["", "## Timeline", "", "| t (s) | UTC | event |", "|---:|---|---|"]
    out += [f"| {e.get('t', '')} | {_cell(e.get('at', ''))} | {_cell(e.get('event', ''))} |" for e in res.timeline]
    if res.problems:
        out += ["", "## Problems", ""] + [f"- {_cell(p)}" for p in res.problems]
    if res.lost_ids:
        out += ["", "## Lost acknowledged writes (first 50)", ""] + [f"- `{i}`" for i in res.lost_ids]
    out += ["", "Runbooks: `runbooks/dr-failover.md`, `runbooks/dr-failback.md`.", ""]
    return "\n".join(out)


def write(res: DrillResult) -> Path:
    d = out_dir(res.inventory)
    d.mkdir(parents=True, exist_ok=True)
    stem = f"{res.scenario}-{res.drill_id}"
    md = d / f"{stem}.md"
    res.report = str(md)
    md.write_text(markdown(res), encoding="utf-8")
    (d / f"{stem}.json").write_text(json.dumps(res.as_dict(), indent=2, sort_keys=True, default=str,
                                               ensure_ascii=False) + "\n", encoding="utf-8")
    return md
