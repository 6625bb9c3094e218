"""The 等保 policies as a Pulumi policy pack (``pulumi_policy``), for runs with the Pulumi CLI.

``stacks/policy/__main__.py`` calls :func:`serve`; ``pulumi preview|up --policy-pack stacks/policy``
then evaluates exactly the functions of :mod:`egovops.stacks.policies` that the offline preview
evaluates. Every policy is mandatory and names its control id and clause.
"""

from __future__ import annotations

from typing import Any

from egovops.stacks.policies import POLICIES, Policy, Subject

PACK_NAME = "egovops-dengbao"


def _framework(p: Policy) -> Any:
    from pulumi_policy import PolicyComplianceFramework

    return PolicyComplianceFramework(name="GB/T 22239-2019 (等保2.0)", version="level 3",
                                     reference=p.control, specification=p.clause)


def _resource_policy(p: Policy) -> Any:
    from pulumi_policy import EnforcementLevel, ResourceValidationPolicy

    def validate(args: Any, report_violation: Any) -> None:
        for message in p.check(Subject(args.resource_type, args.name, args.urn, dict(args.props))):
            report_violation(f"[{p.control}] {message}")

    return ResourceValidationPolicy(name=p.name, description=f"{p.control} ({p.clause}) {p.description}",
                                    validate=validate, enforcement_level=EnforcementLevel.MANDATORY,
                                    framework=_framework(p), tags=[p.control])


def _stack_policy(p: Policy) -> Any:
    from pulumi_policy import EnforcementLevel, StackValidationPolicy

    def validate(args: Any, report_violation: Any) -> None:
        subjects = [Subject(r.resource_type, r.name, r.urn, dict(r.props)) for r in args.resources]
        for subject, message in p.check(subjects):
            report_violation(f"[{p.control}] {subject.label}: {message}", subject.urn)

    return StackValidationPolicy(name=p.name, description=f"{p.control} ({p.clause}) {p.description}",
                                 validate=validate, enforcement_level=EnforcementLevel.MANDATORY,
                                 framework=_framework(p), tags=[p.control])


def pulumi_policies() -> list[Any]:
    """The pulumi_policy objects, one per policy of :data:`POLICIES`."""
    return [_resource_policy(p) if p.scope == "resource" else _stack_policy(p) for p in POLICIES]


def serve() -> None:
    """Start the policy pack (the Pulumi CLI runs this as the pack's program)."""
    from pulumi_policy import EnforcementLevel, PolicyPack

    PolicyPack(name=PACK_NAME, policies=pulumi_policies(), enforcement_level=EnforcementLevel.MANDATORY,
               description="等保2.0 level-3 controls for the egovops stacks (egovops/stacks/policies.py)")
