"""Prometheus configuration, one folder per NOC (1 provincial + 16 city NOCs).

``<noc>/nodes.yaml``, ``<noc>/routers.yaml`` and ``<noc>/probes.yml`` are file_sd documents (a
list of ``{targets, labels}`` groups); ``<noc>/prometheus.yml`` is the NOC's Prometheus config and
``<noc>/blackbox.yml`` its prober's modules; ``federation.json`` names the NOCs the provincial one
federates; ``province/alertmanager.yml`` (:mod:`egovops.render.alertmanager`) and ``units/``
(:mod:`egovops.render.monitor_units`) are rendered with them.

A city NOC watches its city node, its city router and its county routers, and probes (ICMP, per
family) its routers' loopbacks, its backbone and county links and the provincial node; the
provincial NOC watches the provincial node, the DR sites and the core router, probes every city
router, every backbone link's city end and every node, and federates the city NOCs.
All paths inside prometheus.yml are relative to it (as deployed: ``/etc/prometheus/``).
"""

from __future__ import annotations

from typing import Any

from egovops.model.province import DualStack, Province, Router
from egovops.render import alertmanager, monitor_units
from egovops.render import monitor_settings as settings
from egovops.render.files import dump_json, dump_yaml

NODE_EXPORTER_PORT = 9100


def noc_of_node(province: Province, slug: str) -> str:
    node = province.node(slug)
    return node.slug if node.kind == "city" else "province"


def noc_of_router(r: Router) -> str:
    return r.city or "province" if r.role in ("city", "county") else "province"


def render(province: Province, present: set[str] | None = None) -> dict[str, str]:
    """Every NOC's files. ``present``: only these routers/nodes exist (a lab brought up with
    ``--limit``); targets, probes and federation of absent ones are left out. None: all of them."""
    def here(name: str) -> bool:
        return present is None or name in present

    nodes: dict[str, list[dict[str, Any]]] = {}
    routers: dict[str, list[dict[str, Any]]] = {}
    for n in province.nodes:
        if not here(n.slug):
            continue
        noc = noc_of_node(province, n.slug)
        labels = {"node": n.slug, "kind": n.kind, "city": n.city, "noc": noc, "name_zh": n.name_zh}
        nodes.setdefault(noc, []).append({
            "targets": [f"{n.management.ipv4.ip}:{NODE_EXPORTER_PORT}", f"[{n.management.ipv6.ip}]:{NODE_EXPORTER_PORT}"],
            "labels": {**labels, "family": "dual"},
        })
    for c in province.managed_industry():  # issue 13: the provincial NOC watches the industry clouds' hosts
        if here(c.slug):
            nodes.setdefault("province", []).append({
                "targets": [f"{c.management.ipv4.ip}:{NODE_EXPORTER_PORT}", f"[{c.management.ipv6.ip}]:{NODE_EXPORTER_PORT}"],
                "labels": {"node": c.slug, "kind": "industry", "city": "", "noc": "province", "name_zh": c.name_zh,
                           "family": "dual"},
            })
    for r in province.routers:
        if not r.is_ours or not here(r.name):
            continue
        noc = noc_of_router(r)
        routers.setdefault(noc, []).append({
            "targets": [str(r.management.ipv4.ip), f"[{r.management.ipv6.ip}]"],
            "labels": {"router": r.name, "role": r.role, "city": r.city or "", "noc": noc,
                       "loopback_ipv4": str(r.loopback.ipv4.ip), "loopback_ipv6": str(r.loopback.ipv6.ip)},
        })
    for c in province.managed_industry():  # their routers too: the lab runs frr_exporter on every router of ours
        r = c.router
        if here(r.name):
            routers.setdefault("province", []).append({
                "targets": [str(r.management.ipv4.ip), f"[{r.management.ipv6.ip}]"],
                "labels": {"router": r.name, "role": r.role, "city": "", "noc": "province",
                           "loopback_ipv4": str(r.loopback.ipv4.ip), "loopback_ipv6": str(r.loopback.ipv6.ip)},
            })
    out: dict[str, str] = {}
    for noc in sorted(set(nodes) | set(routers)):
        # file_sd wants a bare list of target groups; YAML (which Prometheus reads like JSON) keeps
        # the "generated" header as a comment, which a JSON file_sd document has no room for.
        out[f"{noc}/nodes.yaml"] = dump_yaml(province, nodes.get(noc, []))
        out[f"{noc}/routers.yaml"] = dump_yaml(province, routers.get(noc, []))
    out["federation.json"] = dump_json(province, {"province": "province", "cities": sorted(c.slug for c in province.cities)})
    for noc in settings.nocs(province):
        out[f"{noc}/probes.yml"] = dump_yaml(province, [g for g in probes(province, noc)
                                                        if here(g["labels"].get("router") or g["labels"]["node"])])
        out[f"{noc}/prometheus.yml"] = dump_yaml(province, prometheus_config(province, noc, present))
        out[f"{noc}/blackbox.yml"] = dump_yaml(province, BLACKBOX)
    out.update(alertmanager.render(province))
    out.update(monitor_units.render(province))
    return dict(sorted(out.items()))


