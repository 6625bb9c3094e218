"""Host keys are verified on every SSH path (issue 11): no code turns checking off, and the
known_hosts file each client gets is the lab's own or the operator's, never none at all."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from egovops.lab import known_hosts as kh
from egovops.model import load_inventory

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
# ways to switch host-key verification off, in ssh, Ansible, paramiko and netmiko spellings
DISABLING = re.compile(r"StrictHostKeyChecking[= ]+no|UserKnownHostsFile[= ]+/dev/null|AutoAddPolicy|"
                       r"HOST_KEY_CHECKING\W+False|host_key_checking\s*[:=]\s*(False|false|no)|ssh_strict\s*=\s*False|"
                       r"IgnorePolicy|WarningPolicy")
ALLOWED = {"egovops/lab/README.md", "tests/unit/test_host_keys.py", "egovops/dr/remote.py"}  # docs naming what is forbidden


def test_no_code_path_disables_host_key_checking():
    offenders = []
    for top in ("egovops", "roles", "tests", "bench", "scripts", "stacks", "charts"):
        for f in (REPO / top).rglob("*"):
            if not f.is_file() or f.suffix in (".pyc",) or "__pycache__" in f.parts:
                continue
            rel = str(f.relative_to(REPO))
            if rel in ALLOWED:
                continue
            try:
                text = f.read_text()
            except (UnicodeDecodeError, OSError):
                continue
            offenders += [f"{rel}: {m.group(0)}" for m in DISABLING.finditer(text)]
    assert not offenders, offenders


def test_the_runner_rejects_unknown_keys():
    text = (REPO / "egovops" / "compliance" / "runner.py").read_text()
    assert "RejectPolicy()" in text and "StrictHostKeyChecking no" not in text


def test_production_uses_the_operators_file(monkeypatch, tmp_path):
    p = load_inventory(REPO / "inventories" / "anhui")
    monkeypatch.setenv("EGOVOPS_KNOWN_HOSTS", str(tmp_path / "kh"))
    assert kh.for_ssh(p) == str(tmp_path / "kh")
    with pytest.raises(kh.KnownHostsError, match="EGOVOPS_KNOWN_HOSTS"):
        kh.path_for(p)                       # named but missing: an error, not "accept anything"
    (tmp_path / "kh").write_text("")
    assert kh.path_for(p) == tmp_path / "kh"
    monkeypatch.delenv("EGOVOPS_KNOWN_HOSTS")
    assert kh.for_ssh(p) is None             # clients then read ~/.ssh/known_hosts strictly


def test_netmiko_is_strict(monkeypatch):
    """The device session asks netmiko for strict checking against the target's file."""
    import netmiko

    from egovops.network import device
    from egovops.network.credentials import Credentials, Secret

    seen = {}

    def fake(**params):
        seen.update(params)
        raise RuntimeError("stop")

    monkeypatch.setattr(netmiko, "ConnectHandler", fake)
    t = device.Target(name="r1", vendor="frr", host="198.18.0.1", known_hosts="/x/known_hosts")
    with pytest.raises(device.DeviceError):
        device.open_session(t, Credentials("u", Secret("p"), "test"))
    assert seen["ssh_strict"] is True and seen["alt_host_keys"] is True and seen["alt_key_file"] == "/x/known_hosts"
    assert seen["system_host_keys"] is False
