"""Hierarchy-aware configuration diff: from (running, intended) to the minimal command list.

Why not a line diff: router configs are trees (``interface X`` owns its ``ip ospf area``,
``router bgp`` owns ``address-family ipv4 unicast`` which owns ``network ...``). The same child
line under two sections means two different things, order inside a section is the device's
business, and a change must be sent inside the right section. So both configs are parsed into
trees keyed by line text, compared per section as sets, and the result is turned into the command
sequence a CLI expects: enter the section, remove what is gone (``no``/``undo``), add what is new,
leave the section.

Scope: only what the intended config manages is touched. Sections the device has but the intent
does not know (e.g. ``interface mgmt0``, the management path this tool itself uses) are reported
as unmanaged and never removed. Lines a vendor cannot show at run time (FRR 8.4 keeps ``hostname``
and ``banner`` in vtysh, not in the daemons) are rendered into the config file but left out of
the comparison.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Dialect:
    name: str
    negate_prefix: str                 # "no " / "undo "
    comment_prefixes: tuple[str, ...]  # lines ignored entirely
    ignore: tuple[str, ...]            # regexes of lines ignored (banners, version stamps, exits)
    header: str                        # regex: a line that opens a section even when it is empty
    exit_for: tuple[tuple[str, str], ...]  # (header regex, exit command); first match wins
    default_exit: str
    keep_sections: str                 # regex: sections never removed whole (negate children instead)
    unmanaged_if_unknown: str          # regex: top-level sections left alone when not in the intent
    negate_short: tuple[str, ...] = ()  # regexes: the part of a line its negation keeps (``no description``)
    negate_to_default: tuple[tuple[str, str], ...] = ()  # (regex, command restoring the default) where
                                                         # the device's "no" form is not the default
    unmanaged_lines: str = r"(?!)"     # regex: lines (any depth) the intent never models: never removed,
                                       # reported by their first two words only (they may carry a secret)

    def exit_command(self, header: str) -> str:
        for pat, cmd in self.exit_for:
            if re.match(pat, header):
                return cmd
        return self.default_exit

    def negate(self, line: str) -> str:
        if line.startswith(self.negate_prefix):
            return line[len(self.negate_prefix):]
        for pat, default in self.negate_to_default:
            if re.match(pat, line):
                return default
        for pat in self.negate_short:
            m = re.match(pat, line)
            if m:
                return self.negate_prefix + m.group(0).rstrip()
        return self.negate_prefix + line


FRR = Dialect(
    name="frr",
    negate_prefix="no ",
    comment_prefixes=("!",),
    ignore=(r"^Building configuration", r"^Current configuration", r"^frr version", r"^frr defaults",
            r"^end$", r"^exit$", r"^exit-address-family$", r"^exit-vrf$", r"^hostname ", r"^banner motd",
            r"^service integrated-vtysh-config$", r"^username "),
    header=r"^(interface |router |route-map |line |bfd$|profile |peer |address-family |vrf |key chain |segment-routing)",
    exit_for=((r"^address-family ", "exit-address-family"),),
    default_exit="exit",
    keep_sections=r"^(interface |line |bfd$)",
    unmanaged_if_unknown=r"^interface ",
    negate_short=(r"^description\b", r"^neighbor \S+ description\b", r"^log syslog\b", r"^banner motd\b"),
    # FRR: "no exec-timeout" means "never time out" (shown as exec-timeout 0 0); the default is 10 min
    negate_to_default=((r"^exec-timeout\b", "exec-timeout 10 0"),),
)

VRP = Dialect(
    name="huawei_vrp",
    negate_prefix="undo ",
    comment_prefixes=("#", "!"),
    ignore=(r"^return$", r"^quit$", r"^!Software Version", r"^!Last configuration", r"^\s*$"),
    header=r"^(interface |ospf \d+( |$)|ospfv3 \d+$|bgp \d+$|ipv4-family |ipv6-family |area |acl |aaa$|user-interface |bfd$|"
           r"route-policy |ip ip-prefix |ip ipv6-prefix )",
    exit_for=(),
    default_exit="quit",
    keep_sections=r"^(interface |aaa$|user-interface |bfd$)",
    unmanaged_if_unknown=r"^interface (MEth|Meth|NULL)",
    # the device's login accounts (aaa > local-user ..., ssh user ...: the way in, and a password cipher)
    unmanaged_lines=r"^(local-user|ssh user) ",
    negate_short=(r"^description\b", r"^sysname\b", r"^header login information\b", r"^idle-timeout\b",
                  r"^peer \S+ description\b", r"^router-id\b"),
)

DIALECTS = {"frr": FRR, "huawei_vrp": VRP}


@dataclass
class Node:
    line: str
    children: dict[str, Node] = field(default_factory=dict)
    section: bool = False


def _indent(raw: str) -> int:
    return len(raw) - len(raw.lstrip(" "))


@functools.lru_cache(maxsize=8)
def _patterns(dialect: Dialect) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The dialect's ignore regexes as ONE alternation, and its header regex, compiled once.

    Why: a fleet push parses three configs per router (running, intended, and the intended again
    for the command list) on the controller's one GIL; one match per line instead of one per
    ignore pattern keeps that off the push's critical path."""
    ignore = "|".join(f"(?:{p})" for p in dialect.ignore) or r"(?!)"    # none: match nothing (not "": all)
    return re.compile(ignore), re.compile(dialect.header)


