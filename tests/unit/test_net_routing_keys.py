"""Routing-protocol keys: domains, where they come from, that only the push path renders them, masking."""

from __future__ import annotations

from pathlib import Path

import pytest

from egovops.model import load_inventory
from egovops.network import render as R
from egovops.network import routing_keys as K
from egovops.network.credentials import MASK, CredentialError
from egovops.render.intents import intent

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
GOOD = {"EGOVOPS_OSPF_KEY": "Ospf2Key0123456", "EGOVOPS_OSPF6_KEY": "Ospf3KeyAbcdefgh1234", "EGOVOPS_BGP_KEY": "BgpKeyXyz98765432"}


@pytest.fixture(scope="module")
def lab():
    return load_inventory(REPO / "inventories" / "lab")


def test_environment_wins_and_hides_itself():
    k = K.load(None, env=GOOD)
    assert k.source == "environment"
    assert k.ospf.reveal() == GOOD["EGOVOPS_OSPF_KEY"]
    assert GOOD["EGOVOPS_BGP_KEY"] not in repr(k) and set(k.as_dict().values()) == {MASK, "environment"}


@pytest.mark.parametrize("var,value,why", [
    ("EGOVOPS_OSPF_KEY", "x" * 17, "8-16"),          # RFC 2328: MD5 key at most 16 bytes
    ("EGOVOPS_BGP_KEY", "short", "8-80"),
    ("EGOVOPS_OSPF6_KEY", "has space inside", "printable"),
    ("EGOVOPS_BGP_KEY", "bang!bang!bang", "printable"),
])
def test_bad_keys_are_refused_naming_the_variable_not_the_value(var, value, why):
    with pytest.raises(CredentialError) as e:
        K.load(None, env={**GOOD, var: value})
    assert var in str(e.value) and why in str(e.value) and value not in str(e.value)


def test_missing_keys_fail_closed():
    with pytest.raises(CredentialError, match="EGOVOPS_OSPF_KEY"):
        K.load(None, env={"EGOVOPS_OSPF_KEY": GOOD["EGOVOPS_OSPF_KEY"]})


def test_vault_file(tmp_path):
    import yaml
    from ansible.parsing.vault import VaultLib, VaultSecret

    body = VaultLib([("default", VaultSecret(b"vpw"))]).encrypt(
        yaml.safe_dump({"ospf": "Aa345678", "ospf6": "Bb345678", "bgp": "Cc345678"}).encode())
    (tmp_path / "keys.vault").write_bytes(body)
    k = K.load(None, env={"EGOVOPS_ROUTING_VAULT": str(tmp_path / "keys.vault"), "EGOVOPS_NET_VAULT_PASSWORD": "vpw"})
    assert (k.ospf.reveal(), k.ospf6.reveal(), k.bgp.reveal()) == ("Aa345678", "Bb345678", "Cc345678")
    with pytest.raises(CredentialError, match="cannot decrypt"):
        K.load(None, env={"EGOVOPS_ROUTING_VAULT": str(tmp_path / "keys.vault"), "EGOVOPS_NET_VAULT_PASSWORD": "no"})


def test_generated_keys_are_in_their_domains():
    for _ in range(20):
        vals = K.lab_generated()
        for f, v in vals.items():
            assert K.check(f, v, "t") == v
        assert len(set(vals.values())) == 3


@pytest.mark.parametrize("vendor", R.VENDORS)
def test_render_uses_keys_only_when_given(lab, vendor):
    it = intent(lab, lab.router("province-rt"))
    keys = K.load(None, env=GOOD).values()
    plain, real = R.render_intent(it, vendor), R.render_intent(it, vendor, keys)
    for v in GOOD.values():
        assert v not in plain and v in real
    for p in K.PLACEHOLDERS.values():
        assert p in plain and p not in real
    # the managed industry clouds' links (OSPF) or sessions (BGP) carry their own keys, derived from these
    for c in lab.managed_industry():
        derived = {str(v) for f, v in K.industry_values(keys, c.slug).items() if f != "key_id"}
        assert not derived & set(GOOD.values()) and not any(v in plain for v in derived)
        assert any(v in real for v in derived), c.slug
    secrets = set(GOOD.values()) | {str(v) for c in lab.managed_industry()
                                    for f, v in K.industry_values(keys, c.slug).items() if f != "key_id"}
    # every key line is masked by the pattern, in both vendors' syntax
    masked = K.mask_lines(real.splitlines())
    assert not any(v in line for line in masked for v in secrets)
    assert sum(MASK in line for line in masked) == sum(any(v in line for v in secrets) for line in real.splitlines()) > 0


@pytest.mark.parametrize("vendor", R.VENDORS)
def test_national_uplink_session_protection(lab, vendor):
    """Every eBGP session has TCP-MD5, GTSM (one hop) and a prefix limit (national: the uplink's, a managed
    industry cloud's: its own max_prefix); every OSPF link auth."""
    text = R.render_intent(intent(lab, lab.router("province-rt")), vendor)
    sessions = intent(lab, lab.router("province-rt"))["bgp"]
    assert [n for n in sessions if not n.get("industry")]
    assert {n["industry"] for n in sessions if n.get("industry")} == {c.slug for c in lab.managed_industry() if c.routing == "bgp"}
    for n in sessions:
        for v, a in ((4, n["ipv4"]), (6, n["ipv6"])):
            limit = n["max_prefix"] if n.get("industry") else K.SESSION[f"max_prefix_v{v}"]
            if vendor == "frr":
                need = [f"neighbor {a} password", f"neighbor {a} ttl-security hops 1", f"neighbor {a} maximum-prefix {limit}"]
            else:
                need = [f"peer {a} password cipher", f"peer {a} valid-ttl-hops 1", f"peer {a} route-limit {limit}"]
            for line in need:
                assert line in text, (vendor, line)
    it = intent(lab, lab.router("chuzhou-rt"))
    text = R.render_intent(it, vendor)
    active = [i for i in it["interfaces"] if i.get("ospf_area") is not None and not i["ospf_passive"]]
    needle = ("ip ospf message-digest-key 1 md5", "ipv6 ospf6 authentication key-id 1") if vendor == "frr" else \
        ("ospf authentication-mode md5 1 cipher", "ospfv3 authentication-mode hmac-sha256 key-id 1")
    for n in needle:
        assert text.count(n) == len(active) > 0


def test_diff_lines_mask_wrong_keys_too():
    assert K.mask_line("-  ip ospf message-digest-key 1 md5 OLDKEY") == f"-  ip ospf message-digest-key 1 md5 {MASK}"
    assert K.mask_line("+  neighbor 198.18.64.0 password s3cr3t") == f"+  neighbor 198.18.64.0 password {MASK}"
    assert K.mask_line(" peer fd00::1 password cipher %^abc") == f" peer fd00::1 password cipher {MASK}"
    assert K.mask_line("  ip ospf cost 10") == "  ip ospf cost 10"
