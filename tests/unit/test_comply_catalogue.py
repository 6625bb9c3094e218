"""The control catalogue: complete, consistent, every check resolvable."""

from __future__ import annotations

import copy

import pytest
import yaml

from egovops.compliance.catalogue import CATALOGUE_FILE, CatalogueError, load, parse
from egovops.compliance.checks import resolve

pytestmark = pytest.mark.unit


def raw() -> dict:
    return yaml.safe_load(CATALOGUE_FILE.read_text(encoding="utf-8"))


def test_all_eleven_control_points_of_8_1_4_are_covered():
    cat = load()
    assert sorted(f.clause for f in cat.families.values()) == sorted(f"8.1.4.{k}" for k in range(1, 12))
    assert {c.family.slug for c in cat.controls} == set(cat.families)


def test_ids_unique_map_to_their_clause_and_have_bilingual_titles():
    cat = load()
    assert len(set(cat.ids)) == len(cat.ids) >= 25
    for c in cat.controls:
        k = c.id.split("-")[1][3:]
        assert c.family.clause == f"8.1.4.{k}"
        assert c.clause.startswith(c.family.clause + " ")
        assert any("\u4e00" <= ch <= "\u9fff" for ch in c.title_zh), c.id
        assert c.title_en.isascii(), c.id


def test_every_control_names_an_existing_check():
    for c in load().controls:
        assert callable(resolve(c))


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["controls"][0].update(id="L3-CES2-99"), "family identification_authentication is clause 8.1.4.1"),
    (lambda d: d["controls"].append(copy.deepcopy(d["controls"][0])), "duplicate id"),
    (lambda d: d["controls"][0].update(checked_by="nocolon"), "checked_by must be"),
    (lambda d: d["controls"][0].update(enforced_by=None), "needs a remediation text"),
    (lambda d: d["controls"][0].update(family="nope"), "unknown family"),
])
def test_inconsistent_catalogue_is_rejected_naming_the_control(mutate, message):
    d = raw()
    mutate(d)
    with pytest.raises(CatalogueError, match=message):
        parse(d)