def parse(text: str, dialect: Dialect) -> Node:
    """Parse a config into a tree. Indentation nests; dialect headers open sections even when empty."""
    root = Node("", section=True)
    stack: list[tuple[int, Node]] = [(-1, root)]
    ignore, header = _patterns(dialect)
    comments = dialect.comment_prefixes
    for raw in text.splitlines():
        raw = raw.rstrip()
        line = raw.strip()
        if not line or line.startswith(comments) or ignore.match(line):
            continue
        ind = _indent(raw)
        while stack and stack[-1][0] >= ind:
            stack.pop()
        parent = stack[-1][1]
        node = parent.children.get(line)
        if node is None:
            node = Node(line)
            parent.children[line] = node
        if header.match(line):
            node.section = True
        parent.section = True
        stack.append((ind, node))
    return root


@dataclass(frozen=True)
class Change:
    op: str                    # "+" add, "-" remove
    path: tuple[str, ...]      # enclosing section headers, outermost first
    line: str                  # the line (for a whole-section change: its header)
    section: bool = False      # the line is a section (added with all its children / removed whole)

    def as_dict(self) -> dict[str, Any]:
        return {"op": self.op, "path": list(self.path), "line": self.line, "section": self.section}


@dataclass
class ConfigDiff:
    changes: list[Change]
    unmanaged: list[str]

    @property
    def empty(self) -> bool:
        return not self.changes

    def as_dict(self) -> dict[str, Any]:
        return {"changes": [c.as_dict() for c in self.changes], "unmanaged": self.unmanaged}


def _walk(run: Node, want: Node, path: tuple[str, ...], dialect: Dialect, out: list[Change],
          unmanaged: list[str], full: bool = False) -> None:
    keep = re.compile(dialect.keep_sections)
    unknown = re.compile(dialect.unmanaged_if_unknown)
    foreign = re.compile(dialect.unmanaged_lines)
    # removals first: a value that changes (ospf area 0 -> 10) must be removed before it is re-set;
    # a more specific line goes before the line it extends ("no ip ospf bfd profile X" before
    # "no ip ospf bfd", which on FRR takes the profile with it)
    gone = [ln for ln in run.children if ln not in want.children]
    extends = {ln for ln in gone if any(o != ln and ln.startswith(o + " ") for o in gone)}
    for line in sorted(gone, key=lambda ln: ln not in extends):
        node = run.children[line]
        if not path and node.section and unknown.match(line) and not full:
            unmanaged.append(line)
            continue
        if foreign.match(line) and not full:
            label = " > ".join(path + (" ".join(line.split()[:2]),))
            if label not in unmanaged:
                unmanaged.append(label)
            continue
        if node.section and node.children and keep.match(line):
            _walk(node, Node(line, section=True), path + (line,), dialect, out, unmanaged, full)
        elif node.section and keep.match(line):
            continue                     # an empty kept section (e.g. a bare interface): nothing to undo
        else:
            out.append(Change("-", path, line, node.section))
    for line, node in want.children.items():
        have = run.children.get(line)
        if have is None:
            out.append(Change("+", path, line, node.section))
        elif node.children or have.children:
            _walk(have, node, path + (line,), dialect, out, unmanaged, full)


