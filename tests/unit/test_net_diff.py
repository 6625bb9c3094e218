"""The hierarchy-aware diff: section-scoped changes, removals before additions, negation forms,
unmanaged sections left alone, and a round trip through a small CLI interpreter (the commands the
diff emits, applied in order, turn the running config into the intended one)."""

from __future__ import annotations

import re

import pytest

from egovops.model import load_inventory
from egovops.network import confdiff as cd
from egovops.network.render import render_intent
from egovops.render.intents import intent

pytestmark = pytest.mark.unit

RUNNING = """Building configuration...

Current configuration:
!
frr version 8.4.4
frr defaults traditional
hostname r1
service integrated-vtysh-config
username netops nopassword
!
interface mgmt0
 ip address 198.19.0.9/20
exit
!
interface up-d
 description old text
 ip address 198.18.84.1/31
 ip ospf area 0
 ip ospf cost 10
exit
!
router ospf
 ospf router-id 198.18.5.1
 redistribute connected
exit
!
router bgp 65034
 neighbor 198.18.64.0 remote-as 65000
 !
 address-family ipv4 unicast
  network 198.18.0.0/20
  neighbor 198.18.64.0 activate
 exit-address-family
exit
!
end
"""

INTENDED = """hostname r1
!
interface up-d
 description new text
 ip address 198.18.84.1/31
 ip ospf area 10
 ip ospf cost 10
exit
!
router ospf
 ospf router-id 198.18.5.1
exit
!
router bgp 65034
 neighbor 198.18.64.0 remote-as 65000
 !
 address-family ipv4 unicast
  network 198.18.0.0/20
  network 198.18.64.0/18
  neighbor 198.18.64.0 activate
 exit-address-family
exit
!
router ospf6
 ospf6 router-id 198.18.5.1
exit
"""


class FrrInterpreter:
    """A tiny stand-in for vtysh's config mode, strict where FRR is strict (re-setting an OSPF area)."""

    def __init__(self, text: str, dialect: cd.Dialect = cd.FRR) -> None:
        self.d = dialect
        self.tree = cd.parse(text, dialect)

    def run(self, commands: list[str]) -> None:
        stack = [self.tree]
        header = re.compile(self.d.header)
        exits = {"exit", "exit-address-family", "quit"}
        for c in commands:
            node = stack[-1]
            if c in exits:
                assert len(stack) > 1, f"exit at top level: {commands}"
                stack.pop()
            elif c.startswith(self.d.negate_prefix):
                body = c[len(self.d.negate_prefix):]
                hits = [k for k in node.children if k == body or k.startswith(body + " ")]
                if not hits:              # a negative setting, shown as such (no bgp default ipv4-unicast)
                    node.children[c] = cd.Node(c)
                for k in hits:
                    del node.children[k]
            elif header.match(c) or c.startswith(("interface ", "router ")):
                stack.append(node.children.setdefault(c, cd.Node(c, section=True)))
            elif c.startswith("exec-timeout "):          # a value setting; FRR does not show its default
                for k in [k for k in node.children if k.startswith("exec-timeout ")]:
                    del node.children[k]
                if c != "exec-timeout 10 0":
                    node.children[c] = cd.Node(c)
            else:
                node.children.pop(self.d.negate_prefix + c, None)   # "bgp default ..." undoes "no bgp default ..."
                if c.startswith("ip ospf area "):
                    assert not any(k.startswith("ip ospf area ") for k in node.children), \
                        "Must remove previous area config before changing ospf area"
                node.children[c] = cd.Node(c)
        assert len(stack) == 1, "commands must leave every section they enter"

    def text(self) -> str:
        out: list[str] = []

        def rec(n: cd.Node, depth: int) -> None:
            for line, child in n.children.items():
                out.append(" " * depth + line)
                rec(child, depth + 1)
        rec(self.tree, 0)
        return "\n".join(out) + "\n"


def test_changes_are_scoped_to_sections():
    d = cd.diff(RUNNING, INTENDED, cd.FRR)
    got = {(c.op, c.path, c.line, c.section) for c in d.changes}
    assert ("-", ("interface up-d",), "ip ospf area 0", False) in got
    assert ("+", ("interface up-d",), "ip ospf area 10", False) in got
    assert ("-", ("router ospf",), "redistribute connected", False) in got
    assert ("+", ("router bgp 65034", "address-family ipv4 unicast"), "network 198.18.64.0/18", False) in got
    assert ("+", (), "router ospf6", True) in got
    assert "interface mgmt0" in d.unmanaged                     # never removed: it is the way in
    assert not any("mgmt0" in c.line or "mgmt0" in " ".join(c.path) for c in d.changes)
    assert not any("username" in c.line or "hostname" in c.line for c in d.changes)
    assert cd.summary(d) == {"add": 4, "remove": 3}


def test_commands_remove_before_add_and_use_short_negations():
    d = cd.diff(RUNNING, INTENDED, cd.FRR)
    cmds = cd.commands(d, INTENDED, cd.FRR)
    i = cmds.index("interface up-d")
    block = cmds[i:cmds.index("exit", i) + 1]
    assert block.index("no ip ospf area 0") < block.index("ip ospf area 10")
    assert "no description" in block                          # FRR refuses "no description <text>"
    # a block new to the device is sent whole, header to exit, after the edits of existing blocks
    assert cmds[-3:] == ["router ospf6", "ospf6 router-id 198.18.5.1", "exit"]
    assert cmds.count("router ospf6") == 1
    j = cmds.index("address-family ipv4 unicast")
    assert cmds[j + 1] == "network 198.18.64.0/18" and cmds[j + 2] == "exit-address-family"


