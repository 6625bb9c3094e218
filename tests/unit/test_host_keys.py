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
    # the session builds netmiko's driver class itself (its SSH client gets only this host's keys)
    monkeypatch.setattr(device, "_verified_class", lambda device_type: fake)
    t = device.Target(name="r1", vendor="frr", host="198.18.0.1", known_hosts="/x/known_hosts")
    with pytest.raises(device.DeviceError):
        device.open_session(t, Credentials("u", Secret("p"), "test"))
    assert seen["ssh_strict"] is True and seen["alt_host_keys"] is True and seen["alt_key_file"] == "/x/known_hosts"
    assert seen["system_host_keys"] is False


def test_the_verified_client_knows_only_this_hosts_keys_and_rejects_unknown(tmp_path):
    """The SSH client netmiko gets trusts the target's own known_hosts lines and nothing else, and
    refuses an unknown key (RejectPolicy), so a device cannot log in on another device's key."""
    import paramiko

    from egovops.network import device

    a, b = paramiko.ECDSAKey.generate(), paramiko.ECDSAKey.generate()
    kh = tmp_path / "known_hosts"
    kh.write_text(f"198.18.0.1 {a.get_name()} {a.get_base64()}\n198.18.0.2 {b.get_name()} {b.get_base64()}\n")
    cls = device._verified_class("linux")
    conn = cls.__new__(cls)   # no connection: only the client it would use
    conn.host, conn.port = "198.18.0.1", 22
    conn.alt_host_keys, conn.alt_key_file, conn.system_host_keys = True, str(kh), False
    conn.key_policy = paramiko.RejectPolicy()
    client = conn._build_ssh_client()
    keys = client.get_host_keys()
    assert keys.lookup("198.18.0.1") is not None
    assert keys.lookup("198.18.0.1")[a.get_name()].get_base64() == a.get_base64()
    assert keys.lookup("198.18.0.2") is None
    assert isinstance(client._policy, paramiko.RejectPolicy)
