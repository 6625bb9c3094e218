"""Hostile input (issue 15): bad input never deletes a user's file, never crashes, never passes silently.

Why: a careless or hostile user feeds the CLI forged manifests, foreign folders, unreadable files,
symlink loops and text that looks like markup. Each class here must end in exit 2 naming the
file/key/line (or the option) with nothing written or deleted (a tree snapshot compares every
byte and link), or — for valid but awkward input such as ``[/x]`` in a name — in exit 0 with the
text printed exactly. The per-field domain cases live in the table of test_model_bad_inventories.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from egovops.cli.main import cli
from egovops.model import InventoryError, load_inventory
from egovops.render import render_all
from egovops.render.files import MANIFEST, write_tree

pytestmark = pytest.mark.unit

LAB = str(Path(__file__).resolve().parents[2] / "inventories" / "lab")


def snapshot(root: Path) -> dict[str, tuple[str, bytes]]:
    """Every entry below ``root``: files by content, symlinks by target, folders by name."""
    out: dict[str, tuple[str, bytes]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = ("link", os.readlink(p).encode())
            elif p.is_dir():
                out[rel] = ("dir", b"")
            elif not p.is_file():  # a FIFO: opening it would block
                out[rel] = ("special", b"")
            else:
                with open(p, "rb") as f:  # not Path.read_bytes: a test may inject errors there
                    out[rel] = ("file", f.read())
    return out


def run(*args: str) -> CliRunner.invoke:
    res = CliRunner().invoke(cli, list(args))
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    return res


def render(inv: Path, out: Path, *extra: str):
    return run("inventory", "render", "--inventory", str(inv), "--out", str(out), "--json", *extra)


@pytest.fixture
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """No wrapping or truncation of table cells: the test reads every character."""
    from egovops.cli import output

    monkeypatch.setattr(output.console, "_width", 1000)
    monkeypatch.setattr(output.err_console, "_width", 1000)


# ------------------------------------------------------------------ data loss: inventory render --out
@pytest.mark.parametrize("entry", ["../victim.txt", "{victim}", "a/../../victim.txt"])
def test_render_never_follows_a_forged_manifest_entry(flat_lab: Path, tmp_path: Path, entry: str) -> None:
    """A manifest naming ../victim.txt or an absolute path is refused (exit 2); with --force it is
    dropped, never unlinked."""
    out, victim = tmp_path / "out", tmp_path / "victim.txt"
    assert render(flat_lab, out).exit_code == 0
    victim.write_text("precious\n")
    line = entry.format(victim=victim)
    digest = hashlib.sha256(b"precious\n").hexdigest()
    with (out / MANIFEST).open("a") as f:
        f.write(f"{digest}  {line}\n{line}\n")
    before = snapshot(tmp_path)
    res = render(flat_lab, out)
    assert res.exit_code == 2, res.output
    doc = json.loads(res.stdout)
    assert doc["ok"] is False and doc["out"] == str(out) and any(line in f for f in doc["forged"])
    assert snapshot(tmp_path) == before
    res = render(flat_lab, out, "--force")
    assert res.exit_code == 0, res.output
    assert victim.read_text() == "precious\n"
    assert line not in (out / MANIFEST).read_text()


def test_render_refuses_a_folder_with_foreign_files_unless_forced(flat_lab: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n")
    (out / "intents").mkdir()
    (out / "intents" / "hefei-rt.json").write_text("my own edit, not generated\n")  # at a generated path
    before = snapshot(tmp_path)
    res = render(flat_lab, out)
    assert res.exit_code == 2
    doc = json.loads(res.stdout)
    assert sorted(doc["foreign"]) == ["intents/hefei-rt.json", "notes.txt"] and "--force" in doc["error"]
    assert snapshot(tmp_path) == before
    human = run("inventory", "render", "--inventory", str(flat_lab), "--out", str(out))
    assert human.exit_code == 2 and "notes.txt" in human.stderr and snapshot(tmp_path) == before
    res = render(flat_lab, out, "--force")
    assert res.exit_code == 0
    assert json.loads(res.stdout)["foreign"] == ["intents/hefei-rt.json", "notes.txt"]
    assert (out / "notes.txt").read_text() == "mine\n"


def test_render_keeps_an_edited_stale_file(flat_lab: Path, tmp_path: Path) -> None:
    """A file an earlier render wrote, then edited by someone, no longer has its hash: never removed."""
    out = tmp_path / "out"
    assert render(flat_lab, out).exit_code == 0
    edited = out / "intents" / "chuzhou-fengyang-rt.json"
    edited.write_text("hand-edited\n")
    counties = flat_lab / "counties.yaml"
    counties.write_text(counties.read_text(encoding="utf-8").replace(
        "    - {id: 6, slug: fengyang, name_zh: 凤阳县}\n", ""), encoding="utf-8")
    before = snapshot(tmp_path)
    res = render(flat_lab, out)
    assert res.exit_code == 2 and json.loads(res.stdout)["foreign"] == ["intents/chuzhou-fengyang-rt.json"]
    assert snapshot(tmp_path) == before
    assert render(flat_lab, out, "--force").exit_code == 0
    assert edited.read_text() == "hand-edited\n"


@pytest.mark.parametrize("where", ["intents/hefei-rt.json", "intents", MANIFEST])
def test_render_never_writes_through_a_symlink(flat_lab: Path, tmp_path: Path, where: str) -> None:
    """A generated path (or the manifest) that is a symlink is refused even with --force: the target survives."""
    out, victim = tmp_path / "out", tmp_path / "victim"
    assert render(flat_lab, out).exit_code == 0
    victim.mkdir()
    (victim / "hefei-rt.json").write_text("precious\n")
    link = out / where
    shutil.rmtree(link) if link.is_dir() else link.unlink()
    link.symlink_to(victim if where == "intents" else victim / "hefei-rt.json")
    before = snapshot(tmp_path)
    for extra in ((), ("--force",)):
        res = render(flat_lab, out, *extra)
        assert res.exit_code == 2 and where in json.loads(res.stdout)["blocked"], res.output
        assert snapshot(tmp_path) == before


def test_render_still_removes_what_it_proved_it_wrote(flat_lab: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert render(flat_lab, out).exit_code == 0
    counties = flat_lab / "counties.yaml"
    counties.write_text(counties.read_text(encoding="utf-8").replace(
        "    - {id: 6, slug: fengyang, name_zh: 凤阳县}\n", ""), encoding="utf-8")
    res = render(flat_lab, out)
    assert res.exit_code == 0 and json.loads(res.stdout)["removed"] == 1
    assert not (out / "intents" / "chuzhou-fengyang-rt.json").exists()


def test_a_manifest_from_before_hashes_still_works(flat_lab: Path, tmp_path: Path) -> None:
    """Upgrade: paths-only manifests are trusted for files that carry the generated header, only."""
    out = tmp_path / "out"
    files = render_all(load_inventory(flat_lab))
    write_tree(files, out)
    (out / MANIFEST).write_text("".join(f"{rel}\n" for rel in sorted(files)) + "notes.txt\n")
    (out / "notes.txt").write_text("listed, but no header: not ours\n")
    (out / "intents" / "gone-rt.json").write_text('{"_generated": "Generated by `egovops inventory render` ..."}\n')
    with (out / MANIFEST).open("a") as f:
        f.write("intents/gone-rt.json\n")
    counts = write_tree(files, out, force=True)
    assert counts["removed"] == 1 and not (out / "intents" / "gone-rt.json").exists()
    assert (out / "notes.txt").is_file() and counts["foreign"] == 1


# ------------------------------------------------------------------ data loss: stacks config --out
def stacks_config(inv: Path, out: Path, *extra: str):
    return run("stacks", "config", "--inventory", str(inv), "--out", str(out), "--json", *extra)


def test_stacks_config_never_deletes_a_users_stack_file(flat_lab: Path, tmp_path: Path) -> None:
    out = tmp_path / "stacks"
    out.mkdir()
    (out / "Pulumi.yaml").write_text("name: egov\n")     # the project file: not a stack config
    (out / "Pulumi.dev.yaml").write_text("config: {}\n")  # a user's own stack
    before = snapshot(tmp_path)
    res = stacks_config(flat_lab, out)
    assert res.exit_code == 2 and "Pulumi.dev.yaml" in json.loads(res.stdout)["problems"]
    assert snapshot(tmp_path) == before
    res = stacks_config(flat_lab, out, "--force")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    stacks = 19 + len(load_inventory(flat_lab).managed_industry())   # nodes, DR sites, the lab's industry clouds
    assert doc["foreign"] == ["Pulumi.dev.yaml"] and doc["removed"] == [] and len(doc["written"]) == stacks
    assert (out / "Pulumi.dev.yaml").read_text() == "config: {}\n" and (out / "Pulumi.yaml").is_file()
    # a forged manifest entry for the user's file (wrong hash) still deletes nothing
    with (out / ".egovops-stacks").open("a") as f:
        f.write(f"{'0' * 64}  Pulumi.dev.yaml\n")
    assert stacks_config(flat_lab, out, "--force").exit_code == 0
    assert (out / "Pulumi.dev.yaml").read_text() == "config: {}\n"


def test_stacks_config_removes_its_own_stale_stack_file(flat_lab: Path, tmp_path: Path) -> None:
    out = tmp_path / "stacks"
    assert stacks_config(flat_lab, out).exit_code == 0
    text = (out / "Pulumi.hefei.yaml").read_text()
    (out / "Pulumi.gone.yaml").write_text(text)  # as if a node "gone" had been rendered before
    with (out / ".egovops-stacks").open("a") as f:
        f.write(f"{hashlib.sha256(text.encode()).hexdigest()}  Pulumi.gone.yaml\n")
    res = stacks_config(flat_lab, out)
    assert res.exit_code == 0 and json.loads(res.stdout)["removed"] == ["Pulumi.gone.yaml"]
    assert not (out / "Pulumi.gone.yaml").exists()


# ------------------------------------------------------------------ tracebacks: the loading boundary
def validate_json(inv: Path):
    res = run("inventory", "validate", "--inventory", str(inv), "--json")
    return res.exit_code, json.loads(res.stdout)


def child_of(base: Path, tmp_path: Path, base_line: str | None = None) -> Path:
    child = tmp_path / "child"
    child.mkdir()
    (child / "inventory.yaml").write_text(
        "name: child\nname_zh: 子\nenvironment: lab\nversion: test\nbase: " + (base_line or str(base)) + "\n")
    return child


def test_unreadable_file_is_a_named_problem(flat_lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A permission error while reading (tests run as root, so the OS error is injected) is a problem."""
    target = (flat_lab / "links.yaml").resolve()
    real = Path.read_bytes

    def denied(self: Path) -> bytes:
        if self.resolve() == target:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", denied)
    before = snapshot(tmp_path)
    code, doc = validate_json(flat_lab)
    assert code == 2
    (p,) = [p for p in doc["problems"] if p["file"].endswith("links.yaml")]
    assert p["kind"] == "unreadable" and "Permission denied" in p["message"]
    assert snapshot(tmp_path) == before


