"""egovops lab up|status|down: thin over egovops.lab."""

from __future__ import annotations

import os

import click

from egovops.cli.common import inventory_option, json_option, limit_option, load_or_exit
from egovops.cli.output import BAD_INPUT, CHECK_FAILED, OK, bad_input, console, err_console, print_json, styled, table


def _need_root(as_json: bool) -> None:
    if os.geteuid() != 0:
        msg = "the lab needs root (network namespaces, FRR, systemd-nspawn): run as root"
        bad_input(msg, as_json)


def _progress(as_json: bool):
    out = err_console if as_json else console
    return lambda m: out.print(f"  [dim]·[/] {m}")


def _device_rows(st) -> list[tuple]:
    yn = {True: styled("[green]yes[/]"), False: styled("[red]no[/]"), None: "-"}
    return [(d.name, d.kind, d.role, d.netns, styled("[green]up[/]" if d.up else "[red]down[/]"), d.mgmt_ipv4, d.mgmt_ipv6,
             yn[d.ssh_ipv4], yn[d.ssh_ipv6]) for d in st.devices]


COLUMNS = ["device", "kind", "role", "netns", "state", "mgmt v4", "mgmt v6", "ssh v4", "ssh v6"]


@click.group("lab")
def lab_group() -> None:
    """The province on this machine: namespaces + veths, FRR routers with sshd, systemd-nspawn hosts."""


@lab_group.command("up")
@inventory_option
@json_option
@limit_option
@click.option("--counties", is_flag=True, help="Also the 105 county routers (behind their city routers).")
@click.option("--industry", is_flag=True,
              help="Also the industry clouds this lab lists (inventory.yaml lab_industry): each one's router and host.")
def up(inventory: str, as_json: bool, limit: str | None, counties: bool, industry: bool) -> None:
    """Bring the lab up (idempotent: a running lab is reported and left alone; resumes a failed up)."""
    from egovops.lab import LabError, LabInputError, lab_up
    p = load_or_exit(inventory, as_json)
    _need_root(as_json)
    try:
        res = lab_up(p, counties=counties, limit=limit, progress=_progress(as_json), industry=industry)
    except LabInputError as exc:
        print_json({"ok": False, "error": str(exc)}) if as_json else err_console.print(f"[bold red]lab up:[/] {exc}")
        raise SystemExit(BAD_INPUT) from None
    except LabError as exc:
        hint = "  (run `egovops lab up` again to resume, or `egovops lab down`)"
        print_json({"ok": False, "error": str(exc)}) if as_json else err_console.print(f"[bold red]lab up failed:[/] {exc}\n"
                                                                                        + hint)
        raise SystemExit(CHECK_FAILED) from None
    if as_json:
        print_json({"ok": True, "changed": res.changed, "seconds": round(res.seconds, 2), "routers": res.routers,
                    "hosts": res.hosts, "links": res.links, "lab": res.state.as_dict()})
        return
    verb = "is up" if res.changed else "was already running (nothing changed)"
    console.print(f"[green]✓[/] lab [bold]{p.meta.name}[/] {verb}: {res.routers} routers, {res.hosts} hosts"
                  + (f", {res.links} links in {res.seconds:.1f}s" if res.changed else ""))
    console.print(f"  management bridge {res.state.bridge} (controller {res.state.controller_ipv4}, "
                  f"{res.state.controller_ipv6}); credentials in {res.state.secrets}")


@lab_group.command("status")
@inventory_option
@json_option
def status_cmd(inventory: str, as_json: bool) -> None:
    """Each host and router: up/down, management addresses, SSH reachable over v4 and v6 (exit 1 if not all)."""
    from egovops.lab import status
    p = load_or_exit(inventory, as_json)
    _need_root(as_json)
    st = status(p)
    if st is None:
        print_json({"ok": False, "up": False, "name": p.meta.name, "routers": [], "hosts": []}) if as_json else \
            console.print(f"lab [bold]{p.meta.name}[/] is not running")
        raise SystemExit(CHECK_FAILED)
    ok = st.all_up and all(d.ssh_ipv4 and d.ssh_ipv6 for d in st.devices)
    if as_json:
        print_json({"ok": ok, "up": True, **st.as_dict()})
    else:
        console.print(table(f"lab {st.name} (prefix {st.prefix}{', limit ' + st.limit if st.limit else ''})", COLUMNS, _device_rows(st)))
        n_ok = sum(1 for d in st.devices if d.up and d.ssh_ipv4 and d.ssh_ipv6)
        console.print(("[green]✓[/]" if ok else "[red]✗[/]") + f" {n_ok}/{len(st.devices)} devices up and SSH-reachable over v4 and v6"
                      + ("" if st.complete else " [yellow](the last lab up did not finish: run it again)[/]"))
    raise SystemExit(OK if ok else CHECK_FAILED)


@lab_group.command("down")
@inventory_option
@json_option
def down(inventory: str, as_json: bool) -> None:
    """Remove everything the lab made: processes, host overlays, namespaces, veths, bridge, FRR pathspaces."""
    from egovops.lab import LabError, lab_down
    p = load_or_exit(inventory, as_json)
    _need_root(as_json)
    try:
        res = lab_down(p, progress=_progress(as_json))
    except LabError as exc:
        print_json({"ok": False, "error": str(exc)}) if as_json else err_console.print(f"[bold red]lab down failed:[/] {exc}")
        raise SystemExit(CHECK_FAILED) from None
    if as_json:
        print_json({"ok": True, **res})
    else:
        console.print(f"[green]✓[/] lab [bold]{p.meta.name}[/] is down "
                      f"({res['namespaces']} namespaces, {res['hosts']} hosts, {res['mounts']} mounts removed)")
