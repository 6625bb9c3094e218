"""snmp_exporter configuration for the Huawei VRP production routers, derived from the inventory.

Production routers run VRP, not FRR, so frr_exporter cannot read them; snmp_exporter (Debian
``prometheus-snmp-exporter`` 0.21, one per NOC host, port 9116) walks them over SNMPv3 on their
management address. The lab runs FRR only: this is rendered and checked here
(``prometheus-snmp-exporter --dry-run``), never run.

What comes from where:

* the walked objects: ``snmp_modules.yaml`` beside this file (IF-MIB, OSPF-MIB, OSPFV3-MIB,
  BGP4-MIB, HUAWEI-ENTITY-EXTENT-MIB, by OID; the generator would need vendor MIBs Debian
  cannot ship);
* the targets: every router of ours in the inventory, grouped by the NOC that watches it (the same
  split as frr and node targets, :mod:`egovops.render.prometheus`), labelled like the ``frr`` job;
* the credentials: never in the output. ``auth`` holds Ansible variables
  (``{{ vault_snmp_* }}``) that the monitoring role fills from the vault with ``no_log: true``.

Every VRP interface description starts with the inventory's interface name (network templates:
``description <ifname> ...``), so the scrape job copies the first word of ``ifAlias`` into an
``iface`` label: SNMP series then join ``egov_link_info`` exactly like the lab's frr series.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from egovops.model.province import Province
from egovops.render.files import dump_yaml
from egovops.render.prometheus import noc_of_router

SNMP_EXPORTER_PORT = 9116
MODULE = "huawei_vrp"
JOB = "snmp"
MODULES_FILE = Path(__file__).with_name("snmp_modules.yaml")
# SNMPv3 authPriv with the strongest protocols snmp_exporter 0.21 offers that VRP supports.
AUTH = {
    "security_level": "authPriv",
    "username": "{{ snmp_v3_username }}",
    "password": "{{ vault_snmp_v3_auth_password }}",
    "auth_protocol": "SHA",
    "priv_protocol": "AES",
    "priv_password": "{{ vault_snmp_v3_priv_password }}",
}
AUTH_VARIABLES = ("snmp_v3_username", "vault_snmp_v3_auth_password", "vault_snmp_v3_priv_password")


def mib_definitions(path: Path = MODULES_FILE) -> dict[str, Any]:
    defs: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return defs


def module(defs: dict[str, Any] | None = None) -> dict[str, Any]:
    """The one snmp_exporter module for a VRP router: every MIB's walks and metrics.

    One module because snmp_exporter 0.21 takes one ``module`` per scrape; a router without BGP
    simply returns no BGP rows.
    """
    defs = defs or mib_definitions()
    walk: list[str] = []
    get: list[str] = []
    metrics: list[dict[str, Any]] = []
    for mib in defs["mibs"].values():
        walk += mib.get("walk", [])
        get += mib.get("get", [])
        for m in mib["metrics"]:
            m = copy.deepcopy(m)
            table = m.pop("table", None)
            if table:
                shape = defs["tables"][table]
                m.setdefault("indexes", copy.deepcopy(shape["indexes"]))
                if "lookups" in shape:
                    m.setdefault("lookups", copy.deepcopy(shape["lookups"]))
            metrics.append(m)
    return {
        "walk": walk,
        "get": get,
        "metrics": metrics,
        "version": 3,
        "max_repetitions": 25,
        "retries": 3,
        "timeout": "10s",
        "auth": dict(AUTH),
    }


def config() -> dict[str, Any]:
    """snmp.yml: the module map snmp_exporter reads (``--config.file``)."""
    return {MODULE: module()}


def targets(province: Province) -> dict[str, list[dict[str, Any]]]:
    """file_sd groups per NOC: each router of ours on its IPv4 management address."""
    out: dict[str, list[dict[str, Any]]] = {}
    for r in province.routers:
        if not r.is_ours:
            continue
        noc = noc_of_router(r)
        out.setdefault(noc, []).append({
            "targets": [str(r.management.ipv4.ip)],
            "labels": {"router": r.name, "role": r.role, "city": r.city or "", "noc": noc},
        })
    return out


def scrape_config(province: Province, noc: str, sd_dir: str = "/etc/prometheus/file_sd") -> dict[str, Any] | None:
    """The Prometheus scrape job of one NOC for its VRP routers; None for a lab inventory (FRR there)."""
    if province.meta.environment == "lab":
        return None
    return {
        "job_name": JOB,
        "metrics_path": "/snmp",
        "params": {"module": [MODULE]},
        "scrape_interval": "60s",
        "scrape_timeout": "30s",
        "file_sd_configs": [{"files": [f"{sd_dir}/snmp-routers.yaml"]}],
        "relabel_configs": [
            {"source_labels": ["__address__"], "target_label": "__param_target"},
            {"source_labels": ["__param_target"], "target_label": "instance"},
            # the exporter on the NOC's own host
            {"target_label": "__address__", "replacement": f"127.0.0.1:{SNMP_EXPORTER_PORT}"},
        ],
        "metric_relabel_configs": [
            {"source_labels": ["ifAlias"], "regex": r"(\S+)(\s.*)?", "target_label": "iface", "replacement": "$1"},
        ],
    }


def render(province: Province) -> dict[str, str]:
    """``snmp.yml`` (under ``snmp/`` of the rendered tree) plus, per NOC, its file_sd targets and scrape job (production only)."""
    if province.meta.environment == "lab":
        return {}
    out = {"snmp.yml": dump_yaml(province, config())}
    for noc, groups in sorted(targets(province).items()):
        out[f"{noc}/snmp-routers.yaml"] = dump_yaml(province, groups)
        out[f"{noc}/scrape-job.yaml"] = dump_yaml(province, scrape_config(province, noc))
    return out