def test_unlistable_base_folder_is_a_named_problem(flat_lab: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    child = child_of(flat_lab, tmp_path)
    real = Path.is_dir

    def denied(self: Path) -> bool:
        if self == flat_lab.resolve():
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "is_dir", denied)
    code, doc = validate_json(child)
    assert code == 2
    (p,) = doc["problems"]
    assert (p["file"].endswith("child/inventory.yaml"), p["path"], p["line"], p["kind"]) == (True, "base", 5, "unreadable")


def test_base_symlink_loop_is_a_named_problem(tmp_path: Path) -> None:
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    child = child_of(loop, tmp_path)
    before = snapshot(tmp_path)
    code, doc = validate_json(child)
    assert code == 2
    (p,) = doc["problems"]
    assert (p["path"], p["line"], p["kind"]) == ("base", 5, "unreadable") and "loop" in p["message"].lower()
    res = run("inventory", "render", "--inventory", str(child), "--out", str(tmp_path / "o"))
    assert res.exit_code == 2 and snapshot(tmp_path) == before


@pytest.mark.parametrize("how", ["folder", "dangling-symlink", "fifo"])
def test_an_override_that_is_no_file_is_never_replaced_by_the_base(flat_lab: Path, tmp_path: Path, how: str) -> None:
    child = child_of(flat_lab, tmp_path)
    target = child / "zones.yaml"
    if how == "folder":
        target.mkdir()
    elif how == "fifo":
        os.mkfifo(target)  # reading it would block forever
    else:
        target.symlink_to(tmp_path / "nowhere.yaml")
    before = snapshot(tmp_path)
    code, doc = validate_json(child)
    assert code == 2
    (p,) = doc["problems"]
    assert Path(p["file"]).resolve() == target.resolve() or Path(p["file"]).name == "zones.yaml"
    assert p["kind"] == "unreadable" and str(child) in str(Path(p["file"]).absolute())
    assert snapshot(tmp_path) == before


