"""Reports of a scan: HTML for auditors, JSON and JUnit XML for machines.

The HTML is one self-contained file (inline CSS, no scripts, no fonts or images from the network),
grouped per city, with the summary score, per-control table with Chinese titles, evidence, the
generation time and the inventory version. Everything it shows comes from the scan and the catalogue.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

import jinja2

from egovops.compliance.catalogue import Catalogue
from egovops.compliance.results import STATUSES, Scan

FORMATS = ("html", "json", "junit")
LABELS = {"pass": "通过 PASS", "fail": "不符合 FAIL", "waived": "豁免 WAIVED", "error": "无法检查 ERROR"}


def to_json(scan: Scan) -> str:
    return json.dumps(scan.as_dict(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def to_junit(scan: Scan, catalogue: Catalogue) -> str:
    """One testsuite per host, one testcase per control; fail -> failure, error -> error, waived -> skipped."""
    suites = ET.Element("testsuites", name=f"egovops comply {scan.inventory} {scan.inventory_version}")
    for node in scan.nodes():
        rows = [r for r in scan.results if r.node == node]
        c = scan.counts(node)
        s = ET.SubElement(suites, "testsuite", name=node, tests=str(len(rows)), failures=str(c["fail"]),
                          errors=str(c["error"]), skipped=str(c["waived"]), timestamp=scan.generated,
                          time=f"{sum(r.seconds for r in rows):.3f}")
        for r in rows:
            ctl = catalogue.get(r.control)
            tc = ET.SubElement(s, "testcase", classname=f"{node}.{ctl.family.slug}",
                               name=f"{r.control} {ctl.title_en}", time=f"{r.seconds:.3f}")
            if r.status == "fail":
                ET.SubElement(tc, "failure", message=r.evidence[:200]).text = r.evidence
            elif r.status == "error":
                ET.SubElement(tc, "error", message=r.evidence[:200]).text = r.evidence
            elif r.status == "waived":
                w = r.waiver or {}
                ET.SubElement(tc, "skipped", message=f"waived: {w.get('reason')} (approver {w.get('approver')}, "
                                                     f"expires {w.get('expires')})")
            ET.SubElement(tc, "system-out").text = r.evidence
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def to_html(scan: Scan, catalogue: Catalogue) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(Path(__file__).parent)),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    by_city: dict[str, list[dict]] = {}
    for node in scan.nodes():
        rows = [r for r in scan.results if r.node == node]
        city = rows[0].city or "(省级 provincial)"
        by_city.setdefault(city, []).append({"node": node, "name_zh": rows[0].name_zh, "rows": rows,
                                             "counts": scan.counts(node), "score": scan.score(node)})
    per_control = {c.id: {s: 0 for s in STATUSES} for c in catalogue.controls}
    for r in scan.results:
        per_control[r.control][r.status] += 1
    return env.get_template("report.html.j2").render(
        scan=scan, nodes=scan.nodes(), controls=catalogue.controls, by_id={c.id: c for c in catalogue.controls},
        cities=sorted(by_city.items()), per_control=per_control, totals=scan.counts(), labels=LABELS)


def write(scan: Scan, catalogue: Catalogue, out: Path, formats: Iterable[str]) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for fmt in formats:
        if fmt == "html":
            path, text = out / "compliance.html", to_html(scan, catalogue)
        elif fmt == "json":
            path, text = out / "compliance.json", to_json(scan)
        elif fmt == "junit":
            path, text = out / "compliance-junit.xml", to_junit(scan, catalogue)
        else:
            raise ValueError(f"unknown report format {fmt!r} (choose from {', '.join(FORMATS)})")
        path.write_text(text, encoding="utf-8")
        written[fmt] = path
    return written
