"""The main job: a pipeline of named steps, in the order the province is built.

Each capability contributes one step function ``run(ctx) -> StepResult`` in its own module and
registers it in :data:`STEPS` below (one line). The order is fixed by the flow of the project:
inventory -> artefacts -> lab -> network -> hardening -> monitoring -> DR -> stacks -> compliance.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from egovops.model.load import load_inventory
from egovops.model.problems import InventoryError

# the step types, re-exported for step modules that still import them from here (new ones: egovops.steptypes)
from egovops.steptypes import DeployContext as DeployContext
from egovops.steptypes import Status as Status
from egovops.steptypes import StepResult as StepResult

# step name -> "module:function". Later capabilities add their line here, in this order:
# validate, render, lab-up, net-push, net-verify, harden, monitoring, dr, stacks-preview, comply, net-flows.
STEPS: dict[str, str] = {
    "validate": "egovops.steps:validate",
    "render": "egovops.steps:render",
    "lab-up": "egovops.lab.step:run",
    "net-push": "egovops.network.step:push",
    "net-verify": "egovops.network.step:verify",
    "harden": "egovops.harden.step:run",
    "monitoring": "egovops.monitor.step:run",
    "dr": "egovops.dr.step:run",
    "stacks-preview": "egovops.stacks.step:run",
    "comply": "egovops.compliance.steps:comply",
    "net-flows": "egovops.network.flows_step:run",
}


# Steps know their target: these act on the lab itself and are skipped on a production inventory.
LAB_ONLY: set[str] = {"lab-up", "net-flows"}

# The production plan: step name -> read-only "module:function" showing what the step would change.
# ``deploy`` runs these (and shows them) before it applies anything to a production inventory.
PLANS: dict[str, str] = {
    "net-push": "egovops.network.step:plan",
    "harden": "egovops.deploy_plan:harden",
    "stacks-preview": "egovops.deploy_plan:stacks",
}


def step_function(name: str) -> Callable[[DeployContext], StepResult]:
    module, _, fn = STEPS[name].partition(":")
    return getattr(importlib.import_module(module), fn)


@dataclass
class StepRecord:
    name: str
    status: Status
    seconds: float
    summary: str
    details: dict[str, Any]
    bad_input: bool = False  # failed on the inventory itself (exit 2), not on a check


def run_pipeline(ctx: DeployContext, skip: set[str], on_start: Callable[[str, int, int], None],
                 on_done: Callable[[StepRecord], None]) -> list[StepRecord]:
    """Run every step not skipped, in order; stop at the first failure (later steps are reported skipped)."""
    records: list[StepRecord] = []
    failed = False
    names = list(STEPS)
    for i, name in enumerate(names, start=1):
        if failed or name in skip:
            rec = StepRecord(name, "skipped", 0.0, "after a failed step" if failed else "--skip", {})
        elif name in LAB_ONLY and ctx.province is not None and ctx.province.meta.environment != "lab":
            rec = StepRecord(name, "skipped", 0.0, "lab step; the inventory is production", {})
        else:
            on_start(name, i, len(names))
            t0 = time.monotonic()
            bad_input = False
            try:
                if ctx.province is None and name != "validate":
                    # validate was skipped: every later step still needs the model
                    ctx.province = load_inventory(ctx.inventory)
                res = step_function(name)(ctx)
            except InventoryError as exc:
                bad_input = True
                res = StepResult("failed", f"{len(exc.problems)} problem(s) in {ctx.inventory}",
                                 {"problems": [str(p) for p in exc.problems]})
            except Exception as exc:  # a step's crash is reported as its failure, never as success
                res = StepResult("failed", f"{type(exc).__name__}: {exc}")
            rec = StepRecord(name, res.status, round(time.monotonic() - t0, 2), res.summary, res.details,
                             bad_input or bool(res.details.get("bad_input")))
            failed = res.status == "failed"
        records.append(rec)
        on_done(rec)
    return records


def plan_function(name: str) -> Callable[[DeployContext], StepResult]:
    module, _, fn = PLANS[name].partition(":")
    return getattr(importlib.import_module(module), fn)


def run_plan(ctx: DeployContext, skip: set[str], on_start: Callable[[str, int, int], None],
             on_done: Callable[[StepRecord], None]) -> list[StepRecord]:
    """Run the read-only plan of every step that has one (and is not skipped); change nothing.

    Unlike :func:`run_pipeline` a failed plan part does not stop the others: the plan shows
    everything that is known before anyone approves. The inventory must load (else InventoryError).
    """
    if ctx.province is None:
        ctx.province = load_inventory(ctx.inventory)
    names = [n for n in STEPS if n in PLANS and n not in skip]
    records: list[StepRecord] = []
    for i, name in enumerate(names, start=1):
        on_start(f"plan {name}", i, len(names))
        t0 = time.monotonic()
        try:
            res = plan_function(name)(ctx)
        except Exception as exc:  # a plan that crashed is a failed plan, never an empty one
            res = StepResult("failed", f"{type(exc).__name__}: {exc}")
        rec = StepRecord(f"plan {name}", res.status, round(time.monotonic() - t0, 2), res.summary, res.details,
                         bool(res.details.get("bad_input")))
        records.append(rec)
        on_done(rec)
    return records
