"""Each 等保 policy rejects a resource that violates it, and accepts the compliant baseline.

Why: a policy that never fires protects nothing. The compliant baseline is real — the service
chart rendered by the Helm library plus the CloudNode's namespace objects — and every violating
case is that baseline with one field broken, so a test fails if a policy stops catching it.
The same functions run inside the Pulumi policy pack; the adapter is tested here too.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from types import SimpleNamespace

import pytest

from egovops.stacks import SERVICE_CHART, helm, policies
from egovops.stacks.policies import POLICIES, Subject

pytestmark = pytest.mark.unit


def k8s(obj: dict) -> Subject:
    group = obj["apiVersion"].split("/")[0] if "/" in obj["apiVersion"] else "core"
    version = obj["apiVersion"].split("/")[-1]
    return Subject(f"kubernetes:{group}/{version}:{obj['kind']}", obj["metadata"]["name"],
                   f"urn:pulumi:t::egovops::x::{obj['metadata']['name']}", obj)


def baseline() -> list[Subject]:
    values = {"fullnameOverride": "case-db", "service": {"slug": "case-db", "zone": "extranet"},
              "image": {"repository": "registry.egov.ah/platform/case-db", "tag": "1.9.0", "digest": "sha256:" + "c" * 64}}
    objs = helm.objects(helm.render(SERVICE_CHART, values, release="case-db", namespace="case-db"))
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "case-db", "labels": {
        "pod-security.kubernetes.io/enforce": "restricted", "egov.ah/zone": "extranet", "egov.ah/dr-tier": "system"}}}
    deny = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "default-deny", "namespace": "case-db"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}
    schedule = {"apiVersion": "velero.io/v1", "kind": "Schedule", "metadata": {"name": "dr-a-to-b", "namespace": "velero"},
                "spec": {"schedule": "0 2 * * *", "template": {"includedNamespaces": ["case-db"]}}}
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "case-db"},
          "data": {"LOG_LEVEL": "info", "IDENTITY_URL": "https://identity.identity.svc:8443"}}
    bucket = Subject("pulumi-python:dynamic:Resource", "egov-x-data", "urn:pulumi:t::egovops::b::egov-x-data",
                     {"kind": "egovops:s3:Bucket", "bucket": "egov-x-data", "versioning": True, "encryption": True})
    return [k8s(o) for o in [ns, deny, schedule, cm, *objs]] + [bucket]


def mutate(kind: str, fn: Callable[[dict], None]) -> Callable[[list[Subject]], list[Subject]]:
    """Break the first object of ``kind`` (``bucket`` for the dynamic bucket) with ``fn``."""
    def apply(subjects: list[Subject]) -> list[Subject]:
        out, done = [], False
        for s in subjects:
            hit = (s.kind == kind) if kind != "bucket" else s.resource_type.startswith("pulumi-python:dynamic")
            if hit and not done:
                props = copy.deepcopy(s.props)
                fn(props)
                s = Subject(s.resource_type, s.name, s.urn, props)
                done = True
            out.append(s)
        assert done, f"no {kind} in the baseline"
        return out
    return apply


def container(p: dict) -> dict:
    return p["spec"]["template"]["spec"]["containers"][0]


def drop_kind(kind: str, name: str = "") -> Callable[[list[Subject]], list[Subject]]:
    return lambda subs: [s for s in subs if not (s.kind == kind and (not name or s.props["metadata"]["name"] == name))]


VIOLATIONS: dict[str, Callable[[list[Subject]], list[Subject]]] = {
    "no-privileged-containers": mutate("Deployment", lambda p: container(p)["securityContext"].update(privileged=True)),
    "containers-run-as-non-root": mutate("Deployment", lambda p: p["spec"]["template"]["spec"]["securityContext"].update(
        runAsNonRoot=False, runAsUser=0)),
    "namespace-pod-security-restricted": mutate("Namespace", lambda p: p["metadata"]["labels"].update(
        {"pod-security.kubernetes.io/enforce": "privileged"})),
    "read-only-root-filesystem": mutate("Deployment", lambda p: container(p)["securityContext"].update(
        readOnlyRootFilesystem=False)),
    "images-pinned": mutate("Deployment", lambda p: container(p).update(image="registry.egov.ah/platform/case-db:latest")),
    "no-secrets-in-configmaps": mutate("ConfigMap", lambda p: p["data"].update(DB_PASSWORD="hunter2")),
    "buckets-versioned": mutate("bucket", lambda p: p.update(versioning=False)),
    "buckets-encrypted": mutate("bucket", lambda p: p.update(encryption=False)),
    "services-dual-stack": mutate("Service", lambda p: p["spec"].update(ipFamilyPolicy="SingleStack", ipFamilies=["IPv4"])),
    "resources-limited": mutate("Deployment", lambda p: container(p)["resources"].pop("limits")),
    "replicated-workloads-have-pdb": drop_kind("PodDisruptionBudget"),
    "namespace-default-deny": drop_kind("NetworkPolicy", "default-deny"),
    "extranet-services-not-exposed": mutate("Service", lambda p: p["spec"].update(type="NodePort")),
    "dr-backups-scheduled": mutate("Schedule", lambda p: p["spec"]["template"].update(includedNamespaces=["other"])),
}


def test_every_policy_has_a_violation_case_and_a_control_id():
    assert set(VIOLATIONS) == {p.name for p in POLICIES}
    for p in POLICIES:
        assert p.control.startswith("L3-") and p.clause.startswith("8.1.")
    assert len({p.control for p in POLICIES}) == len(POLICIES)


def test_baseline_is_compliant():
    assert policies.evaluate(baseline()) == []


@pytest.mark.parametrize("name", sorted(VIOLATIONS))
def test_policy_rejects_its_violation(name):
    policy = policies.by_name(name)
    found = policy.evaluate(VIOLATIONS[name](baseline()))
    assert found, f"{name} did not reject its violating resource"
    assert all(v.control == policy.control and v.policy == name and v.resource for v in found)
    # and only that policy (plus none of the others) fires on this single breakage, except where
    # one breakage legitimately breaks two rules
    others = {v.policy for v in policies.evaluate(VIOLATIONS[name](baseline()))} - {name}
    assert others <= {"containers-run-as-non-root", "no-privileged-containers"}


def test_image_without_tag_and_foreign_registry_rejected():
    subs = mutate("Deployment", lambda p: container(p).update(image="docker.io/library/nginx"))(baseline())
    msgs = [v.message for v in policies.by_name("images-pinned").evaluate(subs)]
    assert any("not pinned by digest" in m for m in msgs) and any("provincial registry" in m for m in msgs)
    digest = mutate("Deployment", lambda p: container(p).update(
        image="registry.egov.ah/platform/case-db@sha256:" + "a" * 64))(baseline())
    assert policies.by_name("images-pinned").evaluate(digest) == []
    both = mutate("Deployment", lambda p: container(p).update(
        image="registry.egov.ah/platform/case-db:1.9.0@sha256:" + "a" * 64))(baseline())
    assert policies.by_name("images-pinned").evaluate(both) == []


@pytest.mark.parametrize("image", ["registry.egov.ah/platform/case-db:1.9.0",            # a tag alone can be moved
                                   "registry.egov.ah/platform/case-db:1.9.0@sha256:abc",  # not a sha256 digest
                                   "registry.egov.ah/platform/case-db@sha256:" + "A" * 64])
def test_tag_without_a_full_digest_is_refused(image):
    subs = mutate("Deployment", lambda p: container(p).update(image=image))(baseline())
    msgs = [v.message for v in policies.by_name("images-pinned").evaluate(subs)]
    assert any("not pinned by digest" in m for m in msgs), msgs


def test_secret_values_in_configmaps_rejected():
    pem_header = "-----BEGIN " + "RSA PRIVATE KEY-----"  # split so no key-like text is tracked in git
    subs = mutate("ConfigMap", lambda p: p["data"].update(tls=pem_header + "\nMIIB..."))(baseline())
    (v,) = policies.by_name("no-secrets-in-configmaps").evaluate(subs)
    assert v.resource == "ConfigMap/case-db/settings" and "tls" in v.message


def test_pulumi_policy_pack_adapter_reports_the_same_violations():
    """The policy pack objects call the same functions and report with the control id."""
    from egovops.stacks.policypack import pulumi_policies

    packs = {p.name: p for p in pulumi_policies()}
    assert set(packs) == {p.name for p in POLICIES}
    broken = VIOLATIONS["services-dual-stack"](baseline())
    svc = next(s for s in broken if s.kind == "Service")
    reported: list[tuple] = []
    args = SimpleNamespace(resource_type=svc.resource_type, props=svc.props, urn=svc.urn, name=svc.name)
    validate = packs["services-dual-stack"].validate
    (validate[0] if isinstance(validate, list) else validate)(args, lambda msg, urn=None: reported.append((msg, urn)))
    assert reported and all(m.startswith("[L3-CNS1-20]") for m, _ in reported)
    stack_args = SimpleNamespace(resources=[SimpleNamespace(resource_type=s.resource_type, props=s.props, urn=s.urn,
                                                            name=s.name) for s in VIOLATIONS["namespace-default-deny"](baseline())])
    reported.clear()
    packs["namespace-default-deny"].validate(stack_args, lambda msg, urn=None: reported.append((msg, urn)))
    assert reported and "[L3-ABS2-20] Namespace/case-db" in reported[0][0]
