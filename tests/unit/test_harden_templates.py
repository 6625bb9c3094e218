"""The role's rendered content from real inventories: firewall ruleset, list tasks, put procedure."""

from __future__ import annotations

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


@pytest.mark.parametrize("inv", ["anhui", "lab"])
def test_nftables_ruleset_is_default_deny_with_inventory_services(inv):
    v = hostvars(inv)
    tpl = jinja2.Environment(loader=jinja2.FileSystemLoader(str(REPO / "roles/baseline/templates")),
                             undefined=jinja2.StrictUndefined)
    text = tpl.get_template("nftables.conf.j2").render(**v)
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
    assert not any(l.strip().startswith("tcp dport 22") for l in text.splitlines())
    nft = shutil.which("nft")
    if nft:
        r = subprocess.run([nft, "-c", "-f", "-"], input=text, capture_output=True, text=True)
        if "Operation not permitted" not in r.stderr:
            assert r.returncode == 0, r.stderr
