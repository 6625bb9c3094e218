"""The Ansible inventory: hosts (cloud nodes, DR sites) and routers, grouped per city, role and DR tier."""

from __future__ import annotations

from typing import Any

from egovops.model.province import Node, Province
from egovops.render import host_firewall
from egovops.render.files import dump_yaml


def host_vars(province: Province, node: Node) -> dict[str, Any]:
    return {
        "ansible_host": str(node.management.ipv4.ip),
        "egov_name_zh": node.name_zh,
        "egov_node_id": node.id,
        "egov_kind": node.kind,
        "egov_city": node.city,
        "egov_mgmt_ipv4": str(node.management.ipv4),
        "egov_mgmt_ipv6": str(node.management.ipv6),
        "egov_ext_ipv4": str(node.address.ipv4),
        "egov_ext_ipv6": str(node.address.ipv6),
        "egov_gateway_ipv4": str(node.gateway.ipv4.ip),
        "egov_gateway_ipv6": str(node.gateway.ipv6.ip),
        "egov_services": [s.slug for s in province.services if node.slug in s.nodes],
        "egov_standby_services": [s.slug for s in province.services if node.slug in s.standby],
        # this host's inbound allow-list: the general entries for its kind + the catalogue calls it serves
        "egov_host_firewall": host_firewall.host_rules(province, node),
    }


def group_vars(province: Province) -> dict[str, Any]:
    s = province.supernets
    return {
        "egov_inventory": province.meta.name,
        "egov_inventory_version": province.meta.version,
        "egov_environment": province.meta.environment,
        "egov_ntp_servers": list(province.noc.ntp),
        "egov_syslog_servers": list(province.noc.syslog),
        "egov_noc_ipv4": str(province.noc.controller.ipv4.ip),
        "egov_noc_ipv6": str(province.noc.controller.ipv6.ip),
        "egov_mgmt_prefixes": {"ipv4": str(s.management4), "ipv6": str(s.management6)},
        # "extranet" sources of the host firewall: the plan's supernets and the managed industry clouds
        "egov_extranet_prefixes": host_firewall.source_sets(province)["extranet"],
        # the entries for every host (each cloud host's own list, in its host vars, adds its kind's and its calls)
        "egov_host_firewall": host_firewall.general_rules(province),
        # the inventory's admin account (zones.yaml host_access): plays gain root with become (sudo)
        "ansible_user": province.zones.host_access.admin_user,
        "ansible_python_interpreter": "/usr/bin/python3",
        # the provincial DR replications (dr.yaml): roles/dr_postgres places primary, standby and repository
        "egov_dr": {r.kind: {"source": r.source, "target": r.target, "tier": r.tier}
                    for r in province.replications if r.kind in ("same_city", "remote")},
    }


def industry_groups(province: Province) -> dict[str, Any]:
    """Managed industry clouds (production: those that exist): their hosts and their routers.

    Apart from ``cloud_hosts`` and ``routers`` on purpose: the routers belong to the clouds'
    departments (in production the province pushes only its core side, in province-rt's config), and plays
    that target every cloud host opt in to ``industry_hosts`` explicitly.
    """
    managed = province.managed_industry()
    if not managed:
        return {}
    hosts = {c.slug: {"ansible_host": str(c.management.ipv4.ip), "egov_name_zh": c.name_zh, "egov_node_id": c.id,
                      "egov_kind": "industry", "egov_city": "", "egov_department": c.department,
                      "egov_mgmt_ipv4": str(c.management.ipv4), "egov_mgmt_ipv6": str(c.management.ipv6),
                      "egov_ext_ipv4": str(c.address.ipv4), "egov_ext_ipv6": str(c.address.ipv6),
                      "egov_gateway_ipv4": str(c.gateway.ipv4.ip), "egov_gateway_ipv6": str(c.gateway.ipv6.ip),
                      "egov_services": list(c.hosts), "egov_consumes": list(c.consumes), "egov_standby_services": [],
                      "egov_dr_tier": c.dr_tier or ""} for c in managed}
    routers = {c.router.name: {"ansible_host": str(c.router.management.ipv4.ip), "egov_role": "industry",
                               "egov_city": "", "egov_routing": c.routing,
                               "ansible_network_os": "frr" if province.meta.environment == "lab" else "huawei_vrp"}
               for c in managed}
    return {"industry_hosts": {"hosts": hosts}, "industry_routers": {"hosts": routers}}


def render(province: Province) -> dict[str, str]:
    hosts = {n.slug: host_vars(province, n) for n in province.nodes}
    children: dict[str, Any] = {}

    def add(group: str, member: str) -> None:
        children.setdefault(group, {"hosts": {}})["hosts"][member] = None

    for n in province.nodes:
        add(f"kind_{n.kind}", n.slug)
        if n.city:
            add(f"city_{n.city}", n.slug)
    for rep in province.replications:
        add(f"dr_{rep.tier}", rep.source)
        add(f"dr_{rep.tier}", rep.target)
    routers = {
        r.name: {"ansible_host": str(r.management.ipv4.ip), "egov_role": r.role, "egov_city": r.city or "",
                 "ansible_network_os": "frr" if province.meta.environment == "lab" else "huawei_vrp"}
        for r in province.routers if r.is_ours
    }
    industry = industry_groups(province)
    data = {"all": {
        "vars": group_vars(province),
        "children": {
            "cloud_hosts": {"hosts": hosts},
            "routers": {"hosts": routers},
            **industry,
            **dict(sorted(children.items())),
        },
    }}
    return {"hosts.yaml": dump_yaml(province, data)}
