"""Generate the role README's control/variable table from the catalogue and the role defaults.

The table is committed (people read it on the forge); tests/unit/test_harden_structure.py fails
when it is out of date. Regenerate with ``python -m egovops.compliance.docs``.
"""

from __future__ import annotations

import sys

from egovops.compliance.catalogue import load
from egovops.compliance.targets import REPO, role_params

README = REPO / "roles" / "baseline" / "README.md"
BEGIN, END = "<!-- BEGIN generated controls table -->", "<!-- END generated controls table -->"


def table() -> str:
    cat = load()
    params = role_params()
    lines = ["| Control | Clause | 控制点 Family | 要求 Title | Variable (default) | Disruptive | Check |",
             "|---|---|---|---|---|---|---|"]
    for c in cat.controls:
        var = f"`{c.variable}` ({str(params[c.variable]).lower()})" if c.variable in params else "— (check only)"
        title = f"{c.title_zh}<br>{c.title_en}".replace("|", "\\|")
        lines.append(f"| {c.id} | {c.clause} | {c.family.zh} {c.family.en} | {title} | {var} | "
                     f"{'yes (needs `baseline_disruptive`)' if c.disruptive else 'no'} | `{c.checked_by}` |")
    return "\n".join(lines)


def render(text: str) -> str:
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{table()}\n{END}{tail}"


def main() -> int:
    README.write_text(render(README.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
