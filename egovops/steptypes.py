"""The types every deploy step speaks: what it is given (:class:`DeployContext`) and what it returns
(:class:`StepResult`).

Why a module of their own: the step modules (``egovops/<capability>/step.py``) are loaded by the
orchestrator (:mod:`egovops.deploy`) by name; importing their types from the orchestrator made every
capability depend on it. Both now depend on this module only. ``egovops.deploy`` re-exports the names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from egovops.model.province import Province

Status = Literal["ok", "changed", "failed", "skipped"]


@dataclass
class StepResult:
    status: Status
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class DeployContext:
    inventory: str
    out: Path
    province: Province | None = None
    options: dict[str, Any] = field(default_factory=dict)
    log: Callable[[str], None] = print
