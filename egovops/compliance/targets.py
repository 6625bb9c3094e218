"""The hosts `comply` checks (the same selection `harden` applies to) and the baseline's parameters.

The selection itself lives on the apply side (:mod:`egovops.harden.targets`); the check side
imports it from there, never the other way round.
"""

from __future__ import annotations

from typing import Any

import yaml

from egovops.harden.targets import REPO, Selection, Target, select

__all__ = ["REPO", "ROLE_DEFAULTS", "Selection", "Target", "role_params", "select"]

ROLE_DEFAULTS = REPO / "roles" / "baseline" / "defaults" / "main.yml"


def role_params() -> dict[str, Any]:
    """The baseline role's parameters: its defaults file is the one source of thresholds and lists."""
    data: dict[str, Any] = yaml.safe_load(ROLE_DEFAULTS.read_text(encoding="utf-8"))
    return data
