"""Shared CLI output: readable rich tables on a terminal, stable JSON with ``--json``, exit codes.

Exit codes every command keeps (scripts rely on them):
  0  ok
  1  a check failed (verification, compliance, drift)
  2  bad input or usage (invalid inventory, unknown option, missing prerequisite named)
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

OK, CHECK_FAILED, BAD_INPUT = 0, 1, 2

# emoji off: IPv6 text such as fd00:34:1:a::/64 holds ":a:" (and ":b:", ":id:"...), rich's emoji codes
console = Console(highlight=False, emoji=False)
err_console = Console(stderr=True, highlight=False, emoji=False)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n")


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], plain: bool = True) -> Table:
    """A rich table whose title, headers and cells are literal text, never markup or emoji codes:
    cells hold data (``[/x]`` in a name, ``fd00:34:1:a::/64``, Pulumi's ``egovops:cloud:CloudNode``).

    A cell that is already a rich ``Text`` keeps its styling; ``plain`` is kept for old callers.
    """
    t = Table(title=Text(title), title_justify="left", show_lines=False)
    for c in columns:
        t.add_column(Text(c))
    for r in rows:
        t.add_row(*[v if isinstance(v, Text) else Text("" if v is None else str(v)) for v in r])
    return t


def styled(markup: str) -> Text:
    """A table cell from OUR OWN markup (``"[green]up[/]"``); data never goes through this."""
    return Text.from_markup(markup, emoji=False)


def bad_input(msg: str, as_json: bool, problems: list[str] | None = None) -> NoReturn:
    """Name the bad input and exit 2: nothing was run or changed.

    With ``--json`` a document ``{"ok": false, "error": msg}`` (plus ``problems`` when given) goes to
    stdout; otherwise the message (escaped: host paths and IPv6 literals are no markup) to stderr.
    """
    if as_json:
        doc: dict[str, Any] = {"ok": False, "error": msg}
        if problems is not None:
            doc["problems"] = problems
        print_json(doc)
    else:
        err_console.print(f"[bold red]✗[/] {escape(msg)}")
        for p in problems or []:
            err_console.print(f"  [red]✗[/] {escape(p)}")
    raise SystemExit(BAD_INPUT)


def report_problems(problems, as_json: bool) -> int:
    """Print inventory problems (all of them) and return the bad-input exit code."""
    if as_json:
        print_json({"ok": False, "problems": [p.as_dict() for p in problems]})
    else:
        err_console.print(f"[bold red]The inventory has {len(problems)} problem(s); nothing was written.[/]")
        for p in problems:
            # the messages quote patterns and values ('^[a-z]…'): text, never markup
            err_console.print(f"  [red]✗[/] {escape(p.where())}: {escape(p.message)}"
                              + (f"\n      [dim]hint: {escape(p.hint)}[/]" if p.hint else ""))
    return BAD_INPUT
