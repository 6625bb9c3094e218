"""Validation problems: each names its place (file, key path, line) and how to fix it.

Loading collects every problem before reporting, so one run shows an engineer everything that is
wrong with an inventory instead of one error per attempt.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    path: str
    message: str
    hint: str = ""
    line: int | None = None
    kind: str = "invalid"

    def where(self) -> str:
        loc = self.file
        if self.line is not None:
            loc += f":{self.line}"
        if self.path:
            loc += f" {self.path}"
        return loc

    def __str__(self) -> str:
        text = f"{self.where()}: {self.message}"
        if self.hint:
            text += f" (hint: {self.hint})"
        return text

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class InventoryError(Exception):
    """Raised with every problem found; nothing downstream runs on an invalid inventory."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems), key=lambda p: (p.file, p.line or 0, p.path, p.message))
        super().__init__(f"{len(self.problems)} problem(s) in the inventory")