def test_a_huge_file_is_refused_quickly(flat_lab: Path) -> None:
    """50 MB (sparse: no disk used) is refused by its size before a byte is parsed."""
    import time

    with (flat_lab / "counties.yaml").open("r+b") as f:
        f.truncate(50 * 1024 * 1024)
    t0 = time.process_time()
    code, doc = validate_json(flat_lab)
    assert code == 2 and time.process_time() - t0 < 2.0
    assert [p["kind"] for p in doc["problems"] if p["file"].endswith("counties.yaml")] == ["too-large"]


# ------------------------------------------------------------------ valid YAML still loads
def test_merge_keys_load_and_render_identically(flat_lab: Path, tmp_path: Path) -> None:
    ref = render_all(load_inventory(flat_lab))
    links = flat_lab / "links.yaml"
    text = links.read_text(encoding="utf-8")
    old = ("  province_city:                  # province -> city backbone\n    planes: [data, video]\n    bandwidth: 1Gbps\n"
           "  city_county:                    # city -> county backbone\n    planes: [data, video]\n    bandwidth: 1Gbps\n")
    assert old in text
    links.write_text(text.replace(old, "  province_city: &backbone\n    planes: [data, video]\n    bandwidth: 1Gbps\n"
                                       "  city_county:\n    <<: *backbone\n    bandwidth: 1Gbps\n"), encoding="utf-8")
    assert render_all(load_inventory(flat_lab)) == ref


