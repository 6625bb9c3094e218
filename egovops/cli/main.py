"""The ``egovops`` command: one CLI for ops, network, security and on-call staff.

Thin by design: each subcommand parses options and calls the capability modules.
Subcommand groups are listed in GROUPS as "module:attribute" and imported lazily, so a missing
optional dependency of one capability never breaks the others.
"""

from __future__ import annotations

import importlib

import click

from egovops import __version__

GROUPS = {
    "inventory": "egovops.cli.inventory:inventory_group",
    "deploy": "egovops.cli.deploy:deploy",
    "harden": "egovops.cli.harden:harden",
    "comply": "egovops.cli.comply:comply",
    "net": "egovops.cli.net:net_group",
    "lab": "egovops.cli.lab:lab_group",
    "stacks": "egovops.cli.stacks:stacks_group",
    "dr": "egovops.cli.dr:dr_group",
    "monitor": "egovops.cli.monitor:monitor_group",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(GROUPS)

    def get_command(self, ctx: click.Context, name: str):
        if name not in GROUPS:
            return None
        module, _, attr = GROUPS[name].partition(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="egovops")
def cli() -> None:
    """egovops — provision, configure, check and observe Anhui's 1+16+N e-government cloud and extranet.

    Every command targets the lab (inventories/lab) unless --inventory says otherwise.
    Exit codes: 0 ok, 1 a check failed, 2 bad input.
    """


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        raise SystemExit(130) from None
    except click.ClickException as exc:
        exc.show()
        raise SystemExit(2) from None
    except SystemExit:
        raise


if __name__ == "__main__":
    main()