def test_round_trip_through_interpreter_and_idempotence():
    dev = FrrInterpreter(RUNNING)
    before = dev.text()
    dev.run(cd.commands(cd.diff(before, INTENDED, cd.FRR), INTENDED, cd.FRR))
    after = dev.text()
    assert cd.diff(after, INTENDED, cd.FRR).empty             # second diff: nothing to do
    assert "interface mgmt0" in after                         # untouched
    # and back again, exactly (rollback scope)
    back = cd.diff(after, before, cd.FRR, full=True)
    dev.run(cd.commands(back, before, cd.FRR))
    assert cd.equivalent(dev.text(), before, cd.FRR)


def test_equivalent_ignores_order_and_noise_but_not_content():
    shuffled = RUNNING.replace(" ip ospf area 0\n ip ospf cost 10\n", " ip ospf cost 10\n ip ospf area 0\n")
    assert cd.equivalent(RUNNING, shuffled, cd.FRR)
    assert not cd.equivalent(RUNNING, RUNNING.replace("ip ospf cost 10", "ip ospf cost 11"), cd.FRR)


@pytest.mark.parametrize("router", ["province-rt", "chuzhou-rt", "national-rt"])
def test_real_configs_from_empty_and_back(router):
    """From the lab's pristine FRR config to the rendered one and back, through the interpreter."""
    p = load_inventory("inventories/lab")
    want = render_intent(intent(p, p.router(router)), "frr")
    pristine = f"frr version 8.4\nfrr defaults traditional\nhostname {router}\nservice integrated-vtysh-config\n!\nline vty\n!\n"
    dev = FrrInterpreter(pristine)
    dev.run(cd.commands(cd.diff(dev.text(), want, cd.FRR), want, cd.FRR))
    assert cd.diff(dev.text(), want, cd.FRR).empty
    dev.run(cd.commands(cd.diff(dev.text(), pristine, cd.FRR, full=True), pristine, cd.FRR))
    assert cd.equivalent(dev.text(), pristine, cd.FRR)


def test_vrp_dialect_undo_and_quit():
    p = load_inventory("inventories/lab")
    want = render_intent(intent(p, p.router("chuzhou-rt")), "huawei_vrp")
    running = want.replace("ospf enable 1 area 0.0.0.0\n ospfv3 1 area 0.0.0.0\n ospfv3 network-type p2p\n ospfv3 cost 10",
                           "ospf enable 1 area 0.0.0.10\n ospfv3 1 area 0.0.0.0\n ospfv3 network-type p2p\n ospfv3 cost 10", 1)
    running = running.replace("sysname chuzhou-rt", "sysname old-name")
    assert running != want
    d = cd.diff(running, want, cd.VRP)
    cmds = cd.commands(d, want, cd.VRP)
    assert "undo ospf enable 1 area 0.0.0.10" in cmds and "ospf enable 1 area 0.0.0.0" in cmds
    assert "undo sysname" in cmds and "sysname chuzhou-rt" in cmds
    assert cmds.count("quit") == sum(1 for c in cmds if c.startswith("interface "))
    dev = FrrInterpreter(running, cd.VRP)
    dev.run(cmds)
    assert cd.diff(dev.text(), want, cd.VRP).empty


def test_render_diff_is_readable():
    lines = cd.render_diff(cd.diff(RUNNING, INTENDED, cd.FRR))
    assert "  interface up-d" in lines
    assert "-  ip ospf area 0" in lines and "+  ip ospf area 10" in lines
    assert "+ router ospf6 {...}" in lines


def test_vrp_login_accounts_are_never_removed_nor_shown(monkeypatch):
    """A production VRP router's local users (the way in; their lines carry a password cipher) are not in
    the intent: a push must not undo them, and the report names the account only."""
    from pathlib import Path

    for k, v in {"EGOVOPS_OSPF_KEY": "t3stOspfKey1", "EGOVOPS_OSPF6_KEY": "t3stOspf6Key1",
                 "EGOVOPS_BGP_KEY": "t3stBgpKey1"}.items():    # push rendering needs routing keys (test values)
        monkeypatch.setenv(k, v)

    from egovops.model import load_inventory
    from egovops.network.targets import plan_of

    p = load_inventory(Path(__file__).resolve().parents[2] / "inventories" / "anhui")
    intended = plan_of(p, "chuzhou-rt", "huawei_vrp").intended
    assert "\naaa\n local-aaa-user" in intended
    running = intended.replace(" local-aaa-user", " local-user netops password irreversible-cipher $1c$SeCrEt$\n"
                                                  " local-user netops service-type ssh\n local-aaa-user")
    running = running.replace("stelnet server enable\n", "stelnet server enable\nssh user netops authentication-type password\n")
    d = cd.diff(running, intended, cd.VRP)
    assert d.empty
    assert sorted(d.unmanaged) == ["aaa > local-user netops", "ssh user"]
    assert "SeCrEt" not in repr(d.as_dict())
    back = cd.diff(intended, running, cd.VRP, full=True)       # an exact restore still puts them back
    assert any("local-user netops password" in c for c in cd.commands(back, running, cd.VRP))


def test_a_dialect_with_no_ignore_patterns_ignores_no_line():
    """The ignore patterns are compiled as one alternation: with none, it must match nothing (an empty
    alternation matches every line and would parse every config as empty - a diff failing open)."""
    import dataclasses

    bare = dataclasses.replace(cd.FRR, ignore=())
    tree = cd.parse("hostname r1\ninterface up-d\n ip ospf cost 10\nexit\n", bare)
    assert "hostname r1" in tree.children and "exit" in tree.children
    assert not cd.diff("interface up-d\n ip ospf cost 10\n", "interface up-d\n ip ospf cost 20\n", bare).empty