# ------------------------------------------------------------------------------------------ probes
BLACKBOX = {"modules": {
    f"icmp_{fam}": {"prober": "icmp", "timeout": "2s",
                    "icmp": {"preferred_ip_protocol": "ip4" if fam == "ipv4" else "ip6", "ip_protocol_fallback": False}}
    for fam in ("ipv4", "ipv6")
}}


def _probe(address: str, family: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"targets": [address], "labels": {**labels, "family": family}}


def _dual(ds: DualStack, labels: dict[str, str]) -> list[dict[str, Any]]:
    return [_probe(str(ds.ipv4.ip), "ipv4", labels), _probe(str(ds.ipv6.ip), "ipv6", labels)]


def probes(province: Province, noc: str) -> list[dict[str, Any]]:
    """ICMP targets probed from ``noc``'s host, one group per address and family.

    Every probe of a city NOC carries that city (it is the city's view of its own extranet); the
    provincial NOC's probes carry the city of what they probe, so a cut-off city's alerts are
    all labelled with it (and inhibited by its CityCutOff)."""
    out: list[dict[str, Any]] = []
    ours = [r for r in province.routers if r.is_ours]
    if noc == settings.PROVINCE_NOC:
        for r in ours:
            if r.role in ("core", "city"):
                out += _dual(r.loopback, {"target_kind": "router_loopback", "router": r.name, "city": r.city or "",
                                          "noc": noc})
        for link in province.links:
            if link.kind == "backbone":
                city = province.router(link.b.device).city or ""
                out += _dual(link.b.address, {"target_kind": "link", "router": link.b.device, "city": city,
                                              "noc": noc, "plane": link.plane or "", "segment": "province_city"})
        own = settings.noc_host(province, noc).slug
        for n in province.nodes:
            if n.slug != own:
                out += _dual(n.address, {"target_kind": "host", "node": n.slug, "city": n.city, "noc": noc})
        return out
    city_rt = {r.name for r in ours if r.city == noc and r.role in ("city", "county")}
    for r in ours:
        if r.name in city_rt:
            out += _dual(r.loopback, {"target_kind": "router_loopback", "router": r.name, "city": noc, "noc": noc})
    for link in province.links:
        if link.kind == "backbone" and link.b.device in city_rt:
            # the far (provincial) end: it answers only while this plane carries traffic
            out += _dual(link.a.address, {"target_kind": "link", "router": link.a.device, "city": noc, "noc": noc,
                                          "plane": link.plane or "", "segment": "province_city"})
        elif link.kind == "county" and link.a.device in city_rt:
            out += _dual(link.b.address, {"target_kind": "link", "router": link.b.device, "city": noc, "noc": noc,
                                          "plane": link.plane or "", "segment": "city_county"})
    prov = settings.noc_host(province, settings.PROVINCE_NOC)
    out += _dual(prov.address, {"target_kind": "host", "node": prov.slug, "city": noc, "noc": noc})
    return out


# ------------------------------------------------------------------------------------------ DR database tier
def postgres_targets(province: Province) -> list[dict[str, Any]]:
    """postgres_exporter (roles/dr_postgres DR-PG-07) on both hosts of the provincial database pair
    (dr.yaml ``same_city``: the primary and its synchronous standby; either may be primary after a
    failover, so both are listed by site, not by role). Served to the provincial NOC as http_sd by
    the egovops exporter only once DR is deployed (:mod:`egovops.monitor.drgate`)."""
    same_city = [r for r in province.replications if r.kind == "same_city"]
    out: list[dict[str, Any]] = []
    for r in same_city:
        for site in (r.source, r.target):
            n = province.node(site)
            out.append({"targets": [f"{n.management.ipv4.ip}:{settings.POSTGRES_EXPORTER_PORT}"],
                        "labels": {"node": site, "kind": n.kind, "tier": r.tier, "city": "",
                                   "noc": settings.PROVINCE_NOC}})
    return out


