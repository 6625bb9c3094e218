"""The IndustryCloud component and the industry clouds' stacks under Pulumi's mock runtime (issue 13).

Why: an industry cloud's cluster belongs to another department. What the province deploys there
must go through the cloud's own provider (never the ambient kubectl context), stay inside tenant
namespaces with quotas and a default deny, and open exactly the provincial services the cloud
consumes — in both families, on their ports — and nothing else. Each test builds the stacks from
configs rendered from the production inventory (the lab manages no industry cloud).
"""

from __future__ import annotations

import ipaddress

import pulumi
import pulumi_kubernetes as k8s
import pytest

from egovops.deploy import DeployContext
from egovops.model.province import Province
from egovops.render.pulumi_config import INDUSTRY_TENANT, industry_stack_config, stack_configs
from egovops.stacks import config as sc
from egovops.stacks import mockrun, preview
from egovops.stacks.components import IndustryCloud, IndustryCloudArgs
from egovops.stacks.program import program

pytestmark = pytest.mark.unit


def cloud_of(p: Province, slug: str):
    return next(c for c in p.industry if c.slug == slug)


def build_component(cfg: sc.StackConfig) -> None:
    assert cfg.industry is not None
    provider = k8s.Provider(f"{cfg.node}-cluster", context=cfg.industry.kube_context)
    IndustryCloud(cfg.node, IndustryCloudArgs(config=cfg, provider=provider))


def run(p: Province, slug: str, build=build_component) -> tuple[list[mockrun.Recorded], sc.StackConfig]:
    raw = industry_stack_config(p, cloud_of(p, slug))["config"]
    cfg = sc.parse(raw)
    return mockrun.run(slug, raw, build, cfg), cfg


def of_kind(recs, kind: str) -> list[mockrun.Recorded]:
    return [r for r in recs if r.is_kubernetes and r.props.get("kind") == kind]


def named(recs, kind: str, ns: str, name: str) -> mockrun.Recorded:
    (r,) = [r for r in of_kind(recs, kind) if r.props["metadata"] == {**r.props["metadata"], "namespace": ns, "name": name}]
    return r


def test_stacks_only_for_managed_clouds(anhui_province: Province, lab_province: Province) -> None:
    industry = {k for k, v in stack_configs(anhui_province).items() if v["config"]["egovops:kind"] == "industry"}
    assert industry == {c.slug for c in anhui_province.managed_industry()} == {"transport", "hrss", "medical", "education"}
    # a lab: the clouds it lists (lab_industry), not those that exist in production
    lab = {k for k, v in stack_configs(lab_province).items() if v["config"]["egovops:kind"] == "industry"}
    assert lab == {c.slug for c in lab_province.managed_industry()} == set(lab_province.meta.lab_industry)
    assert lab and lab != industry
    assert set(preview.select_stacks(anhui_province, "kind:industry")) == industry


