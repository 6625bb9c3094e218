"""The package import graph follows the flow (DESIGN.md): model → render → apply → check → observe.

Every import is read from the source (module level and inside functions alike: a lazy import is
still a dependency). A package may import from its own or a lower layer, never from a higher one,
and the graph of packages has no cycle. The deploy pipeline's adapters — ``egovops/<pkg>/step.py`` or
``steps.py``, loaded by name through ``egovops.deploy.STEPS`` — and the CLI sit on top: they chain
the service functions of every layer, as the ``deploy`` job and the ``egovops`` command do.
"""

from __future__ import annotations

import ast
import functools
from collections import defaultdict
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
PKG = REPO / "egovops"

TOP = 6
LAYERS: dict[str, int] = {
    "changelock": 0,  # the per-inventory change lock every apply step takes; imports nothing of egovops
    "model": 1,
    "steptypes": 1,  # what deploy steps take and return; imports the model's Province only
    "render": 2,
    # apply: the estate, routers, hosts, Pulumi stacks, DR set-up (siblings: only without cycles)
    "lab": 3,
    "network": 3,
    "harden": 3,
    "stacks": 3,
    "dr": 3,
    "compliance": 4,  # check
    "exporters": 5,  # observe
    "monitor": 5,
    "cli": TOP,
    "deploy": TOP,
    "deploy_plan": TOP,
    "steps": TOP,
}


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def is_adapter(module: str) -> bool:
    """A deploy step adapter or the CLI: the top of the flow."""
    parts = module.split(".")
    return len(parts) == 3 and parts[2] in ("step", "steps")


@functools.lru_cache(maxsize=4)
def imports(root: Path) -> dict[str, set[str]]:
    """module -> every egovops module it imports (relative imports resolved)."""
    out: dict[str, set[str]] = defaultdict(set)
    for f in sorted(root.rglob("*.py")):
        mod = module_name(f, root)
        pkg_parts = mod.split(".") if f.name == "__init__.py" else mod.split(".")[:-1]
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"), str(f))):
            if isinstance(node, ast.Import):
                out[mod].update(a.name for a in node.names if a.name.split(".")[0] == root.name)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = ".".join(pkg_parts[: len(pkg_parts) - node.level + 1])
                    target = f"{base}.{node.module}" if node.module else base
                else:
                    target = node.module or ""
                if target.split(".")[0] == root.name:
                    out[mod].add(target)
    return out


def layer(module: str) -> int | None:
    return TOP if is_adapter(module) else LAYERS.get(package_of(module))


def upward_edges(root: Path) -> dict[tuple[str, str], str]:
    """(module, imported package) -> 'layer a -> layer b' for every import reaching up the flow."""
    bad = {}
    for mod, targets in imports(root).items():
        src = layer(mod)
        for t in targets:
            dst = LAYERS.get(package_of(t))
            if src is not None and dst is not None and dst > src:
                bad[(mod, package_of(t))] = f"{mod} (layer {src}) imports {t} (layer {dst})"
    return bad


def package_cycles(root: Path) -> list[list[str]]:
    """Cycles among the packages below the top."""
    graph: dict[str, set[str]] = defaultdict(set)
    for mod, targets in imports(root).items():
        if is_adapter(mod) or layer(mod) == TOP:
            continue
        for t in targets:
            if package_of(t) != package_of(mod) and package_of(t) and package_of(mod):
                graph[package_of(mod)].add(package_of(t))
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(n: str, path: list[str]) -> None:
        state[n] = 1
        for m in sorted(graph[n]):
            if state.get(m) == 1:
                cycles.append(path[path.index(m) :] + [m] if m in path else [n, m])
            elif m not in state:
                visit(m, path + [m])
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n, [n])
    return cycles


def test_every_package_has_a_place_in_the_flow():
    tops = {
        p.stem if p.suffix == ".py" else p.name
        for p in PKG.iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()
    }
    assert sorted(tops - set(LAYERS)) == [], "new package: give it a layer in LAYERS (see DESIGN.md)"


def test_no_import_reaches_back_up_the_flow():
    """No exception list: the last three upward edges (render -> monitor, render -> dr, lab -> monitor)
    were paid off in issue 14 by moving the shared pieces down (render.monitor_settings, render.seaweed,
    lab.paths.controller_state_dir)."""
    bad = upward_edges(PKG)
    assert not bad, "\n".join(sorted(bad.values()))


def test_compliance_and_exporters_do_not_import_each_other():
    both = [
        m
        for m, ts in imports(PKG).items()
        if package_of(m) == "compliance" and not is_adapter(m) and any(package_of(t) == "exporters" for t in ts)
    ]
    assert both == []


def test_the_package_graph_has_no_cycle():
    assert package_cycles(PKG) == []


def test_the_checker_sees_a_lazy_upward_import_and_a_cycle(tmp_path: Path):
    """The checks above can fail: a planted package tree with a lazy check -> observe import."""
    root = tmp_path / "egovops"
    for d in ("compliance", "exporters", "lab", "network"):
        (root / d).mkdir(parents=True)
        (root / d / "__init__.py").write_text("")
    (root / "__init__.py").write_text("")
    (root / "compliance" / "report.py").write_text("def f():\n    from egovops.exporters import x\n")
    (root / "lab" / "a.py").write_text("from egovops.network import b\n")
    (root / "network" / "b.py").write_text("from ..lab import a\n")
    assert ("egovops.compliance.report", "exporters") in upward_edges(root)
    assert package_cycles(root) in (
        [["lab", "network", "lab"]],
        [["network", "lab", "network"]],
    )