# ------------------------------------------------------------------------------------------ prometheus.yml
def _file_sd(*files: str) -> list[dict[str, Any]]:
    return [{"files": list(files), "refresh_interval": "1m"}]


def prometheus_config(province: Province, noc: str, present: set[str] | None = None) -> dict[str, Any]:
    """One NOC's Prometheus: node, frr, blackbox per family; the provincial one also the egovops
    exporter and /federate of every city NOC (recorded aggregates and ALERTS only)."""
    t = settings.timings(province)
    am = settings.noc_host(province, settings.PROVINCE_NOC).management.ipv4.ip
    jobs: list[dict[str, Any]] = [
        {"job_name": "node", "file_sd_configs": _file_sd("nodes.yaml"),
         "relabel_configs": [{"action": "labeldrop", "regex": "family|name_zh"}]},
        {"job_name": "frr", "file_sd_configs": _file_sd("routers.yaml"),
         "relabel_configs": [
             # routers.yaml lists bare management addresses: scrape only the v4 one, on frr_exporter's port
             {"source_labels": ["__address__"], "regex": r"\[.*\]", "action": "drop"},
             {"source_labels": ["__address__"], "regex": "(.+)", "target_label": "__address__",
              "replacement": f"${{1}}:{settings.FRR_EXPORTER_PORT}"},
             {"action": "labeldrop", "regex": "loopback_ipv4|loopback_ipv6"},
         ]},
    ]
    for fam in ("ipv4", "ipv6"):
        jobs.append({
            "job_name": f"blackbox_icmp_{fam}", "metrics_path": "/probe", "params": {"module": [f"icmp_{fam}"]},
            "file_sd_configs": _file_sd("probes.yml"),
            "relabel_configs": [
                {"source_labels": ["family"], "regex": fam, "action": "keep"},
                {"source_labels": ["__address__"], "target_label": "__param_target"},
                {"source_labels": ["__param_target"], "target_label": "instance"},
                {"target_label": "__address__", "replacement": f"127.0.0.1:{settings.BLACKBOX_PORT}"},
            ]})
    if noc == settings.PROVINCE_NOC:
        c = province.noc.controller
        # the egovops exporter reads every router and DR site per answer: a slower, patient scrape
        jobs.append({"job_name": "egovops", "scrape_interval": t.egovops_scrape_interval,
                     "scrape_timeout": t.egovops_scrape_timeout, "static_configs": [
            {"targets": [f"{c.ipv4.ip}:{settings.EGOVOPS_EXPORTER_PORT}"], "labels": {"noc": noc}}]})
        # the DR database tier's postgres_exporter: targets from the egovops exporter (http_sd), an empty
        # list until DR is deployed (a lab without DR shows no down target), no restart once it is
        jobs.append({"job_name": "postgres", "http_sd_configs": [
            {"url": f"http://{c.ipv4.ip}:{settings.EGOVOPS_EXPORTER_PORT}{settings.DR_SD_PATH}",
             "refresh_interval": t.egovops_scrape_interval}]})
        jobs.append({
            "job_name": "federate", "honor_labels": True, "metrics_path": "/federate",
            "params": {"match[]": ['{__name__=~".+:.+"}', '{__name__="ALERTS"}']},
            "static_configs": [
                {"targets": [f"{c_.management.ipv4.ip}:{settings.PROMETHEUS_PORT}"], "labels": {"noc": c_.slug}}
                for c_ in province.cities if present is None or c_.slug in present],
        })
    return {
        "global": {"scrape_interval": t.scrape_interval, "scrape_timeout": t.scrape_timeout,
                   "evaluation_interval": t.evaluation_interval,
                   "external_labels": {"noc": noc}},
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"{am}:{settings.ALERTMANAGER_PORT}"]}]}]},
        "rule_files": ["rules/*.rules.yml"],
        "scrape_configs": jobs,
    }
