"""The role's rendered content from real inventories: firewall ruleset, list tasks, put procedure."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import jinja2
import pytest
import yaml

from egovops.model import load_inventory
from egovops.render import ansible

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]


def hostvars(inv: str) -> dict:
    data = yaml.safe_load(ansible.render(load_inventory(REPO / "inventories" / inv))["hosts.yaml"])["all"]
    return data["vars"]


def ruleset(v: dict) -> str:
    tpl = jinja2.Environment(loader=jinja2.FileSystemLoader(str(REPO / "roles/baseline/templates")),
                             undefined=jinja2.StrictUndefined)
    return tpl.get_template("nftables.conf.j2").render(**v)


def nft_check(text: str) -> subprocess.CompletedProcess:
    """`nft -c`: the kernel's parser checks the ruleset without loading it. It needs CAP_NET_ADMIN, so a
    non-root run checks inside a user + network namespace of its own (nothing of the machine's touched)."""
    nft = shutil.which("nft") or next((p for p in ("/usr/sbin/nft", "/sbin/nft") if Path(p).exists()), None)
    if nft is None:
        pytest.fail("nft not found: nftables is in scripts/apt-packages.txt (make bootstrap installs it)")
    cmd = [nft, "-c", "-f", "-"]
    if os.geteuid() != 0:
        cmd = ["unshare", "--user", "--map-root-user", "--net", *cmd]
    r = subprocess.run(cmd, input=text, capture_output=True, text=True, timeout=60)
    if os.geteuid() != 0 and r.returncode != 0 and "unshare" in r.stderr:
        pytest.skip(f"not root and no user namespace for nft -c here: {r.stderr.strip()}")
    return r


@pytest.mark.parametrize("inv", ["anhui", "lab"])
def test_nftables_ruleset_is_default_deny_with_inventory_services(inv):
    v = hostvars(inv)
    text = ruleset(v)
    assert "type filter hook input priority filter; policy drop;" in text
    assert "ct state established,related accept" in text
    assert text.index("ct state established,related accept") < text.index("dport 22")
    assert "nd-neighbor-solicit" in text and "nd-neighbor-advert" in text  # IPv6 keeps working
    assert v["egov_mgmt_prefixes"]["ipv4"] in text and v["egov_mgmt_prefixes"]["ipv6"] in text
    for rule in v["egov_host_firewall"]:
        if rule["from"] == "management":
            assert f"ip saddr @management_v4 {rule['proto']} dport {rule['port']} accept" in text
            assert f"ip6 saddr @management_v6 {rule['proto']} dport {rule['port']} accept" in text
        elif rule["from"] == "extranet":
            assert f"ip saddr @extranet_v4 {rule['proto']} dport {rule['port']} accept" in text
    # SSH only from the management network: no unrestricted port 22 rule
    assert not any(line.strip().startswith("tcp dport 22") for line in text.splitlines())


@pytest.mark.parametrize("inv", ["anhui", "lab"])
def test_nftables_ruleset_is_accepted_by_nft(inv):
    r = nft_check(ruleset(hostvars(inv)))
    assert r.returncode == 0, r.stderr


def test_nft_check_rejects_a_broken_ruleset():
    """The oracle above can fail: nft -c refuses a ruleset with a syntax error."""
    r = nft_check(ruleset(hostvars("lab")).replace("policy drop;", "policy dorp;", 1))
    assert r.returncode != 0 and "dorp" in r.stderr
