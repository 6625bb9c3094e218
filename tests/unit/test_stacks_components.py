"""The three ComponentResources under Pulumi's mock runtime: resources, properties, parents, outputs.

Why: the components are what the stacks deploy; Pulumi's own testing pattern (set_mocks) lets us
assert what each would register without an engine or a cluster. Each test builds only the
component under test from a stack config rendered from the lab inventory.
"""

from __future__ import annotations

import pytest

from egovops.render.pulumi_config import stack_config
from egovops.stacks import config as sc
from egovops.stacks import mockrun
from egovops.stacks.components import (
    CloudNode,
    CloudNodeArgs,
    ObjectStore,
    ObjectStoreArgs,
    PlatformService,
    PlatformServiceArgs,
)
from egovops.stacks.values import image_digests

pytestmark = pytest.mark.unit


def rendered(province, slug: str) -> dict:
    return stack_config(province, province.node(slug))["config"]


def run(province, slug: str, build) -> tuple[list[mockrun.Recorded], sc.StackConfig]:
    raw = rendered(province, slug)
    cfg = sc.parse(raw)
    return mockrun.run(slug, raw, build, cfg), cfg


def of_kind(recs, kind: str) -> list[mockrun.Recorded]:
    return [r for r in recs if r.is_kubernetes and r.props.get("kind") == kind]


def component(recs, type_: str) -> mockrun.Recorded:
    (c,) = [r for r in recs if r.type == type_]
    return c


