"""Run a stack program under Pulumi's mock runtime and record what it would register.

This is Pulumi's documented way to test programs without the engine (``pulumi.runtime.set_mocks``):
the program runs for real, every resource registration goes to :class:`EgovMocks` instead of a
provider. Nothing is created anywhere. Helm charts are rendered by the Helm library when
pulumi-kubernetes asks for ``kubernetes:helm:template``; any other invoke fails loudly rather than
returning invented data.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks as pmocks
from pulumi.runtime import rpc, settings
from pulumi.runtime.stack import run_pulumi_func

from egovops.stacks import PROJECT, helm
from egovops.stacks.config import StackConfig, to_pulumi_config


@dataclass
class Recorded:
    """One registered resource as the engine would see it (inputs in wire format, camelCase)."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    props: dict[str, Any]
    outputs: dict[str, Any] = field(default_factory=dict)
    #: the provider reference ``<provider urn>::<id>`` the engine was asked to use ("" = the default one)
    provider: str = ""

    @property
    def is_kubernetes(self) -> bool:
        """A Kubernetes object (not a component, not the Helm chart wrapper)."""
        return self.custom and self.type.startswith("kubernetes:") and "apiVersion" in self.props

    def manifest(self) -> dict[str, Any]:
        """The object as a Kubernetes manifest (what kubectl would send).

        Pulumi's wire format carries every number as a double; integral ones become ints again,
        as the Kubernetes provider does before it talks to the API server.
        """
        return {k: v for k, v in self.props.items() if not k.startswith("__")}


def _ints(v: Any) -> Any:
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, dict):
        return {k: _ints(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_ints(x) for x in v]
    return v


class EgovMocks(pulumi.runtime.Mocks):
    """Outputs mirror inputs (plus an id); ``kubernetes:helm:template`` renders with Helm."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        if args.token == "kubernetes:helm:template":
            return {"result": helm.template(json.loads(args.args["jsonOpts"]))}, []
        raise NotImplementedError(f"the offline preview cannot answer invoke {args.token!r}")


class RecordingMonitor(pmocks.MockMonitor):
    """MockMonitor that also keeps each resource's parent, custom flag, inputs and outputs."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.recorded: dict[str, Recorded] = {}

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        resp = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            reg = self.resources[resp.urn]
            props = _ints({k: v for k, v in reg.state.items() if k != "__provider"})
            self.recorded[resp.urn] = Recorded(resp.urn, request.type, request.name, request.parent,
                                               bool(request.custom), props, provider=request.provider)
        return resp

    def RegisterResourceOutputs(self, request):  # noqa: N802
        rec = self.recorded.get(request.urn)
        # only our components' outputs (plain values); the Helm chart's hold resource references
        if rec is not None and rec.type.startswith("egovops:") and request.outputs:
            rec.outputs = rpc.deserialize_properties(request.outputs)
        return super().RegisterResourceOutputs(request)


def run(stack: str, rendered_config: dict[str, Any], program: Callable[[StackConfig], None],
        cfg: StackConfig) -> list[Recorded]:
    """Run ``program(cfg)`` as stack ``stack`` under mocks; return every registered resource.

    ``rendered_config`` is also installed as the runtime config, so code reading ``pulumi.Config``
    sees the same values as under the CLI.
    """
    monitor = RecordingMonitor(EgovMocks())
    settings.ROOT.set(None)  # a fresh root Stack per run (set_mocks creates it)
    pulumi.runtime.set_mocks(monitor.mocks, project=PROJECT, stack=stack, preview=True, monitor=monitor)
    pulumi.runtime.set_all_config(to_pulumi_config(rendered_config))
    settings.SETTINGS.rpc_manager.clear()
    settings.SETTINGS.outputs.clear()
    pmocks._sync_await(run_pulumi_func(lambda: program(cfg)))
    return list(monitor.recorded.values())