def diff(running: str, intended: str, dialect: Dialect, full: bool = False) -> ConfigDiff:
    """The changes that turn ``running`` into ``intended`` (within the intended config's scope).

    ``full=True`` makes every section in scope (used to restore a rollback point exactly: an
    interface section the push added must be emptied again).
    """
    out: list[Change] = []
    unmanaged: list[str] = []
    _walk(parse(running, dialect), parse(intended, dialect), (), dialect, out, unmanaged, full)
    return ConfigDiff(out, unmanaged)


def _subtree(node: Node, dialect: Dialect) -> list[str]:
    cmds: list[str] = []
    for line, child in node.children.items():
        cmds.append(line)
        if child.section or child.children:       # entered, so left again, even when empty
            cmds += _subtree(child, dialect)
            cmds.append(dialect.exit_command(line))
    return cmds


def commands(d: ConfigDiff, intended: str, dialect: Dialect) -> list[str]:
    """The CLI command sequence (config mode) that applies ``d``: enter sections, undo, add, leave."""
    tree = parse(intended, dialect)
    cmds: list[str] = []
    current: tuple[str, ...] = ()

    def go(path: tuple[str, ...]) -> None:
        nonlocal current
        common = 0
        while common < min(len(current), len(path)) and current[common] == path[common]:
            common += 1
        for h in reversed(current[common:]):
            cmds.append(dialect.exit_command(h))
        for h in path[common:]:
            cmds.append(h)
        current = path

    for c in d.changes:
        go(c.path)
        if c.op == "-":
            cmds.append(dialect.negate(c.line))
        else:
            cmds.append(c.line)
            if c.section:
                node = tree
                for h in c.path + (c.line,):
                    node = node.children[h]
                cmds += _subtree(node, dialect)
                cmds.append(dialect.exit_command(c.line))
    go(())
    return cmds


def render_diff(d: ConfigDiff, intended: str | None = None, dialect: Dialect | None = None) -> list[str]:
    """Human-readable hierarchical diff lines (``+``/``-`` with the section path as context)."""
    lines: list[str] = []
    last: tuple[str, ...] = ()
    for c in d.changes:
        if c.path != last:
            for depth, h in enumerate(c.path):
                if depth >= len(last) or last[depth] != h or lines == []:
                    lines.append("  " + " " * depth + h)
            last = c.path
        lines.append(f"{c.op} " + " " * len(c.path) + c.line + (" {...}" if c.section else ""))
    from egovops.network.routing_keys import mask_lines

    return mask_lines(lines)     # routing-protocol keys (right or wrong) are never shown


def summary(d: ConfigDiff) -> dict[str, int]:
    return {"add": sum(c.op == "+" for c in d.changes), "remove": sum(c.op == "-" for c in d.changes)}


def lines_of(text: str, dialect: Dialect) -> Iterable[str]:
    """Flattened ``path > line`` strings of a config (for equality checks independent of order)."""
    keep = re.compile(dialect.keep_sections)

    def rec(node: Node, path: tuple[str, ...]) -> Iterator[str]:
        for line, child in node.children.items():
            if child.section and not child.children and keep.match(line):
                continue             # an empty interface/line section is no configuration
            yield " > ".join(path + (line,))
            yield from rec(child, path + (line,))
    return rec(parse(text, dialect), ())


def equivalent(a: str, b: str, dialect: Dialect) -> bool:
    """Same configuration up to ordering and ignored lines (used to prove a rollback restored ``before``)."""
    return sorted(lines_of(a, dialect)) == sorted(lines_of(b, dialect))
