"""YAML reading that remembers where each key came from, for problem messages with line numbers."""

from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    _BaseLoader = yaml.SafeLoader
else:  # libyaml's parser when present: 5x faster
    _BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_BaseLoader):
    """SafeLoader that rejects duplicate mapping keys (PyYAML silently keeps the last one)."""


MERGE_TAG = "tag:yaml.org,2002:merge"
MAX_BYTES = 4 * 1024 * 1024
"""Largest inventory/waiver file read (the whole province is ~60 KB): a 50 MB file is refused in a stat."""
MAX_VALUES = 200_000
"""Most values a file may hold once aliases are expanded (an alias bomb is refused before construction)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == MERGE_TAG:  # ``<<: *anchor``: merged keys may be overridden, not duplicates
            continue
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            continue  # an unhashable key: construct_mapping below reports it with its mark
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first at line {seen[key] + 1})", key_node.start_mark
            )
        seen[key] = key_node.start_mark.line
    mapping: dict[Any, Any] = loader.construct_mapping(node, deep=deep)
    return mapping


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


@dataclass
class YamlSource:
    """One parsed YAML file: its data and its node tree (for locating key paths)."""

    path: Path
    data: Any
    root: yaml.Node | None

    def line_of(self, keys: tuple[Any, ...]) -> int | None:
        """1-based line of the deepest node reachable along ``keys``."""
        node = self.root
        line = node.start_mark.line + 1 if node is not None else None
        for key in keys:
            if isinstance(node, yaml.MappingNode):
                nxt = None
                for k, v in node.value:
                    if k.value == str(key):
                        nxt, line = v, k.start_mark.line + 1
                        break
                node = nxt
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
                node = node.value[key]
                line = node.start_mark.line + 1
            else:
                break
            if node is None:
                break
        return line


class _AliasCycle(Exception):
    def __init__(self, line: int):
        self.line = line


def _expanded_size(root: yaml.Node) -> int:
    """Number of nodes once every alias is expanded; raises ValueError on an alias cycle.

    PyYAML shares aliased nodes, so the tree is small in memory, but everything downstream
    (validation, rendering) walks the expansion: ``a: &a [*a, *a, ...]`` nested ten deep is 10^10.
    """
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise _AliasCycle(node.start_mark.line + 1)
        active.add(key)
        if isinstance(node, yaml.SequenceNode):
            n = 1 + sum(size(c) for c in node.value)
        elif isinstance(node, yaml.MappingNode):
            n = 1 + sum(size(k) + size(v) for k, v in node.value)
        else:
            n = 1
        active.discard(key)
        sizes[key] = n = min(n, MAX_VALUES + 1)
        return n

    return size(root)


def _bad_scalar_line(root: yaml.Node) -> int | None:
    """Line of the first scalar whose tag cannot build its value (``2026-13-45``, ``!!int abc``)."""
    probe = _UniqueKeyLoader("")
    stack, seen = [root], set()
    try:
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, yaml.ScalarNode):
                try:
                    probe.construct_object(node)
                except Exception:  # noqa: BLE001 - any failure of a constructor is what we are looking for
                    return node.start_mark.line + 1
            elif isinstance(node, yaml.SequenceNode):
                stack.extend(reversed(node.value))
            elif isinstance(node, yaml.MappingNode):
                for k, v in reversed(node.value):
                    stack.extend((v, k))
    finally:
        probe.dispose()
    return None


class YamlSyntaxError(Exception):
    """A file that cannot be read as YAML; ``kind`` is ``yaml``, ``unreadable`` or ``too-large``."""

    def __init__(self, path: Path, line: int | None, message: str, kind: str = "yaml"):
        self.path, self.line, self.message, self.kind = path, line, message, kind
        super().__init__(f"{path}:{line}: {message}")


def read_yaml(path: Path) -> YamlSource:
    """Parse ``path``; every way a file can fail to be YAML becomes a :class:`YamlSyntaxError`.

    Undecodable bytes and reader errors (control characters) are not ``MarkedYAMLError``; they
    must still be reported as a problem of that file, never crash the loader. Nor may an
    unreadable file (permissions, a folder, a symlink loop), a huge file, an alias bomb or a
    value its tag cannot build (``2026-13-45``, ``!!int abc``): each is one problem of the file.
    """
    try:
        st = path.stat()
        size = st.st_size
        if not stat.S_ISREG(st.st_mode):  # a folder, a FIFO (reading it would block), a device
            raise YamlSyntaxError(path, None, "not a regular file", "unreadable")
        if size > MAX_BYTES:
            raise YamlSyntaxError(path, None, f"file is {size} bytes, more than the {MAX_BYTES} an inventory file may be",
                                  "too-large")
        raw = path.read_bytes()
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise YamlSyntaxError(path, None, f"cannot read the file: {reason}", "unreadable") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlSyntaxError(path, raw[: exc.start].count(b"\n") + 1, f"not UTF-8 text: {exc.reason}") from None
    text = text.removeprefix("\ufeff")  # a BOM (Windows editors) is no content
    loader = _UniqueKeyLoader(text)
    root = None
    try:  # compose once, construct the data from the same node tree (lines and data agree)
        root = loader.get_single_node()
        try:
            if root is not None and _expanded_size(root) > MAX_VALUES:
                raise YamlSyntaxError(path, None, f"more than {MAX_VALUES} values once aliases are expanded", "too-large")
        except _AliasCycle as exc:
            raise YamlSyntaxError(path, exc.line, "an alias refers to its own parent (a recursive structure)") from None
        data = loader.construct_document(root) if root is not None else None
    except YamlSyntaxError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlSyntaxError(path, mark.line + 1 if mark else None, f"{exc.problem or exc}".strip()) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "mark", None)
        line: int | None = None
        if isinstance(exc, yaml.reader.ReaderError):
            line = text[: exc.position].count("\n") + 1
        elif mark is not None:
            line = mark.line + 1
        raise YamlSyntaxError(path, line, str(exc).strip()) from None
    except RecursionError:
        raise YamlSyntaxError(path, None, "nested too deeply") from None
    except (ValueError, TypeError, OverflowError, AttributeError) as exc:  # a tag/timestamp that cannot be built
        line = _bad_scalar_line(root) if root is not None else None
        raise YamlSyntaxError(path, line, f"a value cannot be read as its type: {exc}") from None
    finally:
        loader.dispose()
    return YamlSource(path=path, data=data, root=root)


def format_path(keys: tuple[Any, ...]) -> str:
    out = ""
    for k in keys:
        out += f"[{k}]" if isinstance(k, int) else (f".{k}" if out else str(k))
    return out
