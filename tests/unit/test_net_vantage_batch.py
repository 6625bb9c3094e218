"""The batch reachability probe: one fping where the vantage runs, its answer parsed once."""

from __future__ import annotations

import pytest

from egovops.network import vantage as V

pytestmark = pytest.mark.unit


def fake_fping(alive: list[str]) -> V.CommandVantage:
    """A vantage whose 'fping' prints the given addresses as alive (sh ignores the fping arguments)."""
    return V.CommandVantage("test", ["sh", "-c", "printf '%s\\n' " + " ".join(alive), "fake-fping"])


def test_every_address_is_judged_by_the_one_answer_parsed_once(monkeypatch):
    addrs = [f"198.18.0.{i}" for i in range(1, 101)] + [f"fd00:34:0:1::{i:x}" for i in range(1, 101)]
    alive = addrs[::3]
    calls = []
    real = V._addresses
    monkeypatch.setattr(V, "_addresses", lambda text: calls.append(1) or real(text))
    got = V.reach_many(fake_fping(alive), addrs)
    assert got == {a: a in set(alive) for a in addrs}
    assert len(calls) == 1          # per address it was 200 parses of the whole answer (quadratic)


def test_anything_but_an_address_in_the_answer_is_no_answer():
    v = V.CommandVantage("test", ["sh", "-c", "printf '198.18.0.1\\nICMP Host Unreachable from 198.18.0.9\\n'", "x"])
    assert V.reach_many(v, ["198.18.0.1", "198.18.0.9"]) == {"198.18.0.1": True, "198.18.0.9": False}
