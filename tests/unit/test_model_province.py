"""The resolved Province: lookups, links of a device, DR and services, and --limit selection.

Why: every capability reads the province through these few methods (CONTRIBUTING); `--limit`
decides which real devices a push touches, so its selection rules must be exact.
"""

from __future__ import annotations

import pytest

from egovops.model import Province
from egovops.model.province import device_tags, matches

pytestmark = pytest.mark.unit


def test_lookups(lab_province: Province) -> None:
    p = lab_province
    assert p.node("hefei").kind == "city" and p.node("hefei").router == "hefei-rt"
    assert p.node("dr-local").router == "province-rt" and p.node("dr-local").city == "hefei"
    assert p.router("chuzhou-fengyang-rt").role == "county" and p.router("chuzhou-fengyang-rt").city == "chuzhou"
    with pytest.raises(KeyError, match="no router named 'nope-rt'"):
        p.router("nope-rt")
    with pytest.raises(KeyError, match="no node named"):
        p.node("nope")


def test_links_of_a_county_router(lab_province: Province) -> None:
    """A county router has one uplink per city_county plane, to its city router, in the city's area."""
    p = lab_province
    links = p.links_of("chuzhou-fengyang-rt")
    assert sorted(line.plane for line, _, _ in links) == sorted(p.segments.city_county.planes)
    for link, local, remote in links:
        assert local.device == "chuzhou-fengyang-rt" and remote.device == "chuzhou-rt"
        assert link.area == p.node("chuzhou").id and link.kind == "county"
        assert local.address.ipv4.network == remote.address.ipv4.network


def test_dr_and_services(lab_province: Province) -> None:
    p = lab_province
    pairs = [r for r in p.replications if r.kind == "cooperation"]
    assert sorted(c for r in pairs for c in (r.source, r.target)) == sorted(c.slug for c in p.cities)
    by_slug = {s.slug: s for s in p.services}
    assert by_slug["identity"].nodes == ("province", *[c.slug for c in sorted(p.cities, key=lambda n: n.id)])
    assert by_slug["payment"].nodes == ("province",)
    assert "province" not in by_slug["bigdata-sub"].nodes and len(by_slug["bigdata-sub"].nodes) == 16
    assert by_slug["identity"].standby == ("dr-local",)  # same-city system tier keeps a warm standby
    assert by_slug["portal"].standby == ()                # data tier: remote data backup only


@pytest.mark.parametrize("name,limit,expected", [
    ("chuzhou-fengyang-rt", None, True),
    ("chuzhou-fengyang-rt", "city:chuzhou", True),
    ("chuzhou-fengyang-rt", "role:county", True),
    ("chuzhou-fengyang-rt", "city:hefei", False),
    ("chuzhou-fengyang-rt", "chuzhou-*", True),
    ("chuzhou-fengyang-rt", "city:chuzhou,!chuzhou-fengyang-rt", False),
    ("chuzhou-rt", "city:chuzhou,!role:county", True),
    ("hefei-rt", "!hefei-rt", False),
    ("wuhu-rt", "!hefei-rt", True),
    ("dr-remote", "kind:dr", True),
    ("hefei", "kind:dr", False),
    ("hefei", "type:host", True),
    ("hefei-rt", "type:host", False),
    ("province-rt", "role:core", True),
])
def test_limit_selection(lab_province: Province, name: str, limit: str | None, expected: bool) -> None:
    assert matches(lab_province, name, limit) is expected, sorted(device_tags(lab_province, name))
