"""The control catalogue (catalogue.yaml): loaded, validated and shared by every consumer.

Why one loader: the role's booleans and tags, the checks, waivers, reports and metrics must agree
on ids, titles and families. Each of them asks this module instead of keeping its own list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

CATALOGUE_FILE = Path(__file__).with_name("catalogue.yaml")
ID_RE = re.compile(r"^L3-CES(?P<k>\d{1,2})-(?P<nn>\d{2})$")
ROLE = "baseline"


class CatalogueError(ValueError):
    """The catalogue is inconsistent (a bug in the repository, reported with the control id)."""


@dataclass(frozen=True)
class Family:
    slug: str
    zh: str
    en: str
    clause: str


@dataclass(frozen=True)
class Control:
    id: str
    family: Family
    clause: str
    title_zh: str
    title_en: str
    rationale: str
    checked_by: str
    disruptive: bool
    enforced_tag: str | None
    enforced_role: str | None
    remediation: str = ""
    related: tuple[str, ...] = field(default_factory=tuple)

    @property
    def snake(self) -> str:
        """``L3-CES1-03`` -> ``l3_ces1_03`` (the role boolean's suffix)."""
        return self.id.lower().replace("-", "_")

    @property
    def variable(self) -> str:
        """The role boolean that switches this control on or off: ``baseline_l3_ces1_03``."""
        return f"{ROLE}_{self.snake}"

    @property
    def check_module(self) -> str:
        return self.checked_by.partition(":")[0]

    @property
    def check_function(self) -> str:
        return self.checked_by.partition(":")[2]


@dataclass(frozen=True)
class Catalogue:
    families: dict[str, Family]
    controls: tuple[Control, ...]

    def get(self, control_id: str) -> Control:
        for c in self.controls:
            if c.id == control_id:
                return c
        raise KeyError(control_id)

    @property
    def ids(self) -> list[str]:
        return [c.id for c in self.controls]


def parse(data: dict) -> Catalogue:
    """Build and validate a catalogue from its YAML data; every problem is reported at once."""
    problems: list[str] = []
    fams = {slug: Family(slug, f["zh"], f["en"], str(f["clause"])) for slug, f in data["families"].items()}
    controls: list[Control] = []
    seen: set[str] = set()
    for raw in data["controls"]:
        cid = raw.get("id", "?")
        m = ID_RE.match(cid)
        if not m:
            problems.append(f"{cid}: id does not match L3-CES<k>-<nn>")
            continue
        if cid in seen:
            problems.append(f"{cid}: duplicate id")
        seen.add(cid)
        fam = fams.get(raw.get("family", ""))
        if fam is None:
            problems.append(f"{cid}: unknown family {raw.get('family')!r}")
            continue
        if fam.clause != f"8.1.4.{m['k']}":
            problems.append(f"{cid}: family {fam.slug} is clause {fam.clause}, the id says 8.1.4.{m['k']}")
        clause = str(raw.get("clause", ""))
        if not clause.startswith(fam.clause + " "):
            problems.append(f"{cid}: clause {clause!r} is not an item of {fam.clause}")
        for key in ("title_zh", "title_en", "rationale", "checked_by"):
            if not raw.get(key):
                problems.append(f"{cid}: {key} missing")
        if ":" not in str(raw.get("checked_by", "")):
            problems.append(f"{cid}: checked_by must be '<module>:<function>'")
        enf = raw.get("enforced_by")
        if enf is None and not raw.get("remediation"):
            problems.append(f"{cid}: a check-only control (enforced_by: null) needs a remediation text")
        if enf is not None and enf.get("tag") != cid:
            problems.append(f"{cid}: enforced_by.tag must be the control id")
        controls.append(Control(
            id=cid, family=fam, clause=clause, title_zh=raw.get("title_zh", ""), title_en=raw.get("title_en", ""),
            rationale=raw.get("rationale", ""), checked_by=raw.get("checked_by", ""),
            disruptive=bool(raw.get("disruptive", False)),
            enforced_tag=enf.get("tag") if enf else None, enforced_role=enf.get("role") if enf else None,
            remediation=raw.get("remediation", ""), related=tuple(raw.get("related", []) or []),
        ))
    if problems:
        raise CatalogueError("; ".join(problems))
    return Catalogue(fams, tuple(controls))


@cache
def load(path: Path = CATALOGUE_FILE) -> Catalogue:
    return parse(yaml.safe_load(Path(path).read_text(encoding="utf-8")))
