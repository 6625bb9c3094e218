"""`egovops net` command line: render output and exit codes for bad input (nothing is contacted or changed)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
EGOVOPS = str(REPO / ".venv" / "bin" / "egovops")


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("EGOVOPS_NET_")}
    return subprocess.run([EGOVOPS, "net", *args], cwd=REPO, capture_output=True, text=True, timeout=120,
                          env={**base, **(env or {})})


def test_render_both_vendors_json(tmp_path):
    res = cli("render", "--inventory", "inventories/anhui", "--limit", "city:chuzhou", "--out", str(tmp_path), "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["vendor"] == "huawei_vrp"                      # production inventory: VRP by default
    names = {r["router"] for r in data["routers"]}
    assert "chuzhou-rt" in names and len(names) == 1 + 8    # the city router and its 8 counties
    assert (tmp_path / "chuzhou-rt.cfg").read_text().startswith("sysname chuzhou-rt")
    again = json.loads(cli("render", "--inventory", "inventories/anhui", "--limit", "city:chuzhou", "--out",
                           str(tmp_path), "--json").stdout)
    assert not any(r["written"] for r in again["routers"])    # idempotent: nothing rewritten
    res = cli("render", "--inventory", "inventories/lab", "--vendor", "frr", "--limit", "national-rt",
              "--out", str(tmp_path))
    assert res.returncode == 0 and "router bgp 65000" in (tmp_path / "national-rt.conf").read_text()


def test_bad_input_exits_2_and_names_it(tmp_path):
    res = cli("render", "--inventory", "inventories/anhui", "--vendor", "junos")
    assert res.returncode == 2
    res = cli("render", "--inventory", "inventories/anhui", "--limit", "no-such-router", "--json", "--out", str(tmp_path))
    assert res.returncode == 2 and "no-such-router" in json.loads(res.stdout)["error"]
    res = cli("push", "--inventory", "inventories/anhui", "--limit", "city:chuzhou", "--dry-run", "--json")
    assert res.returncode == 2 and "EGOVOPS_NET_USERNAME" in json.loads(res.stdout)["error"]
    res = cli("push", "--inventory", "inventories/anhui", "--limit", "national-rt", "--json",
              env={"EGOVOPS_NET_USERNAME": "u", "EGOVOPS_NET_PASSWORD": "p"})
    assert res.returncode == 2 and "external" in json.loads(res.stdout)["error"]   # not ours to configure
    res = cli("verify", "--inventory", "inventories/anhui", "--limit", "chuzhou-rt", "--json",
              env={"EGOVOPS_NET_USERNAME": "u", "EGOVOPS_NET_PASSWORD": "p"})
    assert res.returncode == 2 and "--vantage" in json.loads(res.stdout)["error"]


def test_rollback_bad_manifest_exits_2(tmp_path):
    (tmp_path / "manifest.json").write_text("{not json")
    (tmp_path / "chuzhou-rt.cfg").write_text("sysname chuzhou-rt\n")
    res = cli("rollback", "--inventory", "inventories/anhui", "--limit", "chuzhou-rt", "--to", str(tmp_path),
              "--vantage", "none", "--json", env={"EGOVOPS_NET_USERNAME": "u", "EGOVOPS_NET_PASSWORD": "p"})
    assert res.returncode == 2, res.stderr
    assert "manifest.json" in json.loads(res.stdout)["error"]
