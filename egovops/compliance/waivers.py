"""Waivers: an approved, dated exception for a control on some hosts.

File format (YAML)::

    waivers:
      - control: L3-CES3-01          # a catalogue id
        hosts: "dr-*"                 # glob over node names (a list of globs also works)
        reason: kernel audit is not available in containers
        approver: 张三 (信息安全处)
        expires: 2027-06-30           # after this date the waiver no longer counts: the row is a fail

A waiver turns a failing (or erroring) row into ``waived`` — reported apart from passes, never as
a pass. An expired waiver leaves the row failing and says so in the evidence.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from egovops.compliance.catalogue import Catalogue
from egovops.compliance.results import Result


class WaiverError(ValueError):
    """The waiver file is invalid; ``problems`` lists every problem with its entry number."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Waiver:
    control: str
    hosts: tuple[str, ...]
    reason: str
    approver: str
    expires: dt.date

    def covers(self, node: str, control: str) -> bool:
        return control == self.control and any(fnmatch.fnmatchcase(node, g) for g in self.hosts)

    def expired(self, today: dt.date) -> bool:
        return today > self.expires

    def as_dict(self) -> dict[str, Any]:
        return {"control": self.control, "hosts": list(self.hosts), "reason": self.reason,
                "approver": self.approver, "expires": self.expires.isoformat()}


FIELDS = ("control", "hosts", "reason", "approver", "expires")


@dataclass(frozen=True)
class Scope:
    """The devices a waivers file may cover (an industry cloud's file: only that cloud's own).

    Each ``hosts`` glob must match at least one of ``own`` and none of ``others``, so a cloud's
    department can never waive a control on a provincial or city host (a ``"*"`` is refused).
    """

    label: str                 # e.g. "industry cloud transport"
    own: frozenset[str]
    others: frozenset[str]

    def problem(self, glob: str) -> str | None:
        if not any(fnmatch.fnmatchcase(n, glob) for n in self.own):
            return f"hosts {glob!r} matches no device of {self.label} ({', '.join(sorted(self.own))})"
        outside = sorted(n for n in self.others if fnmatch.fnmatchcase(n, glob))
        if outside:
            shown = ", ".join(outside[:4]) + ("…" if len(outside) > 4 else "")
            return f"hosts {glob!r} also matches {len(outside)} device(s) outside {self.label} ({shown})"
        return None


def load(path: Path | str, catalogue: Catalogue, scope: Scope | None = None) -> list[Waiver]:
    """Read and validate a waivers file like an inventory file: every problem named with file:line.

    With a ``scope`` every ``hosts`` glob must stay inside it (see :class:`Scope`).

    Read through the inventory's YAML boundary (:func:`egovops.model.yamlsrc.read_yaml`): duplicate
    keys, impossible dates (``2026-02-30``), unreadable or huge files are problems, never a crash
    or a silent last-one-wins.
    """
    from egovops.model.yamlsrc import YamlSyntaxError, read_yaml

    p = Path(path)
    try:
        if not (p.is_file() or p.is_symlink()):
            raise WaiverError([f"{p}: no such file"])
        src = read_yaml(p)
    except YamlSyntaxError as exc:
        if exc.kind == "unreadable" or exc.message.startswith("not UTF-8"):
            raise WaiverError([f"{p}: cannot read: {exc.message}"]) from None
        raise WaiverError([f"{p}:{exc.line or '?'}: not valid YAML: {exc.message}"]) from None
    except OSError as exc:
        raise WaiverError([f"{p}: cannot read: {exc.strerror or exc}"]) from None
    data = src.data
    entries = data.get("waivers") if isinstance(data, dict) else None
    if not isinstance(entries, list) or (isinstance(data, dict) and set(data) != {"waivers"}):
        raise WaiverError([f"{p}: expected a top-level 'waivers:' list (and nothing else)"])
    problems: list[str] = []
    out: list[Waiver] = []
    ids = set(catalogue.ids)
    seen: dict[tuple[str, tuple[str, ...]], int] = {}
    for i, e in enumerate(entries, start=1):
        def where(key: str | None = None, i: int = i) -> str:
            line = src.line_of(("waivers", i - 1) + ((key,) if key else ()))
            return f"{p}:{line} waiver #{i}" if line else f"{p} waiver #{i}"

        if not isinstance(e, dict):
            problems.append(f"{where()}: expected a mapping")
            continue
        unknown = [k for k in e if k not in FIELDS]
        if unknown:
            problems.append(f"{where(str(unknown[0]))}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
        control = e.get("control")
        if not isinstance(control, str) or control not in ids:
            problems.append(f"{where('control')}: control {control!r} is not in the catalogue")
        hosts = e.get("hosts")
        globs = [hosts] if isinstance(hosts, str) else hosts if isinstance(hosts, list) else None
        if not globs or not all(isinstance(g, str) and g.strip() and g.isprintable() for g in globs):
            problems.append(f"{where('hosts')}: hosts must be a glob or a list of globs")
            globs = []
        for g in globs if scope else []:
            bad = scope.problem(g) if scope else None
            if bad:
                problems.append(f"{where('hosts')}: {bad}")
        for field_ in ("reason", "approver"):
            v = e.get(field_)
            if not isinstance(v, str) or not v.strip():
                problems.append(f"{where(field_)}: {field_} is required (text)")
            elif not v.isprintable() or len(v) > 500:
                problems.append(f"{where(field_)}: {field_} must be one printable line of at most 500 characters")
        exp = e.get("expires")
        if isinstance(exp, str):
            try:
                exp = dt.date.fromisoformat(exp)
            except ValueError:
                exp = None
        if not isinstance(exp, dt.date) or isinstance(exp, dt.datetime):  # a YAML timestamp is no date
            problems.append(f"{where('expires')}: expires must be a date (YYYY-MM-DD)")
            continue
        key = (str(control), tuple(sorted(globs)))
        if key in seen:
            problems.append(f"{where()}: the same control and hosts as waiver #{seen[key]}")
        seen.setdefault(key, i)
        out.append(Waiver(str(control), tuple(globs), str(e.get("reason", "")).strip(),
                          str(e.get("approver", "")).strip(), exp))
    if problems:
        raise WaiverError(problems)
    return out


def apply(results: list[Result], waivers: list[Waiver], today: dt.date) -> list[dict[str, Any]]:
    """Mark covered fail/error rows waived (or note an expired waiver); return waivers that matched nothing."""
    used: set[int] = set()
    for r in results:
        for i, w in enumerate(waivers):
            if not w.covers(r.node, r.control):
                continue
            used.add(i)
            if r.status not in ("fail", "error"):
                break
            if w.expired(today):
                r.status = "fail"
                r.evidence += f" [waiver by {w.approver} expired on {w.expires.isoformat()}]"
                r.waiver = {**w.as_dict(), "expired": True}
            else:
                r.observed_status = r.status
                r.status = "waived"
                r.waiver = {**w.as_dict(), "expired": False}
            break
    return [w.as_dict() for i, w in enumerate(waivers) if i not in used]
