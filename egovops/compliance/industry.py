"""Industry clouds' own waivers: one file per cloud, beside the inventory that lists the cloud.

Why per cloud: an industry cloud is run by its department, which answers for its exceptions; its
waivers are approved and expire on its own schedule and must never reach a provincial or city
host. Layout (derived from the inventory, never configured)::

    inventories/<inventory>/waivers/<cloud slug>.yaml     # the waivers format of egovops.compliance.waivers

A cloud without a file has no waivers (every control must pass). Each file is validated like an
inventory file (file:line, every problem at once) and its ``hosts`` globs must cover only the
cloud's own host and router; a file named for no industry cloud of the inventory is an error (a
misspelt slug would otherwise silently waive nothing).
"""

from __future__ import annotations

from pathlib import Path

from egovops.compliance.catalogue import Catalogue
from egovops.compliance.waivers import Scope, Waiver, WaiverError, load
from egovops.model.province import IndustryCloud, Province

FOLDER = "waivers"
SUFFIX = ".yaml"


def waivers_dir(province: Province) -> Path:
    return Path(province.source) / FOLDER


def waivers_path(province: Province, cloud: IndustryCloud) -> Path:
    """Where cloud ``cloud``'s waivers live: ``<inventory>/waivers/<slug>.yaml``."""
    return waivers_dir(province) / f"{cloud.slug}{SUFFIX}"


def device_names(province: Province) -> set[str]:
    """Every host and router name of the inventory (nodes, routers, industry clouds' hosts and routers)."""
    names = {n.slug for n in province.nodes} | {r.name for r in province.routers}
    return names | {c.slug for c in province.industry} | {c.router.name for c in province.industry}


def scope(province: Province, cloud: IndustryCloud) -> Scope:
    own = frozenset({cloud.slug, cloud.router.name})
    return Scope(f"industry cloud {cloud.slug}", own, frozenset(device_names(province) - own))


def load_all(province: Province, catalogue: Catalogue) -> tuple[list[Waiver], list[Path]]:
    """The waivers of every industry cloud that has a file, and the files read.

    Raises :class:`WaiverError` with every problem of every file (nothing is checked then).
    """
    folder = waivers_dir(province)
    clouds = {c.slug: c for c in province.industry}
    problems: list[str] = []
    if folder.is_dir():
        for f in sorted(folder.iterdir()):
            if f.suffix in (".yaml", ".yml") and (f.suffix != SUFFIX or f.stem not in clouds):
                problems.append(f"{f}: names no industry cloud of inventory {province.meta.name} "
                                f"(one file per cloud: {FOLDER}/<cloud>{SUFFIX}; clouds: {', '.join(sorted(clouds))})")
    out: list[Waiver] = []
    files: list[Path] = []
    for c in province.industry:
        path = waivers_path(province, c)
        if not (path.exists() or path.is_symlink()):
            continue
        try:
            out += load(path, catalogue, scope(province, c))
            files.append(path)
        except WaiverError as exc:
            problems += exc.problems
    if problems:
        raise WaiverError(problems)
    return out, files
