"""Options shared by every command: --inventory, --json, --limit."""

from __future__ import annotations

import os

import click

from egovops.cli.output import BAD_INPUT, report_problems
from egovops.model.load import load_inventory
from egovops.model.problems import InventoryError
from egovops.model.province import Province

DEFAULT_INVENTORY = os.environ.get("EGOVOPS_INVENTORY", "inventories/lab")

inventory_option = click.option(
    "--inventory", "-i", "inventory", default=DEFAULT_INVENTORY, show_default=True,
    type=click.Path(file_okay=False), help="Inventory folder (env EGOVOPS_INVENTORY).")
json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")
def _check_limit(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A given --limit must name something: ``' , '`` or ``''`` would select every device (for a push,
    every router), the opposite of what limiting means. Click turns the error into exit 2."""
    if value is not None and not [p for p in value.split(",") if p.strip().lstrip("!").strip()]:
        raise click.BadParameter(f"{value!r} names no device or tag (omit --limit to act on every device)")
    return value


limit_option = click.option(
    "--limit", "-l", default=None, callback=_check_limit,
    help="Devices to act on: comma-separated globs over names and tags (city:chuzhou, role:county, kind:dr); !x excludes.")


def load_or_exit(path: str, as_json: bool) -> Province:
    """Load the inventory; on any problem print them all and exit 2 (nothing downstream runs)."""
    try:
        return load_inventory(path)
    except InventoryError as exc:
        raise SystemExit(report_problems(exc.problems, as_json)) from None


__all__ = ["inventory_option", "json_option", "limit_option", "load_or_exit", "BAD_INPUT"]
