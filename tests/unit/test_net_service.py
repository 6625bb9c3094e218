"""The network service layer: wave defaults per environment, bad wave options are bad input before
any device is contacted, and the read-only one-router diff used by drift checks."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from egovops.model import load_inventory
from egovops.network import service
from egovops.network.credentials import Credentials, Secret
from egovops.network.device import Target

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
ANHUI = REPO / "inventories" / "anhui"
LAB = REPO / "inventories" / "lab"


# routing-protocol keys for inventories that need them (test values, never real ones)
KEYS = {"EGOVOPS_OSPF_KEY": "t3stOspfKey1", "EGOVOPS_OSPF6_KEY": "t3stOspf6Key1", "EGOVOPS_BGP_KEY": "t3stBgpKey1"}


@pytest.fixture(scope="module")
def anhui():
    return load_inventory(ANHUI)


@pytest.fixture(autouse=True)
def routing_keys(monkeypatch):
    for k, v in KEYS.items():
        monkeypatch.setenv(k, v)


def test_wave_defaults_are_safe_in_production_fast_in_the_lab(anhui):
    prod = service.wave_settings(service.PushRequest(province=anhui), 122)
    assert prod == {"canary": 1, "batch": "10%", "batch_size": 13, "max_fail": 1}
    lab = service.wave_settings(service.PushRequest(province=load_inventory(LAB)), 123)
    assert lab == {"canary": 0, "batch": "100%", "batch_size": 123, "max_fail": None}
    own = service.wave_settings(service.PushRequest(province=anhui, canary=3, batch="20", max_fail=None), 122)
    assert own == {"canary": 3, "batch": "20", "batch_size": 20, "max_fail": None}


@pytest.mark.parametrize("kw", [{"batch": "0"}, {"batch": "150%"}, {"canary": -1}, {"max_fail": 0}])
def test_bad_wave_options_are_bad_input(anhui, kw):
    with pytest.raises(service.NetInputError):
        service.wave_settings(service.PushRequest(province=anhui, **kw), 122)


def test_cli_bad_batch_exits_2_before_any_device_is_contacted(tmp_path):
    env = {**os.environ, **KEYS, "EGOVOPS_NET_USERNAME": "u", "EGOVOPS_NET_PASSWORD": "p",
           "EGOVOPS_LOCK_DIR": str(tmp_path / "locks")}
    exe = str(REPO / ".venv" / "bin" / "egovops")
    for extra in (["--batch", "0"], ["--max-fail", "0"], ["--canary", "-2"]):
        res = subprocess.run([exe, "net", "push", "--inventory", str(ANHUI), "--vantage", "none", "--json",
                              "--timeout", "1", *extra], cwd=tmp_path, capture_output=True, text=True, timeout=60, env=env)
        assert res.returncode == 2, (extra, res.stdout[-500:], res.stderr[-500:])
        assert not (tmp_path / "build").exists()                    # no report, no rollback folder
    res = subprocess.run([exe, "net", "push", "--inventory", str(ANHUI), "--vantage", "none", "--json", "--batch", "0"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60, env=env)
    assert "--batch '0'" in json.loads(res.stdout)["error"]


def test_router_diff_is_read_only(anhui):
    seen: list[str] = []

    class S:
        def __init__(self, target: Target, creds) -> None:
            self.target = target

        def running_config(self):
            seen.append("read")
            return "sysname chuzhou-rt\n"

        def apply(self, commands):
            raise AssertionError("router_diff must never apply")

        def close(self):
            seen.append("close")

    r = service.router_diff(anhui, "chuzhou-rt", creds=Credentials("u", Secret("p"), "test"), opener=S)
    assert r.status == "would-change" and r.diff and seen == ["read", "close"]