def test_tenant_quota_isolation_parent_and_outputs(anhui_province: Province) -> None:
    recs, cfg = run(anhui_province, "hrss")
    (comp,) = [r for r in recs if r.type == "egovops:industry:IndustryCloud"]
    assert {r.props["metadata"]["name"] for r in of_kind(recs, "Namespace")} == {"hrss-tenant"}
    ns = of_kind(recs, "Namespace")[0].props["metadata"]
    assert ns["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert ns["labels"]["egov.ah/zone"] == "extranet" and ns["labels"]["egov.ah/department"] == "hrss"
    assert ns["labels"]["egov.ah/dr-tier"] == "system"
    hard = named(recs, "ResourceQuota", "hrss-tenant", "tenant-quota").props["spec"]["hard"]
    assert hard["pods"] == str(INDUSTRY_TENANT["pods"]) and hard["limits.memory"] == INDUSTRY_TENANT["memory"]
    assert hard["services.loadbalancers"] == "0" and hard["services.nodeports"] == "0"
    assert named(recs, "LimitRange", "hrss-tenant", "tenant-limits")
    deny = named(recs, "NetworkPolicy", "hrss-tenant", "default-deny").props["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    assert all(r.parent == comp.urn for r in recs if r.is_kubernetes)
    assert comp.outputs["namespaces"] == ["hrss-tenant"] and comp.outputs["department"] == "hrss"
    assert comp.outputs["calls"] == [f"province:{s}" for s in cloud_of(anhui_province, "hrss").consumes]


def test_every_object_goes_through_the_clouds_own_provider(anhui_province: Province) -> None:
    recs, cfg = run(anhui_province, "medical")
    (prov,) = [r for r in recs if r.type == "pulumi:providers:kubernetes"]
    assert prov.props["context"] == "egov-industry-medical" == cfg.industry.kube_context  # type: ignore[union-attr]
    objs = [r for r in recs if r.is_kubernetes]
    assert objs and all(r.provider.startswith(prov.urn + "::") for r in objs), {r.name: r.provider for r in objs}


def test_egress_opens_exactly_the_consumed_provincial_services(anhui_province: Province) -> None:
    p = anhui_province
    for slug in ("transport", "hrss", "medical", "education"):
        recs, cfg = run(p, slug)
        cloud = cloud_of(p, slug)
        rules = named(recs, "NetworkPolicy", f"{slug}-tenant", "allow-provincial-services").props["spec"]["egress"]
        province = p.node("province")
        want = {(str(net), s.port) for s in p.services if s.slug in cloud.consumes
                for net in (province.service_v4, province.service_v6)}
        got = {(peer["ipBlock"]["cidr"], port["port"]) for r in rules for peer in r["to"] for port in r["ports"]}
        assert got == want, slug
        assert {ipaddress.ip_network(c).version for c, _ in got} == {4, 6}
        # the only egress beyond DNS: no rule of any policy reaches a city's LAN or anything wider
        cities = [n.service_v4 for n in p.cities] + [n.service_v6 for n in p.cities]
        for pol in of_kind(recs, "NetworkPolicy"):
            for rule in pol.props["spec"].get("egress", []):
                for peer in rule["to"]:
                    if "ipBlock" in peer:
                        net = ipaddress.ip_network(peer["ipBlock"]["cidr"])
                        assert not any(net.version == c.version and net.overlaps(c) for c in cities), (slug, net)


def test_noc_scrape_is_the_only_ingress(anhui_province: Province) -> None:
    recs, cfg = run(anhui_province, "education")
    ingress = [(pol.props["metadata"]["name"], rule) for pol in of_kind(recs, "NetworkPolicy")
               for rule in pol.props["spec"].get("ingress", [])]
    assert [n for n, _ in ingress] == ["allow-noc-scrape"]
    (_, rule) = ingress[0]
    assert {peer["ipBlock"]["cidr"] for peer in rule["from"]} == set(cfg.management_cidrs)
    assert rule["ports"] == [{"protocol": "TCP", "port": 9102}]


def test_hosted_service_gets_a_catalogue_tenant_and_the_chart_on_the_clouds_provider(anhui_province: Province) -> None:
    """logistics hosts the logistics service: its tenant is sized from the catalogue like on a node,
    and the chart's objects (from the stack program) use the cloud's provider too."""
    recs, cfg = run(anhui_province, "logistics", build=program)
    names = {r.props["metadata"]["name"] for r in of_kind(recs, "Namespace")}
    assert names == {"logistics-tenant", "logistics"}
    svc = next(s for s in anhui_province.services if s.slug == "logistics")
    hard = named(recs, "ResourceQuota", "logistics", "tenant-quota").props["spec"]["hard"]
    assert hard["pods"] == str(svc.replicas * 3)
    assert named(recs, "NetworkPolicy", "logistics", "allow-provincial-services")
    (prov,) = [r for r in recs if r.type == "pulumi:providers:kubernetes"]
    deployments = of_kind(recs, "Deployment")
    assert deployments and all(r.provider.startswith(prov.urn + "::") for r in recs if r.is_kubernetes)
    violations = preview.policies.evaluate(preview.subjects(recs))
    assert violations == [], violations


def test_industry_stack_previews_clean_offline(anhui_province: Province) -> None:
    raw = preview.rendered_configs(anhui_province, ["transport"])["transport"]
    rep = preview.preview_stack("transport", raw)
    assert rep.ok, (rep.error, rep.schema_problems, rep.violations)
    assert rep.kind == "industry" and len(rep.objects) == 7 and not rep.unchecked


def test_industry_block_is_required_exactly_for_industry_stacks(anhui_province: Province) -> None:
    raw = industry_stack_config(anhui_province, cloud_of(anhui_province, "hrss"))["config"]
    with pytest.raises(sc.ConfigError, match="egovops:industry"):
        sc.parse({k: v for k, v in raw.items() if k != "egovops:industry"})
    with pytest.raises(sc.ConfigError, match="egovops:industry"):
        sc.parse({**raw, "egovops:kind": "city"})
    bad = {**raw, "egovops:industry": {**raw["egovops:industry"], "tenant": {"pods": 0, "cpu": "1", "memory": "1Gi"}}}
    with pytest.raises(sc.ConfigError, match="pods"):
        sc.parse(bad)


def test_component_refuses_a_node_config(lab_province: Province) -> None:
    from egovops.render.pulumi_config import stack_config

    raw = stack_config(lab_province, lab_province.node("hefei"))["config"]
    cfg = sc.parse(raw)

    def build(c: sc.StackConfig) -> None:
        IndustryCloud("x", IndustryCloudArgs(config=c, provider=k8s.Provider("x-cluster", context="x")))

    with pytest.raises(Exception, match="needs an industry stack config"):
        mockrun.run("hefei", raw, build, cfg)
    assert pulumi  # the runtime module stays importable after a failed program


def test_deploy_step_previews_only_the_limited_stacks(anhui_province: Province, tmp_path) -> None:
    from egovops.stacks import step

    ctx = DeployContext(inventory="inventories/anhui", out=tmp_path, options={"limit": "kind:industry", "jobs": 1})
    ctx.province = anhui_province
    res = step.run(ctx)
    assert res.status == "ok", res
    assert res.details["totals"]["stacks"] == 4
    ctx.options["limit"] = "kind:nothing"
    assert step.run(ctx).status == "skipped"


def test_entry_point_reads_an_industry_stack_from_pulumi_config(anhui_province: Province) -> None:
    """stacks/__main__.py (what the Pulumi CLI runs) reads egovops:industry from pulumi.Config and
    registers the same resources, with the same provider, as the program given the parsed config."""
    import runpy

    from egovops.stacks import PROJECT_DIR

    via_config, _ = run(anhui_province, "medical", lambda c: runpy.run_path(str(PROJECT_DIR / "__main__.py")))
    direct, _ = run(anhui_province, "medical", program)
    assert sorted((r.urn, r.provider) for r in via_config) == sorted((r.urn, r.provider) for r in direct)
    assert any(r.type == "egovops:industry:IndustryCloud" for r in direct)
