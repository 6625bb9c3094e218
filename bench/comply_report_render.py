"""Render check of the auditors' HTML report: strict HTML parse (html5lib) and headless Chromium.

Renders a report (the given file, or one from a synthetic 19-host scan), validates it with html5lib in
strict mode, then loads it in headless Chromium with networking features off and a fresh profile,
takes a screenshot (written OUTSIDE the repository, in a temp folder) and dumps the DOM to confirm the
page rendered (title, every control row). Prints the timings and where the screenshot is.

    .venv/bin/python bench/comply_report_render.py [REPORT.html]
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync"]


def synthetic_report(out: Path) -> Path:
    from egovops.compliance import report
    from egovops.compliance.catalogue import load
    from egovops.compliance.results import Result, Scan
    from egovops.model import load_inventory
    p = load_inventory(REPO / "inventories" / "lab")
    cat = load()
    rows = []
    for i, n in enumerate(p.nodes):
        for j, c in enumerate(cat.controls):
            status = "fail" if (i + j) % 23 == 0 else "error" if (i * j) % 41 == 7 else "pass"
            rows.append(Result(n.slug, n.city or "", n.name_zh, c.id, c.family.slug, status, f"observed value {i}.{j}", 0.01))
    scan = Scan(p.meta.name, p.meta.version, "2026-11-23T12:00:00+00:00", 9.9, rows)
    path = out / "compliance.html"
    path.write_text(report.to_html(scan, cat), encoding="utf-8")
    return path


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="egov-report-render-"))
    html = Path(sys.argv[1]) if len(sys.argv) > 1 else synthetic_report(work)
    text = html.read_text(encoding="utf-8")
    import html5lib
    t0 = time.monotonic()
    html5lib.HTMLParser(strict=True).parse(text)
    print(f"html5lib strict parse: ok ({len(text) // 1024} KiB, {time.monotonic() - t0:.2f}s)")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not chromium:
        print("chromium not installed (apt-get install chromium): render check skipped")
        return 1
    shot = work / "report.png"
    profile = work / "profile"
    t0 = time.monotonic()
    r = subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", f"--screenshot={shot}",
                        "--window-size=1400,2000", html.resolve().as_uri()], capture_output=True, text=True, timeout=600)
    ok_shot = shot.exists() and shot.stat().st_size > 10_000
    dom = subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", html.resolve().as_uri()],
                         capture_output=True, text=True, timeout=600).stdout
    ok_dom = "合规报告" in dom and dom.count("<tr") >= text.count("<tr")
    print(f"chromium screenshot: {'ok' if ok_shot else 'FAILED'} {shot} ({shot.stat().st_size if shot.exists() else 0} bytes, "
          f"{time.monotonic() - t0:.1f}s); DOM rendered: {'ok' if ok_dom else 'FAILED'} ({dom.count('<tr')} table rows)")
    if not ok_shot:
        print(r.stderr[-1500:])
    return 0 if ok_shot and ok_dom else 1


if __name__ == "__main__":
    sys.exit(main())