def test_crlf_and_bom_inventories_render_identically(flat_lab: Path) -> None:
    ref = render_all(load_inventory(flat_lab))
    for f in flat_lab.iterdir():
        f.write_bytes(b"\xef\xbb\xbf" + f.read_bytes().replace(b"\n", b"\r\n"))
    assert render_all(load_inventory(flat_lab)) == ref


# ------------------------------------------------------------------ output: data is printed literally
def test_markup_in_names_and_paths_prints_literally(flat_lab: Path, tmp_path: Path, wide: None) -> None:
    """``[/x]`` in a name or an --out path was read as rich markup and crashed validate/show/render."""
    nodes = flat_lab / "nodes.yaml"
    nodes.write_text(nodes.read_text(encoding="utf-8").replace("name_zh: 合肥,", 'name_zh: "合肥[/x][bold]:a:",', 1),
                     encoding="utf-8")
    meta = flat_lab / "inventory.yaml"
    meta.write_text(meta.read_text(encoding="utf-8").replace("name_zh: 安徽省电子政务(实验环境)", "name_zh: '[/]安徽'"),
                    encoding="utf-8")
    assert load_inventory(flat_lab).node("hefei").name_zh == "合肥[/x][bold]:a:"
    assert run("inventory", "validate", "--inventory", str(flat_lab)).exit_code == 0
    res = run("inventory", "show", "--inventory", str(flat_lab), "--what", "nodes")
    assert res.exit_code == 0 and "合肥[/x][bold]:a:" in res.stdout
    out = tmp_path / "o[/x]:b:"
    res = run("inventory", "render", "--inventory", str(flat_lab), "--out", str(out))
    assert res.exit_code == 0 and str(out) in res.stdout.replace("\n", "")
    res = run("stacks", "config", "--inventory", str(flat_lab), "--out", str(tmp_path / "s[/x]"))
    assert res.exit_code == 0 and str(tmp_path / "s[/x]") in res.stdout.replace("\n", "")


@pytest.mark.parametrize("what", ["nodes", "routers", "links"])
def test_every_ipv6_address_prints_exactly(what: str, lab_province, wide: None) -> None:
    """rich's emoji codes turned fd00:34:1:a::/64 into fd00:34:1🅰:/64 (:a:, :b:, :id: ...)."""
    res = run("inventory", "show", "--inventory", lab_province.source, "--what", what)
    assert res.exit_code == 0
    p = lab_province
    if what == "nodes":
        wanted = [str(n.service_v6) for n in p.nodes] + [str(n.management.ipv6.ip) for n in p.nodes]
    elif what == "routers":
        wanted = [str(r.loopback.ipv6.ip) for r in p.routers]
    else:
        wanted = [str(link.a.address.ipv4) for link in p.links]
    missing = [w for w in wanted if f" {w} " not in res.stdout]
    assert not missing, missing[:5]
    assert any(":a:" in w or w.endswith(":a::/64") for w in wanted) or what != "nodes"
    assert "🅰" not in res.stdout and "🅱" not in res.stdout


