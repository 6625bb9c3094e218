"""Which waivers a compliance run applies: one choice for ``egovops comply`` and the deploy step.

Why one place: the two used to choose apart. The deploy step applied the lab waivers on a lab
inventory (what a container host cannot offer, each reasoned, approved and dated), ``egovops
comply`` applied none, so the lab that passed in ``make deploy`` failed with 42 error rows when an
auditor re-ran ``egovops comply`` on it. The rule now: the file given (``--waivers``), else the lab
waivers on a lab inventory, else none; plus each industry cloud's own file, valid only for its own
devices (:mod:`egovops.compliance.industry`). The file applied is named in every summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from egovops.compliance import industry
from egovops.compliance.catalogue import Catalogue
from egovops.compliance.waivers import Waiver, WaiverError, load
from egovops.model.province import Province

LAB_WAIVERS = Path(__file__).with_name("waivers") / "lab.yaml"


@dataclass(frozen=True)
class WaiverSet:
    waivers: list[Waiver]
    file: Path | None  # the estate-wide file applied (given, or the lab's)
    cloud_files: list[Path] = field(default_factory=list)  # industry clouds' own files read


def for_run(province: Province, catalogue: Catalogue, given: Path | str | None = None) -> WaiverSet:
    """The waivers of one run; raises :class:`WaiverError` with every problem of every file (then
    nothing is checked: a broken waiver file is bad input, never silently "no waivers")."""
    path = Path(given) if given else (LAB_WAIVERS if province.meta.environment == "lab" else None)
    problems: list[str] = []
    waivers: list[Waiver] = []
    if path is not None:
        try:
            waivers = load(path, catalogue)
        except WaiverError as exc:
            problems += exc.problems
    cloud_waivers: list[Waiver] = []
    cloud_files: list[Path] = []
    try:
        cloud_waivers, cloud_files = industry.load_all(province, catalogue)
    except WaiverError as exc:
        problems += exc.problems
    if problems:
        raise WaiverError(problems)
    return WaiverSet(waivers + cloud_waivers, path, cloud_files)
