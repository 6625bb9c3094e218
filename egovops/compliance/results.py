"""Scan results: one row per host and control, plus the summaries every report shares."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

STATUSES = ("pass", "fail", "waived", "error")


@dataclass
class Result:
    node: str
    city: str
    name_zh: str
    control: str
    family: str
    status: str               # pass | fail | waived | error
    evidence: str
    seconds: float = 0.0
    observed_status: str | None = None   # for waived rows: what the check found (fail/error)
    waiver: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Scan:
    inventory: str
    inventory_version: str
    generated: str            # ISO time, UTC
    seconds: float
    results: list[Result] = field(default_factory=list)
    unused_waivers: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""

    def nodes(self) -> list[str]:
        return sorted({r.node for r in self.results})

    def counts(self, node: str | None = None) -> dict[str, int]:
        c = {s: 0 for s in STATUSES}
        for r in self.results:
            if node is None or r.node == node:
                c[r.status] += 1
        return c

    def score(self, node: str | None = None) -> float:
        """Share of assessed controls that pass: waived controls are left out of both sides."""
        c = self.counts(node)
        assessed = c["pass"] + c["fail"] + c["error"]
        return round(c["pass"] / assessed, 4) if assessed else 1.0

    @property
    def failed(self) -> bool:
        return any(r.status in ("fail", "error") for r in self.results)

    def as_dict(self) -> dict[str, Any]:
        return {
            "inventory": self.inventory, "inventory_version": self.inventory_version, "generated": self.generated,
            "seconds": self.seconds, "note": self.note, "ok": not self.failed,
            "summary": {"counts": self.counts(), "score": self.score(),
                        "nodes": {n: {"counts": self.counts(n), "score": self.score(n)} for n in self.nodes()}},
            "results": [r.as_dict() for r in self.results],
            "unused_waivers": self.unused_waivers,
        }
