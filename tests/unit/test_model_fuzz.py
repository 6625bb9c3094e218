"""Random damage to a valid inventory never crashes the loader.

Why: the loader's contract is "a Province, or InventoryError listing every problem with its place
and a hint". A traceback instead of a problem list leaves an engineer guessing, and a crash in
validation would also take `egovops deploy` down. Hypothesis replaces or deletes random values
across all eight files and checks that contract.
"""

from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from egovops.model import InventoryError, Province, load_inventory, schema

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
ODD_VALUES = [None, -1, 0, 1, 31, 127, 65536, 1.5, True, "", "x", "a b", "hefei", "province", "hefei-rt",
              "zone:", "service:", "10.0.0.0/8", "fd00::1/64", "1Gbps", "15m", "* * * * *", [], {}, ["hefei"],
              {"x": 1}, "latest"]


@lru_cache(maxsize=1)
def lab_data() -> dict[str, Any]:
    """The flattened lab inventory as plain data, one entry per file."""
    out = {}
    for fname in schema.FILES:
        src = REPO / "inventories" / "lab" / fname
        if not src.is_file():
            src = REPO / "inventories" / "anhui" / fname
        out[fname] = yaml.safe_load(src.read_text(encoding="utf-8"))
    out["inventory.yaml"].pop("base")
    return out


def _paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(data, dict):
        for k, v in data.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data[:3]):  # a few items of each list are enough
            out += _paths(v, prefix + (i,))
    return out


@lru_cache(maxsize=1)
def all_paths() -> list[tuple]:
    return [(fname, *p) for fname, d in lab_data().items() for p in _paths(d)]


def damaged(edits: list[tuple[tuple, Any, bool]]) -> dict[str, Any]:
    data = yaml.safe_load(yaml.safe_dump(lab_data()))  # deep copy
    for (fname, *keys), value, delete in edits:
        parent = data[fname]
        for k in keys[:-1]:
            parent = parent[k]
        if delete:
            del parent[keys[-1]]
        else:
            parent[keys[-1]] = value
    return data


edit = st.tuples(st.sampled_from(all_paths()), st.sampled_from(ODD_VALUES), st.booleans())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(edit, min_size=1, max_size=3))
def test_damage_gives_problems_never_a_crash(edits: list) -> None:
    try:
        data = damaged(edits)
    except (KeyError, IndexError, TypeError):
        data = None  # an earlier edit removed or replaced the container of a later one
    assume(data is not None)  # tell Hypothesis: not an example, draw another (a bare return counted it)
    assert data is not None
    with tempfile.TemporaryDirectory() as tmp:
        inv = Path(tmp)
        for fname, content in data.items():
            (inv / fname).write_text(yaml.safe_dump(content, allow_unicode=True), encoding="utf-8")
        try:
            p = load_inventory(inv)
        except InventoryError as exc:
            assert exc.problems
            for prob in exc.problems:
                assert prob.hint.strip(), str(prob)
                assert Path(prob.file).name in schema.FILES or prob.kind == "missing-file", str(prob)
        else:
            assert isinstance(p, Province)
