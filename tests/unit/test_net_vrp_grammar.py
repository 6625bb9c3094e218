"""An independent syntax check of the Huawei VRP side: a TextFSM grammar of VRP's configuration views
(tests/fixtures/net/huawei_vrp.textfsm, written from the VRP command reference) that every rendered
configuration, every golden file and every command a VRP push sends must satisfy.

Why: the golden files are produced by the code under test, and the diff's VRP dialect was checked
only by an interpreter built on the same parser. TextFSM is a kept third-party parser; the grammar
does not import anything of egovops, and its Error rules name the first line that is no VRP command
of the view it is in.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

import pytest
import textfsm

from egovops.model import load_inventory
from egovops.network import confdiff as cd
from egovops.network.render import render_intent
from egovops.render.intents import intent

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
GRAMMAR = REPO / "tests" / "fixtures" / "net" / "huawei_vrp.textfsm"
GOLDEN = sorted((REPO / "tests" / "fixtures" / "net" / "huawei_vrp").glob("*.cfg"))
VIEW_HEADERS = ("interface ", "acl ", "aaa", "ospf ", "ospfv3 ", "bgp ", "route-policy ", "user-interface ", "bfd")


def check(text: str) -> str:
    """Parse ``text`` with the grammar; return the sysname. Raises textfsm.TextFSMError naming the line."""
    fsm = textfsm.TextFSM(io.StringIO(GRAMMAR.read_text(encoding="utf-8")))
    rows = fsm.ParseText(text)
    assert len(rows) == 1, f"one configuration expected, got {rows}"
    assert text.rstrip().endswith("\nreturn"), "a configuration ends with 'return'"
    return str(rows[0][0])


@lru_cache(maxsize=2)
def rendered(inv: str) -> dict[str, str]:
    p = load_inventory(REPO / "inventories" / inv)
    return {r.name: render_intent(intent(p, r), "huawei_vrp") for r in p.routers if r.is_ours}


@pytest.mark.parametrize("inv", ["anhui", "lab"])
def test_every_rendered_vrp_configuration_is_vrp(inv):
    configs = rendered(inv)
    assert len(configs) > 100  # 17 core + county routers
    for name, text in configs.items():
        assert check(text) == name


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_golden_files_are_vrp(path):
    assert check(path.read_text(encoding="utf-8")) == path.stem


BREAKS = {
    "cost out of range": (" ospf cost 10\n", " ospf cost 0\n"),
    "mask not contiguous": ("255.255.255.254\n", "255.255.253.254\n"),
    "prefix with a space": ("/127\n", " 127\n"),
    "wildcard not contiguous": ("0.0.15.255", "0.0.16.255"),
    "interface command at top level": ("#\ninterface LoopBack0\n", "#\n ospf cost 10\ninterface LoopBack0\n"),
    "FRR syntax": (" ospf timer hello 1\n", " ip ospf hello-interval 1\n"),
    "unknown family": (" ipv4-family unicast\n", " ipv4-family multicast\n"),
    "view not closed": ("#\nospfv3 1\n", "ospfv3 1\n"),
}


@pytest.mark.parametrize("what", BREAKS)
def test_the_grammar_rejects_what_vrp_would(what):
    old, new = BREAKS[what]
    text = rendered("lab")["chuzhou-rt"] if what != "unknown family" else rendered("lab")["province-rt"]
    assert old in text, what
    with pytest.raises(textfsm.TextFSMError, match="Input Line"):
        check(text.replace(old, new, 1))


def session_lines(cmds: list[str], running: str) -> list[str]:
    """The commands a VRP push sends, as configuration lines of their view ('quit' closes a view), each
    ``undo X`` checked against the running configuration: X starts a line of that view there."""
    views: dict[str, list[str]] = {"": []}
    cur = ""
    for line in running.splitlines():
        if line and not line.startswith(" ") and line.startswith(VIEW_HEADERS):
            cur = line
            views.setdefault(cur, [])
        elif line == "#":
            cur = ""
        else:
            views.setdefault(cur, []).append(line.strip())
    out: list[str] = []
    view = ""
    for c in cmds:
        if c == "quit":
            assert view, "quit outside a view"
            out.append("#")
            view = ""
        elif c.startswith("undo "):
            target = c[len("undo ") :]
            assert any(ln.startswith(target) for ln in views.get(view, [])), f"{c!r}: nothing to undo in {view!r}"
        elif not view and c.startswith(VIEW_HEADERS):
            view = c
            out += ["#", c]
        else:
            out.append((" " if view else "") + c)
    return ["sysname x", *out, "#", "return"]


def test_the_commands_of_a_vrp_push_are_vrp():
    want = rendered("lab")["chuzhou-rt"]
    running = want.replace(
        " ospf enable 1 area 0.0.0.0\n ospfv3 1 area 0.0.0.0\n ospfv3 network-type p2p",
        " ospf enable 1 area 0.0.0.10\n ospfv3 1 area 0.0.0.0\n ospfv3 network-type p2p",
        1,
    )
    running = running.replace(" ospf cost 20\n", " ospf cost 25\n", 1).replace("sysname chuzhou-rt", "sysname old")
    cmds = cd.commands(cd.diff(running, want, cd.VRP), want, cd.VRP)
    assert any(c.startswith("undo ") for c in cmds) and "quit" in cmds
    check("\n".join(session_lines(cmds, running)) + "\n")


def test_a_push_command_in_frr_syntax_would_be_caught():
    with pytest.raises(textfsm.TextFSMError, match="ip ospf cost 10"):
        check("\n".join(session_lines(["interface GigabitEthernet0/0/1", "ip ospf cost 10", "quit"], "")) + "\n")


def test_the_grammar_file_is_what_its_generator_writes():
    """scripts/vrp_grammar.py defines the argument tokens once; the committed grammar must be its output."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("vrp_grammar", REPO / "scripts" / "vrp_grammar.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert GRAMMAR.read_text(encoding="utf-8") == mod.grammar(), "run: python scripts/vrp_grammar.py"