def test_cloud_node_tenants_isolation_and_outputs(lab_province):
    recs, cfg = run(lab_province, "province", lambda c: CloudNode(c.node, CloudNodeArgs(config=c)))
    node = component(recs, "egovops:cloud:CloudNode")
    tenants = {s.slug for s in cfg.services}
    assert tenants == {s.slug for s in lab_province.services if "province" in s.nodes}
    namespaces = {r.props["metadata"]["name"]: r for r in of_kind(recs, "Namespace")}
    assert set(namespaces) == tenants | {"egov-monitoring"}
    for name in tenants:
        labels = namespaces[name].props["metadata"]["labels"]
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
        assert labels["egov.ah/zone"] == next(s.zone for s in cfg.services if s.slug == name)
    quotas = {r.props["metadata"]["namespace"] for r in of_kind(recs, "ResourceQuota")}
    limits = {r.props["metadata"]["namespace"] for r in of_kind(recs, "LimitRange")}
    deny = {r.props["metadata"]["namespace"] for r in of_kind(recs, "NetworkPolicy")
            if r.props["metadata"]["name"] == "default-deny"}
    assert quotas == limits == tenants and deny == tenants | {"egov-monitoring"}
    for r in of_kind(recs, "NetworkPolicy"):
        if r.props["metadata"]["name"] == "default-deny":
            assert r.props["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    # quota sized from the catalogue: replicas x headroom pods, and no LoadBalancer/NodePort at all
    identity = next(r for r in of_kind(recs, "ResourceQuota") if r.props["metadata"]["namespace"] == "identity")
    svc = next(s for s in cfg.services if s.slug == "identity")
    assert identity.props["spec"]["hard"]["pods"] == str(svc.replicas * 3)
    assert identity.props["spec"]["hard"]["services.loadbalancers"] == "0"
    # every child is parented to the component
    assert all(r.parent == node.urn for r in recs if r is not node)
    assert set(node.outputs["namespaces"]) == tenants
    assert {s.props["metadata"]["name"] for s in of_kind(recs, "StorageClass")} == {"egov-block", "egov-retain"}


def test_cloud_node_backup_schedules_follow_dr_tiers(lab_province):
    recs, cfg = run(lab_province, "province", lambda c: CloudNode(c.node, CloudNodeArgs(config=c)))
    schedules = {r.props["metadata"]["name"]: r.props["spec"] for r in of_kind(recs, "Schedule")}
    tiers = {t.name: t for t in lab_province.dr_tiers}
    assert set(schedules) == {"dr-province-to-dr-local", "dr-province-to-dr-remote"}
    local = schedules["dr-province-to-dr-local"]
    assert local["schedule"] == tiers["system"].schedule
    assert set(local["template"]["includedNamespaces"]) == {s.slug for s in cfg.services if s.dr_tier == "system"}
    remote = schedules["dr-province-to-dr-remote"]
    assert remote["schedule"] == tiers["data"].schedule and remote["template"]["storageLocation"] == "dr-dr-remote"
    assert set(remote["template"]["includedNamespaces"]) == {s.slug for s in cfg.services}


def test_city_cooperation_is_mutual(lab_province):
    """hefei<->anqing: each city backs up toward the other and keeps the other's replica."""
    for city, peer in (("hefei", "anqing"), ("anqing", "hefei")):
        recs, cfg = run(lab_province, city, lambda c: (CloudNode(c.node, CloudNodeArgs(config=c)),
                                                       ObjectStore(f"{c.node}-store", ObjectStoreArgs(config=c))))
        (sched,) = of_kind(recs, "Schedule")
        assert sched.props["spec"]["template"]["storageLocation"] == f"dr-{peer}"
        buckets = {r.props["bucket"]: r.props for r in recs if r.type == "pulumi-python:dynamic:Resource"}
        assert set(buckets) == {f"egov-{city}-data", f"egov-{city}-replica-{peer}"}
        assert [x["destination"] for x in buckets[f"egov-{city}-data"]["replication"]] == [f"egov-{peer}-replica-{city}"]


def test_platform_service_renders_chart_with_catalogue_values(lab_province):
    def build(c):
        svc = next(s for s in c.services if s.slug == "case-db")
        PlatformService(svc.slug, PlatformServiceArgs(service=svc, config=c))

    recs, cfg = run(lab_province, "province", build)
    comp = component(recs, "egovops:platform:PlatformService")
    chart = component(recs, "kubernetes:helm.sh/v3:Chart")
    assert chart.parent == comp.urn
    objs = [r for r in recs if r.is_kubernetes]
    assert {r.props["kind"] for r in objs} >= {"Deployment", "Service", "NetworkPolicy", "PodDisruptionBudget",
                                                "HorizontalPodAutoscaler", "ServiceMonitor", "PrometheusRule"}
    assert all(r.parent == chart.urn for r in objs)
    cat = next(s for s in lab_province.services if s.slug == "case-db")
    (dep,) = of_kind(recs, "Deployment")
    (hpa,) = of_kind(recs, "HorizontalPodAutoscaler")
    c0 = dep.props["spec"]["template"]["spec"]["containers"][0]
    assert c0["image"] == f"{cat.image}@{image_digests()[cat.image]}"    # pinned by digest (charts/image-digests.yaml)
    assert c0["resources"]["limits"] == {"cpu": cat.cpu, "memory": cat.memory}
    assert hpa.props["spec"]["minReplicas"] == cat.replicas
    sc_ = c0["securityContext"]
    assert sc_["readOnlyRootFilesystem"] is True and sc_["allowPrivilegeEscalation"] is False
    assert sc_["capabilities"]["drop"] == ["ALL"]
    (svc,) = of_kind(recs, "Service")
    assert svc.props["spec"]["ipFamilyPolicy"] == "RequireDualStack"
    assert svc.props["spec"]["ipFamilies"] == ["IPv4", "IPv6"]
    assert comp.outputs["endpoint"] == f"case-db.case-db.svc:{cat.port}" and comp.outputs["zone"] == "extranet"


def test_network_policy_follows_zone_flows(lab_province):
    """An internet-zone service admits the public; an extranet-only one never does."""
    def build(c):
        for slug in ("portal", "case-db"):
            svc = next(s for s in c.services if s.slug == slug)
            PlatformService(svc.slug, PlatformServiceArgs(service=svc, config=c))

    recs, cfg = run(lab_province, "province", build)
    nps = {r.props["metadata"]["namespace"]: r.props["spec"] for r in of_kind(recs, "NetworkPolicy")}

    def cidrs(spec):
        return {p["ipBlock"]["cidr"] for rule in spec.get("ingress", []) for p in rule["from"] if "ipBlock" in p}

    assert {"0.0.0.0/0", "::/0"} <= cidrs(nps["portal"])
    assert not {"0.0.0.0/0", "::/0"} & cidrs(nps["case-db"])
    assert set(cfg.extranet_cidrs) <= cidrs(nps["case-db"])
    # metrics only from the management network, on 9102
    mgmt_rules = [r for r in nps["case-db"]["ingress"] if any(p.get("ipBlock", {}).get("cidr") in cfg.management_cidrs
                                                             for p in r["from"])]
    assert [p["port"] for r in mgmt_rules for p in r["ports"]] == [9102]
    # internet-zone services may reach the extranet only through data-exchange (zones.yaml)
    egress_targets = [p.get("namespaceSelector", {}).get("matchLabels") for r in nps["portal"].get("egress", [])
                      for p in r["to"]]
    assert {"kubernetes.io/metadata.name": "data-exchange"} in egress_targets
    assert {"egov.ah/zone": "extranet"} not in egress_targets


def test_object_store_buckets_versioned_encrypted_replicated(lab_province):
    recs, cfg = run(lab_province, "dr-remote", lambda c: ObjectStore(f"{c.node}-store", ObjectStoreArgs(config=c)))
    comp = component(recs, "egovops:storage:ObjectStore")
    buckets = [r for r in recs if r.type == "pulumi-python:dynamic:Resource"]
    assert {b.props["bucket"] for b in buckets} == {"egov-dr-remote-data", "egov-dr-remote-replica-province"}
    assert all(b.props["versioning"] is True and b.props["encryption"] is True for b in buckets)
    assert all(b.parent == comp.urn for b in buckets)
    assert set(comp.outputs["buckets"]) == {b.props["bucket"] for b in buckets}


def test_stack_entry_point_reads_the_rendered_config(lab_province):
    """stacks/__main__.py (what the Pulumi CLI runs) reads pulumi.Config and deploys the same as
    the program given the parsed config."""
    import runpy

    from egovops.stacks import PROJECT_DIR
    from egovops.stacks.program import program

    via_config, _ = run(lab_province, "hefei", lambda c: runpy.run_path(str(PROJECT_DIR / "__main__.py")))
    direct, _ = run(lab_province, "hefei", program)
    assert sorted(r.urn for r in via_config) == sorted(r.urn for r in direct)
    assert len(direct) > 100


def test_malformed_config_names_the_key(lab_province):
    raw = rendered(lab_province, "province")
    broken = {k: v for k, v in raw.items() if k != "egovops:services"}
    with pytest.raises(sc.ConfigError, match="egovops:services"):
        sc.parse(broken)
    bad = dict(raw, **{"egovops:services": [{"slug": "x"}]})
    with pytest.raises(sc.ConfigError, match="province"):
        sc.parse(bad)