def test_messages_print_addresses_exactly(wide: None) -> None:
    """Messages (not tables) carry user text too: an unknown stack named like an address is echoed as is."""
    res = run("stacks", "preview", "--stack", "fd00:34:1:a::/64", "--stack", "x:b:[/y]")
    assert res.exit_code == 2
    assert "fd00:34:1:a::/64" in res.stderr and "x:b:[/y]" in res.stderr and "🅰" not in res.stderr


def test_net_render_table_prints_paths_exactly(tmp_path: Path, wide: None) -> None:
    """The router-config table carries the --out path in every row."""
    out = tmp_path / "n[/x]:a:b:"
    res = run("net", "render", "--inventory", LAB, "--limit", "chuzhou-rt", "--out", str(out))
    assert res.exit_code == 0, res.output
    assert f"{out}/chuzhou-rt" in res.stdout and "🅰" not in res.stdout


def test_styled_cells_keep_our_markup_only() -> None:
    from rich.console import Console

    from egovops.cli.output import styled, table

    c = Console(width=200, record=True, emoji=False)
    c.print(table("t", ["a", "b"], [("[/x] fd00:34:1:a::/64", styled("[green]up[/]"))]))
    text = c.export_text()
    assert "[/x] fd00:34:1:a::/64" in text and " up " in text and "[green]" not in text


# ------------------------------------------------------------------ waivers are read like inventories
WAIVER = "  - {control: L3-CES3-01, hosts: '*', reason: r, approver: a, expires: EXP}\n"


@pytest.mark.parametrize("text, needle", [
    ("waivers:\n" + WAIVER.replace("EXP", "2026-02-30"), ":2: not valid YAML: a value cannot be read as its type"),
    ("waivers:\n" + WAIVER.replace("EXP", "2030-01-01") + "waivers: []\n", "duplicate key 'waivers'"),
    ("waivers:\n  - {control: L3-CES3-01, control: L3-CES3-02, hosts: '*', reason: r, approver: a, expires: 2030-01-01}\n",
     "duplicate key 'control'"),
    ("waivers:\n" + WAIVER.replace("EXP", "2030-01-01") * 2, ":3 waiver #2: the same control and hosts as waiver #1"),
])
def test_bad_waivers_are_named_with_their_line(tmp_path: Path, text: str, needle: str) -> None:
    from egovops.compliance import waivers as wv
    from egovops.compliance.catalogue import load

    w = tmp_path / "w.yaml"
    w.write_text(text)
    with pytest.raises(wv.WaiverError) as err:
        wv.load(w, load())
    assert any(needle in p for p in err.value.problems), err.value.problems


def test_comply_with_an_impossible_waiver_date_exits_2(tmp_path: Path, flat_lab: Path) -> None:
    w = tmp_path / "w.yaml"
    w.write_text("waivers:\n" + WAIVER.replace("EXP", "2026-02-30"))
    res = run("comply", "--inventory", str(flat_lab), "--waivers", str(w), "--json")
    assert res.exit_code == 2
    assert any(f"{w}:2" in p for p in json.loads(res.stdout)["problems"])


# ------------------------------------------------------------------ options
@pytest.mark.parametrize("limit", [" , ", "", ",", "!"])
def test_an_empty_limit_selects_nothing_and_is_refused(limit: str, tmp_path: Path) -> None:
    """--limit ' , ' selected every device (for a push: every router)."""
    out = tmp_path / "net"
    res = CliRunner().invoke(cli, ["net", "render", "--inventory", LAB, "--limit", limit,
                                   "--out", str(out)])
    assert res.exit_code == 2 and "--limit" in res.output and "names no device" in res.output
    assert not out.exists()


def test_reserved_namespaces_cover_the_stacks() -> None:
    """The model's reserved names are the namespaces the stacks create (drift would let a service merge in)."""
    from egovops.model.schema import RESERVED_NAMESPACES
    from egovops.stacks.components.cloud_node import MONITORING_NS, VELERO_NS

    assert {MONITORING_NS, VELERO_NS} <= RESERVED_NAMESPACES


def test_inventory_errors_never_escape_as_other_exceptions(flat_lab: Path) -> None:
    """The boundary turns every odd value into an InventoryError (the loader raises nothing else)."""
    (flat_lab / "nodes.yaml").write_text("nodes: !!set {a, b}\n")
    (flat_lab / "zones.yaml").write_text("zones: !!binary 'AAAA'\nflows: []\nhost_firewall: []\n")
    with pytest.raises(InventoryError) as err:
        load_inventory(flat_lab)
    assert {Path(p.file).name for p in err.value.problems} >= {"nodes.yaml", "zones.yaml"}
