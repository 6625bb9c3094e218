"""What a ``harden --check`` run would change, per task and control, with each host's diff.

Why: the PLAY RECAP only counts changes; an operator deciding whether to apply wants to see which
controls would change on which hosts and how (the modules' ``--diff`` output). This reads the
ansible-playbook log the runner keeps (default callback, ``--check --diff``), so it needs no callback
plugin and works on any saved log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["PendingChange", "pending_changes"]

HEADER = re.compile(r"^(?:TASK|RUNNING HANDLER) \[(?:[^\]:]+ : )?(?P<name>.+?)\] \**$")
RESULT = re.compile(r"^(?P<status>changed|ok|skipping|fatal|failed): \[(?P<host>[^\]]+)\]")
CONTROL = re.compile(r"^(?P<id>L3-CES\d+-\d+|PRELIM|POST) \| ")
DIFF_START = ("--- before", "+++ after")


@dataclass
class PendingChange:
    """One task that would change something: its control, the hosts, and each host's diff (may be empty:
    a command reports only that it would run)."""

    task: str
    control: str
    hosts: list[str] = field(default_factory=list)
    diffs: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {"task": self.task, "control": self.control, "hosts": self.hosts, "diffs": self.diffs}


def pending_changes(log: str) -> list[PendingChange]:
    """The tasks of ``log`` with at least one ``changed`` host, in play order."""
    out: list[PendingChange] = []
    current: PendingChange | None = None
    buffer: list[str] = []
    for line in log.splitlines():
        h = HEADER.match(line)
        if h:
            if current is not None and current.hosts:
                out.append(current)
            name = h["name"]
            m = CONTROL.match(name)
            current, buffer = PendingChange(name, m["id"] if m else ""), []
            continue
        r = RESULT.match(line)
        if r and current is not None:
            if r["status"] == "changed":
                host = r["host"]
                if host not in current.hosts:
                    current.hosts.append(host)
                start = next((i for i, ln in enumerate(buffer) if ln.startswith(DIFF_START)), None)
                if start is not None:
                    text = "\n".join(buffer[start:]).strip("\n")
                    current.diffs[host] = (current.diffs[host] + "\n" + text) if host in current.diffs else text
            buffer = []
            continue
        if current is not None:
            buffer.append(line)
    if current is not None and current.hosts:
        out.append(current)
    return out
