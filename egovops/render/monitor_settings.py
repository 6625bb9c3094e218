"""The NOC hierarchy's fixed facts: ports (the contract in monitors/README.md), intervals, retention.

Why one module: the renderers, the Ansible role's variables, the exporter, the sinks and the CLI
all need the same ports and timings; typed once here, read everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from egovops.model.province import Node, Province

REPO = Path(__file__).resolve().parents[2]
RULES_DIR = REPO / "monitors" / "rules"

PROMETHEUS_PORT = 9090
ALERTMANAGER_PORT = 9093
NODE_EXPORTER_PORT = 9100
BLACKBOX_PORT = 9115
FRR_EXPORTER_PORT = 9342
EGOVOPS_EXPORTER_PORT = 9560
POSTGRES_EXPORTER_PORT = 9187   # roles/dr_postgres dr_postgres_exporter_port (DR-PG-07)
DR_SD_PATH = "/sd/postgres"     # the egovops exporter's http_sd list of the DR database exporters
SINK_PORT = 9095

PROVINCE_NOC = "province"


@dataclass(frozen=True)
class Timings:
    """Scrape/evaluation/notification timings and retention of one environment."""

    scrape_interval: str
    scrape_timeout: str
    evaluation_interval: str
    probe_timeout_s: float
    retention_time: str
    retention_size: str
    group_wait: str
    group_interval: str
    repeat_interval: str
    resolve_timeout: str
    check_interval_s: int           # scheduled drift/compliance checks
    egovops_scrape_interval: str    # the egovops exporter (vtysh per router, SSH per DR site per answer)
    egovops_scrape_timeout: str


LAB = Timings("5s", "4s", "5s", 2.0, "2d", "256MB", "1s", "5s", "1h", "1m", 600, "15s", "14s")
PRODUCTION = Timings("30s", "10s", "30s", 5.0, "30d", "20GB", "30s", "5m", "4h", "5m", 900, "60s", "50s")


def timings(province: Province) -> Timings:
    """Lab intervals make an alert reach its receiver within seconds; production ones spare the fleet."""
    return LAB if province.meta.environment == "lab" else PRODUCTION


def nocs(province: Province) -> list[str]:
    """The 17 NOCs: the provincial one, then one per city (inventory order)."""
    return [PROVINCE_NOC] + [c.slug for c in province.cities]


def noc_host(province: Province, noc: str) -> Node:
    """The node whose host runs the NOC's Prometheus (the provincial node, or the city node)."""
    if noc == PROVINCE_NOC:
        return next(n for n in province.nodes if n.kind == "provincial")
    return province.node(noc)


def receiver(noc: str) -> str:
    return f"noc-{noc}"
