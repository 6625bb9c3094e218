"""Options shared by every command: --inventory, --json, --limit."""

from __future__ import annotations

import os

import click

from egovops.model.load import load_inventory
from egovops.model.problems import InventoryError
from egovops.model.province import Province
from egovops.cli.output import BAD_INPUT, report_problems

DEFAULT_INVENTORY = os.environ.get("EGOVOPS_INVENTORY", "inventories/lab")

inventory_option = click.option(
    "--inventory", "-i", "inventory", default=DEFAULT_INVENTORY, show_default=True,
    type=click.Path(file_okay=False), help="Inventory folder (env EGOVOPS_INVENTORY).")
json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")
limit_option = click.option(
    "--limit", "-l", default=None,
    help="Devices to act on: comma-separated globs over names and tags (city:chuzhou, role:county, kind:dr); !x excludes.")


def load_or_exit(path: str, as_json: bool) -> Province:
    """Load the inventory; on any problem print them all and exit 2 (nothing downstream runs)."""
    try:
        return load_inventory(path)
    except InventoryError as exc:
        raise SystemExit(report_problems(exc.problems, as_json))


__all__ = ["inventory_option", "json_option", "limit_option", "load_or_exit", "BAD_INPUT"]
