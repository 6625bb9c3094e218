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

import yaml

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


def load(path: Path | str, catalogue: Catalogue) -> list[Waiver]:
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WaiverError([f"{p}: no such file"])
    except (OSError, UnicodeDecodeError) as exc:  # unreadable, or not UTF-8 text
        raise WaiverError([f"{p}: cannot read: {exc}"])
    except yaml.YAMLError as exc:
        raise WaiverError([f"{p}: not valid YAML: {exc}"])
    entries = (data or {}).get("waivers") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise WaiverError([f"{p}: expected a top-level 'waivers:' list"])
    problems: list[str] = []
    out: list[Waiver] = []
    ids = set(catalogue.ids)
    for i, e in enumerate(entries, start=1):
        where = f"{p} waiver #{i}"
        if not isinstance(e, dict):
            problems.append(f"{where}: expected a mapping")
            continue
        unknown = set(e) - {"control", "hosts", "reason", "approver", "expires"}
        if unknown:
            problems.append(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        control = str(e.get("control", ""))
        if control not in ids:
            problems.append(f"{where}: control {control!r} is not in the catalogue")
        hosts = e.get("hosts")
        globs = [hosts] if isinstance(hosts, str) else hosts if isinstance(hosts, list) else None
        if not globs or not all(isinstance(g, str) and g for g in globs):
            problems.append(f"{where}: hosts must be a glob or a list of globs")
            globs = []
        for field_ in ("reason", "approver"):
            if not str(e.get(field_) or "").strip():
                problems.append(f"{where}: {field_} is required")
        exp = e.get("expires")
        if isinstance(exp, str):
            try:
                exp = dt.date.fromisoformat(exp)
            except ValueError:
                exp = None
        if not isinstance(exp, dt.date) or isinstance(exp, dt.datetime):  # a YAML timestamp is no date
            problems.append(f"{where}: expires must be a date (YYYY-MM-DD)")
            continue
        out.append(Waiver(control, tuple(globs), str(e.get("reason", "")).strip(), str(e.get("approver", "")).strip(), exp))
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
