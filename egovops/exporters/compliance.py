"""Compliance metrics for Prometheus, from a scan.

``egov_compliance_control_status{node,control,family}``: 1 pass, 0 fail, -1 error (could not be
checked), 2 waived. ``egov_compliance_score{node}``: share of assessed controls passing (0..1; waived
rows left out). ``egov_compliance_last_scan_timestamp_seconds``. Written as a node_exporter textfile
(``<out>/egov_compliance.prom``; node_exporter's textfile collector, Debian's default directory
``/var/lib/prometheus/node-exporter``), and optionally per node onto the node itself so each node's
node_exporter serves its own compliance state.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prometheus_client import CollectorRegistry, Gauge, generate_latest, write_to_textfile

from egovops.compliance.results import Scan

STATUS_VALUE = {"pass": 1, "fail": 0, "error": -1, "waived": 2}
NODE_EXPORTER_TEXTFILE_DIR = "/var/lib/prometheus/node-exporter"


def registry(scan: Scan, node: str | None = None) -> CollectorRegistry:
    reg = CollectorRegistry()
    status = Gauge("egov_compliance_control_status",
                   "Level-3 control status per node: 1 pass, 0 fail, -1 error (not checkable), 2 waived",
                   ["node", "control", "family"], registry=reg)
    score = Gauge("egov_compliance_score", "Share of assessed level-3 controls that pass (waived excluded), 0..1",
                  ["node"], registry=reg)
    ts = Gauge("egov_compliance_last_scan_timestamp_seconds", "When the compliance scan ran (Unix time)",
               registry=reg)
    for r in scan.results:
        if node is None or r.node == node:
            status.labels(r.node, r.control, r.family).set(STATUS_VALUE[r.status])
    for n in scan.nodes():
        if node is None or n == node:
            score.labels(n).set(scan.score(n))
    ts.set(dt.datetime.fromisoformat(scan.generated).timestamp())
    return reg


def exposition(scan: Scan, node: str | None = None) -> str:
    return generate_latest(registry(scan, node)).decode()


def write_textfile(scan: Scan, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_to_textfile(str(path), registry(scan))
    return path
