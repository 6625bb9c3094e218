"""Router credentials: environment, Ansible vault, lab secrets; never printed, scrubbed from logs."""

from __future__ import annotations

import logging

import pytest

from egovops.network import credentials as C

pytestmark = pytest.mark.unit

CANARY = "canary-Pw-7f3a9c"


def test_environment_wins_and_never_prints():
    c = C.load(env={"EGOVOPS_NET_USERNAME": "ops", "EGOVOPS_NET_PASSWORD": CANARY})
    assert c.username == "ops" and c.password.reveal() == CANARY and c.source == "environment"
    for text in (repr(c), str(c), str(c.password), repr(c.password), str(c.as_dict())):
        assert CANARY not in text


def test_vault_file(tmp_path):
    vault = tmp_path / "net.vault"
    vault.write_bytes(C.encrypt_vault("vaultuser", CANARY, "vault-pass"))
    assert CANARY not in vault.read_text()                      # encrypted at rest
    pwfile = tmp_path / "vpw"
    pwfile.write_text("vault-pass\n")
    c = C.load(env={"EGOVOPS_NET_VAULT": str(vault), "EGOVOPS_NET_VAULT_PASSWORD_FILE": str(pwfile)})
    assert (c.username, c.password.reveal()) == ("vaultuser", CANARY)
    assert c.source == f"vault {vault}"


def test_wrong_vault_password_names_the_file_not_the_secret(tmp_path):
    vault = tmp_path / "net.vault"
    vault.write_bytes(C.encrypt_vault("u", CANARY, "right"))
    with pytest.raises(C.CredentialError) as e:
        C.load(env={"EGOVOPS_NET_VAULT": str(vault), "EGOVOPS_NET_VAULT_PASSWORD": "not-the-pass-x1"})
    assert str(vault) in str(e.value) and CANARY not in str(e.value) and "not-the-pass-x1" not in str(e.value)


def test_vault_without_its_password_is_refused(tmp_path):
    with pytest.raises(C.CredentialError, match="EGOVOPS_NET_VAULT_PASSWORD"):
        C.load(env={"EGOVOPS_NET_VAULT": str(tmp_path / "x")})


def test_nothing_configured_says_where_to_put_them():
    with pytest.raises(C.CredentialError, match="EGOVOPS_NET_USERNAME"):
        C.load(env={})


def test_redaction_filter_scrubs_every_record(caplog):
    c = C.load(env={"EGOVOPS_NET_USERNAME": "ops", "EGOVOPS_NET_PASSWORD": CANARY})
    f = C.install_redaction(c)
    caplog.handler.addFilter(f)
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("paramiko.transport").debug("auth with password %s", CANARY)
        logging.getLogger("netmiko").info(f"sent {CANARY}")
    assert caplog.records and all(CANARY not in r.getMessage() for r in caplog.records)
    assert CANARY not in caplog.text and C.MASK in caplog.text
