"""egovops inventory validate|show|render."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

import click
from rich.markup import escape

from egovops.cli.common import inventory_option, json_option, load_or_exit
from egovops.cli.output import BAD_INPUT, OK, bad_input, console, print_json, table
from egovops.model.province import Province
from egovops.render import render_all, write_tree
from egovops.render.files import OutputFolderError, plan_tree


def summary(p: Province) -> dict:
    placed = sum(len(s.nodes) for s in p.services)
    return {
        "inventory": p.meta.name,
        "version": p.meta.version,
        "environment": p.meta.environment,
        "cloud_nodes": len(p.cloud_nodes),
        "cities": len(p.cities),
        "dr_sites": len([n for n in p.nodes if n.kind == "dr"]),
        "counties": len(p.counties),
        "routers": len([r for r in p.routers if r.is_ours]),
        "links": {k: len([line for line in p.links if line.kind == k]) for k in ("uplink", "backbone", "county", "access", "extra")},
        "prefixes": {
            "ipv4": {"loopback": len(p.routers), "p2p": len([line for line in p.links if line.kind != "access"]), "service": len(p.nodes)},
            "ipv6": {"loopback": len(p.routers), "p2p": len([line for line in p.links if line.kind != "access"]), "service": len(p.nodes)},
        },
        "dr": {"tiers": len(p.dr_tiers), "city_pairs": len([r for r in p.replications if r.kind == "cooperation"]),
               "provincial": len([r for r in p.replications if r.kind != "cooperation"])},
        "services": {"catalogue": len(p.services), "placements": placed},
        "industry_clouds": {"listed": len(p.industry), "existing": len([c for c in p.industry if c.exists]),
                            "managed": len(p.managed_industry())},
        "cross_node_calls": len(p.calls),
    }


@click.group("inventory")
def inventory_group() -> None:
    """The province as data: validate it, look at it, derive artefacts from it."""


@inventory_group.command("validate")
@inventory_option
@json_option
def validate(inventory: str, as_json: bool) -> None:
    """Validate the inventory; list every problem (exit 2) or print a summary (exit 0)."""
    p = load_or_exit(inventory, as_json)
    s = summary(p)
    if as_json:
        print_json({"ok": True, "summary": s})
        raise SystemExit(OK)
    links = s["links"]
    console.print(f"[green]✓[/] inventory [bold]{escape(s['inventory'])}[/] {escape(s['version'])} ({s['environment']}) is valid")
    rows: list[tuple[Any, ...]] = [
        ("cloud nodes (1+16)", s["cloud_nodes"]),
        ("DR sites", s["dr_sites"]),
        ("counties", s["counties"]),
        ("routers", s["routers"]),
        ("links", f"{sum(links.values())} (uplink {links['uplink']}, backbone {links['backbone']}, "
                  f"county {links['county']}, access {links['access']}, extra {links['extra']})"),
        ("prefixes v4", sum(s["prefixes"]["ipv4"].values())),
        ("prefixes v6", sum(s["prefixes"]["ipv6"].values())),
        ("DR", f"{s['dr']['provincial']} provincial replications, {s['dr']['city_pairs']} city pairs, {s['dr']['tiers']} tiers"),
        ("services placed", f"{s['services']['placements']} placements of {s['services']['catalogue']} services"),
        ("industry clouds (N)", f"{s['industry_clouds']['listed']} ({s['industry_clouds']['existing']} exist, "
                                f"{s['industry_clouds']['managed']} managed here)"),
        ("nodes (1+16+N)", s["cloud_nodes"] + s["industry_clouds"]["listed"]),
    ]
    console.print(table("Summary", ["what", "count"], rows))


@inventory_group.command("show")
@inventory_option
@json_option
@click.option("--what", type=click.Choice(["nodes", "routers", "links", "services", "dr", "industry"]), default="nodes", show_default=True)
def show(inventory: str, as_json: bool, what: str) -> None:
    """Show the resolved model (addresses computed) as a table or JSON."""
    p = load_or_exit(inventory, as_json)
    rows: list[tuple[Any, ...]]
    if what == "nodes":
        cols = ["node", "name", "kind", "router", "service v4", "service v6", "mgmt v4", "mgmt v6"]
        rows = [(n.slug, n.name_zh, n.kind, n.router, str(n.service_v4), str(n.service_v6), str(n.management.ipv4.ip),
                 str(n.management.ipv6.ip)) for n in p.nodes]
    elif what == "industry":
        cols = ["cloud", "name", "department", "exists", "routing", "asn/area", "router", "service v4", "service v6"]
        rows = [(c.slug, c.name_zh, c.department_zh, c.exists, c.routing, c.asn if c.routing == "bgp" else c.area,
                 c.router.name, str(c.service_v4), str(c.service_v6)) for c in p.industry]
    elif what == "routers":
        cols = ["router", "name", "role", "city", "area", "loopback v4", "loopback v6", "mgmt v4"]
        rows = [(r.name, r.name_zh, r.role, r.city or "", r.area, str(r.loopback.ipv4.ip), str(r.loopback.ipv6.ip),
                 str(r.management.ipv4.ip)) for r in p.routers]
    elif what == "links":
        cols = ["link", "kind", "plane", "a", "a v4", "b", "b v4", "area", "Mbps"]
        rows = [(line.name, line.kind, line.plane or "", f"{line.a.device}:{line.a.ifname}", str(line.a.address.ipv4),
                 f"{line.b.device}:{line.b.ifname}", str(line.b.address.ipv4), "" if line.area is None else line.area,
                 f"{line.bandwidth_mbps:g}") for line in p.links]
    elif what == "services":
        cols = ["service", "name", "hosting", "zone", "level", "replicas", "nodes", "standby"]
        rows = [(s.slug, s.name_zh, s.hosting, s.zone, s.level, s.replicas, len(s.nodes), ",".join(s.standby)) for s in p.services]
    else:
        tiers = {t.name: t for t in p.dr_tiers}
        cols = ["replication", "kind", "tier", "rpo s", "rto s", "schedule"]
        rows = [(r.name, r.kind, r.tier, tiers[r.tier].rpo_seconds, tiers[r.tier].rto_seconds, tiers[r.tier].schedule)
                for r in p.replications]
    if as_json:
        print_json({"what": what, "columns": cols, "rows": [list(map(str, r)) for r in rows]})
        return
    console.print(table(f"{what} ({len(rows)})", cols, rows))


def _refuse(as_json: bool, out: str, msg: str, **lists: list[str]) -> NoReturn:
    """Exit 2 naming --out; with --json ``{"ok": false, "out", "error", ...lists}`` (nothing was written)."""
    if as_json:
        print_json({"ok": False, "out": out, "error": msg, **lists})
        raise SystemExit(BAD_INPUT)
    bad_input(msg, False, [f for v in lists.values() for f in v])


@inventory_group.command("render")
@inventory_option
@json_option
@click.option("--out", "out", default="build/artefacts", show_default=True, type=click.Path(file_okay=False),
              help="Folder for the artefacts (Ansible inventory, router intents, Prometheus targets, Pulumi configs).")
@click.option("--force", is_flag=True,
              help="Write even if --out holds files egovops did not write (they are listed and never deleted).")
def render(inventory: str, as_json: bool, out: str, force: bool) -> None:
    """Derive every artefact from the inventory (deterministic; nothing is written if it is invalid).

    Only files an earlier render wrote (recorded with their hash in --out/.egovops-rendered) are
    ever removed; a folder holding other files is refused unless --force.
    """
    p = load_or_exit(inventory, as_json)
    files = render_all(p)
    try:
        foreign = plan_tree(files, Path(out)).foreign
        counts = write_tree(files, Path(out), force=force)
    except OutputFolderError as exc:
        _refuse(as_json, out, f"refusing to render into {out}: {exc}", foreign=exc.foreign, blocked=exc.blocked,
                forged=exc.forged)
    except (OSError, RuntimeError, ValueError) as exc:  # --out is a file, unwritable, a symlink loop, has a NUL
        _refuse(as_json, out, f"cannot write the artefacts into {out}: {exc}")
    per_kind: dict[str, int] = {}
    for path in files:
        per_kind[path.split("/", 1)[0]] = per_kind.get(path.split("/", 1)[0], 0) + 1
    if as_json:
        print_json({"ok": True, "out": out, "files": len(files), "per_kind": per_kind, **counts, "foreign": foreign})
        return
    console.print(f"[green]✓[/] rendered {len(files)} files into {escape(out)} "
                  f"({counts['written']} written, {counts['unchanged']} unchanged, {counts['removed']} removed)")
    if foreign:
        console.print(table(f"Files not written by egovops, left in place (--force): {len(foreign)}", ["file"],
                            [(f,) for f in foreign]))
    console.print(table("Artefacts", ["kind", "files"], sorted(per_kind.items())))
