"""The `egovops inventory` commands and the CLI's contract: exit codes, --json shapes, --version.

Why: scripts, CI and the other capabilities call the CLI; its exit codes (0 ok, 1 check failed,
2 bad input) and JSON documents (README "JSON output") are an interface and must not drift.
Most tests use click's CliRunner (in-process, fast); a few run the installed console script to
cover the real entry point.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import egovops
from egovops.cli.main import cli
from egovops.model import Province, load_inventory

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
INVENTORIES = {"lab": REPO / "inventories" / "lab", "anhui": REPO / "inventories" / "anhui"}
EXE = Path(sys.executable).parent / "egovops"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def run_json(*args: str, code: int = 0) -> dict:
    res = run(*args, "--json")
    assert res.exit_code == code, res.output
    return json.loads(res.stdout)


def test_version_from_the_console_script() -> None:
    res = subprocess.run([str(EXE), "--version"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0
    assert res.stdout.strip() == f"egovops, version {egovops.__version__}"


@pytest.mark.parametrize("env", sorted(INVENTORIES))
def test_validate_summary_numbers(env: str, request: pytest.FixtureRequest) -> None:
    """validate --json exits 0 and its summary counts the real province, derived from the model."""
    p: Province = request.getfixturevalue(f"{env}_province")
    doc = run_json("inventory", "validate", "--inventory", str(INVENTORIES[env]))
    s = doc["summary"]
    assert doc["ok"] is True and s["environment"] == ("lab" if env == "lab" else "production")
    assert (s["cloud_nodes"], s["cities"], s["dr_sites"], s["counties"], s["routers"]) == (17, 16, 2, 105, 122)
    planes = len(p.segments.province_city.planes)
    assert s["links"] == {"uplink": len(p.uplink.planes), "backbone": 16 * planes,
                          "county": 105 * len(p.segments.city_county.planes), "access": 19, "extra": 0}
    p2p = sum(v for k, v in s["links"].items() if k != "access")
    for fam in ("ipv4", "ipv6"):
        assert s["prefixes"][fam] == {"loopback": 123, "p2p": p2p, "service": 19}
    assert s["dr"] == {"tiers": 3, "city_pairs": 8, "provincial": 2}
    per_hosting = {"P": 1, "P+C": 17, "C": 16}
    assert s["services"] == {"catalogue": 13, "placements": sum(per_hosting[x.hosting] for x in p.services)}


@pytest.mark.parametrize("env", sorted(INVENTORIES))
def test_validate_human_summary(env: str) -> None:
    res = run("inventory", "validate", "--inventory", str(INVENTORIES[env]))
    assert res.exit_code == 0
    assert "is valid" in res.stdout
    for row in ("cloud nodes (1+16)", "counties", "routers", "prefixes v4", "prefixes v6", "services placed"):
        assert row in res.stdout
    assert "│ 105" in res.stdout and "│ 17 " in res.stdout and "│ 122" in res.stdout


@pytest.mark.parametrize("what,rows", [("nodes", 19), ("routers", 123), ("links", None), ("services", 13), ("dr", 10)])
def test_show_json(what: str, rows: int | None, lab_province: Province) -> None:
    """show --what X --json: {what, columns, rows}, every row as long as the columns, all strings."""
    doc = run_json("inventory", "show", "--inventory", str(INVENTORIES["lab"]), "--what", what)
    assert doc["what"] == what
    assert doc["rows"] and all(len(r) == len(doc["columns"]) and all(isinstance(v, str) for v in r) for r in doc["rows"])
    assert len(doc["rows"]) == (rows if rows is not None else len(lab_province.links))
    if what == "routers":
        r = lab_province.router("chuzhou-fengyang-rt")
        row = next(x for x in doc["rows"] if x[0] == r.name)
        assert row[doc["columns"].index("loopback v4")] == str(r.loopback.ipv4.ip)


def test_show_rejects_unknown_view() -> None:
    res = CliRunner().invoke(cli, ["inventory", "show", "--what", "bogus"])
    assert res.exit_code == 2


def test_render_json_and_rerender(tmp_path: Path) -> None:
    """render --json reports what it wrote; a second render writes nothing and removes nothing."""
    out = tmp_path / "out"
    doc = run_json("inventory", "render", "--inventory", str(INVENTORIES["lab"]), "--out", str(out))
    files = [p for p in out.rglob("*") if p.is_file() and p.name != ".egovops-rendered"]
    assert doc["ok"] is True and doc["out"] == str(out)
    assert doc["files"] == len(files) == sum(doc["per_kind"].values()) == doc["written"]
    assert set(doc["per_kind"]) == {"ansible", "industry", "intents", "prometheus", "pulumi"}
    # one Pulumi stack per node (17) and DR site (2), plus one per industry cloud the lab lists (lab_industry)
    clouds = len(load_inventory(INVENTORIES["lab"]).managed_industry())
    assert clouds and doc["per_kind"]["pulumi"] == 19 + clouds and doc["per_kind"]["intents"] == 123
    again = run_json("inventory", "render", "--inventory", str(INVENTORIES["lab"]), "--out", str(out))
    assert (again["written"], again["removed"], again["unchanged"]) == (0, 0, doc["files"])


def test_render_into_a_file_is_bad_input(tmp_path: Path) -> None:
    """An --out that cannot be a folder exits 2 with a message (JSON too), not a traceback."""
    target = tmp_path / "afile"
    target.write_text("x")
    assert run("inventory", "render", "--inventory", str(INVENTORIES["lab"]), "--out", str(target)).exit_code == 2
    below = target / "out"
    doc = run_json("inventory", "render", "--inventory", str(INVENTORIES["lab"]), "--out", str(below), code=2)
    assert doc["ok"] is False and doc["out"] == str(below) and doc["error"]
    assert target.read_text() == "x"


def test_render_human_output(tmp_path: Path) -> None:
    res = run("inventory", "render", "--inventory", str(INVENTORIES["lab"]), "--out", str(tmp_path / "o"))
    assert res.exit_code == 0 and "rendered" in res.stdout and "Artefacts" in res.stdout


def test_console_script_exit_codes(flat_lab: Path, tmp_path: Path) -> None:
    """The installed entry point keeps the exit codes: 0 valid, 2 invalid inventory, 2 usage error."""
    ok = subprocess.run([str(EXE), "inventory", "validate", "--inventory", str(INVENTORIES["lab"]), "--json"],
                        capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and json.loads(ok.stdout)["ok"] is True
    (flat_lab / "nodes.yaml").write_text("nodes: [\n", encoding="utf-8")
    bad = subprocess.run([str(EXE), "inventory", "render", "--inventory", str(flat_lab), "--out", str(tmp_path / "o"), "--json"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and not (tmp_path / "o").exists()
    assert json.loads(bad.stdout)["problems"][0]["kind"] == "yaml"
    usage = subprocess.run([str(EXE), "inventory", "show", "--what", "bogus"], capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2 and "bogus" in usage.stderr


def readme_section(title: str) -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"\n## {title}\n" in text, f"README has no section {title!r}"
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def keys_of(doc: object) -> set[str]:
    """Every mapping key in a JSON document, at any depth (but not inside lists)."""
    out: set[str] = set()
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.add(k)
            out |= keys_of(v)
    return out


def test_readme_documents_every_json_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every key the --json documents carry is named in README "JSON output" (docs match the code)."""
    import egovops.cli.deploy as cli_deploy
    import egovops.deploy as deploy

    section = readme_section("JSON output")
    lab = str(INVENTORIES["lab"])
    docs = [run_json("inventory", "validate", "--inventory", lab),
            run_json("inventory", "show", "--inventory", lab, "--what", "nodes"),
            run_json("inventory", "render", "--inventory", lab, "--out", str(tmp_path / "o"))]
    steps = {k: deploy.STEPS[k] for k in ("validate", "render")}
    monkeypatch.setattr(deploy, "STEPS", steps)
    monkeypatch.setattr(cli_deploy, "STEPS", steps)
    deploy_doc = run_json("deploy", "--inventory", lab, "--out", str(tmp_path / "d"))
    deploy_doc["steps"] = [{k: v for k, v in s.items() if k != "details"} for s in deploy_doc["steps"]]
    docs.append(deploy_doc)
    bad = tmp_path / "bad"
    bad.mkdir()
    docs.append(run_json("inventory", "validate", "--inventory", str(bad), code=2))
    missing = sorted({k for d in docs for k in keys_of(d) if not re.search(rf"(?<![\w-]){re.escape(k)}(?![\w-])", section)})
    assert not missing, f"README JSON output does not mention: {missing}"


def test_problems_print_literally(flat_lab: Path, tmp_path: Path) -> None:
    """A problem quotes the slug pattern '^[a-z]…': printed as text, not eaten as rich markup tags."""
    nodes = flat_lab / "nodes.yaml"
    nodes.write_text(nodes.read_text(encoding="utf-8").replace("slug: hefei,", 'slug: "[/x]",', 1), encoding="utf-8")
    pattern = "^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
    res = CliRunner().invoke(cli, ["inventory", "validate", "--inventory", str(flat_lab)])
    assert res.exit_code == 2 and pattern in res.stderr, res.output
    res = CliRunner().invoke(cli, ["deploy", "--inventory", str(flat_lab), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and pattern in res.stdout, res.output
