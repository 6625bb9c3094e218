#!/usr/bin/env python3
"""Every task's module parameters exist (make lint-ansible).

Why this exists: ansible-lint's ``args[module]`` rule no longer reports an unknown parameter of an
``ansible.builtin`` module (ansible/ansible-lint#4311, open since 24.5.0), so a misspelt
``enabeld: true`` passed lint and failed only on a host. This reads every task of ``roles/`` and
``playbooks/`` (blocks included), asks ``ansible-doc`` once for the documented options (and aliases)
of the ansible.builtin / ansible.posix modules used, and names file, task and parameter for every
parameter the module does not have. Free-form arguments (a string) and modules whose arguments are
free by design (set_fact, include/import_*, meta...) are not checked. Exit 1 on a finding.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
NAMESPACES = ("ansible.builtin.", "ansible.posix.")
FREE = {
    "set_fact",
    "include_tasks",
    "import_tasks",
    "include_role",
    "import_role",
    "import_playbook",
    "include_vars",
    "meta",
    "debug",
    "add_host",
    "group_by",
    "set_stats",
}
TASK_LISTS = ("tasks", "pre_tasks", "post_tasks", "handlers", "block", "rescue", "always")


def task_files() -> list[Path]:
    return sorted(
        [*REPO.glob("roles/*/tasks/*.yml"), *REPO.glob("roles/*/handlers/*.yml"), *REPO.glob("playbooks/*.yml")]
    )


def tasks(items: Any) -> Iterator[dict[str, Any]]:
    """Every task of a task list or list of plays, blocks and their rescue/always included."""
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        yield item
        for key in TASK_LISTS:
            yield from tasks(item.get(key))


def module_of(task: dict[str, Any]) -> str | None:
    return next((k for k in task if isinstance(k, str) and k.startswith(NAMESPACES)), None)


def options(modules: set[str]) -> dict[str, set[str]]:
    """module -> its documented parameter names and aliases (one ansible-doc run)."""
    if not modules:
        return {}
    out = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-doc"), "-j", "-t", "module", *sorted(modules)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    docs = json.loads(out.stdout)
    allowed: dict[str, set[str]] = {}
    for mod, entry in docs.items():
        opts = (entry.get("doc") or {}).get("options") or {}
        allowed[mod] = set(opts) | {a for o in opts.values() for a in (o.get("aliases") or [])}
    return allowed


def main() -> int:
    found: list[tuple[Path, dict[str, Any], str]] = []
    for f in task_files():
        for t in tasks(yaml.safe_load(f.read_text(encoding="utf-8"))):
            mod = module_of(t)
            if mod and mod.rsplit(".", 1)[1] not in FREE:
                found.append((f, t, mod))
    allowed = options({m for _, _, m in found})
    problems = []
    for f, t, mod in found:
        args = t[mod]
        if not isinstance(args, dict):
            continue  # free-form (command: ...) or a templated string
        if mod not in allowed:
            problems.append(f"{f.relative_to(REPO)}: task {t.get('name')!r}: ansible-doc does not know {mod}")
            continue
        for k in sorted(set(args) - allowed[mod] - {"_raw_params"}):
            problems.append(f"{f.relative_to(REPO)}: task {t.get('name')!r}: {mod} has no parameter {k!r}")
    for p in problems:
        print(p)
    print(f"module arguments: {len(found)} tasks checked, {len(problems)} problem(s)", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
