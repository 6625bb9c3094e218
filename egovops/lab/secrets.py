"""The lab's credentials, generated at ``lab up`` and kept under ``.lab/<name>/secrets/`` (0700/0600).

* ``id_ed25519`` (+ ``.pub``): the key that logs in to every host (the inventory's admin account,
  ``zones.yaml`` ``host_access.admin_user``; never root) and router (the net user).
* ``host-admin.env``: ``EGOVOPS_BECOME_PASSWORD``, the admin account's sudo password (random; its
  SHA-512 crypt hash is set in each host's /etc/shadow at ``lab up``; read by egovops.harden.login).
* ``router-credentials.env``: ``EGOVOPS_NET_USERNAME`` / ``EGOVOPS_NET_PASSWORD`` for the routers'
  login user (random password; its SHA-512 crypt hash is what the routers' sshd checks).
Never printed, never committed (``.lab/`` is ignored). Re-running keeps existing credentials.
"""

from __future__ import annotations

import os
import secrets as _secrets
from pathlib import Path

from egovops.lab.paths import secrets_dir
from egovops.lab.sh import run
from egovops.model.province import Province

NET_USERNAME = "netops"


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)


def ensure(province: Province) -> Path:
    """Create the key pair and router credentials if missing; return the secrets folder."""
    d = secrets_dir(province)
    d.mkdir(parents=True, exist_ok=True)
    os.chmod(d, 0o700)
    key = d / "id_ed25519"
    if not key.exists() or not key.with_suffix(".pub").exists():
        for p in (key, key.with_suffix(".pub")):
            p.unlink(missing_ok=True)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"egovops-lab-{province.meta.name}", "-f", str(key)])
    os.chmod(key, 0o600)
    creds = d / "router-credentials.env"
    if not creds.exists():
        _write_private(creds, f"EGOVOPS_NET_USERNAME={NET_USERNAME}\nEGOVOPS_NET_PASSWORD={_secrets.token_urlsafe(18)}\n")
    keys = d / "routing-keys.env"        # OSPF/OSPFv3/BGP keys (read by egovops.network.routing_keys)
    if not keys.exists():
        _write_private(keys, routing_keys_text())
    admin = d / HOST_ADMIN_ENV           # the hosts' admin account's sudo password (egovops.harden.login)
    if not admin.exists():
        _write_private(admin, f"EGOVOPS_BECOME_PASSWORD={_secrets.token_urlsafe(24)}\n")
    return d


HOST_ADMIN_ENV = "host-admin.env"


def host_admin_password(province: Province) -> str | None:
    """The sudo password of the hosts' admin account (None before the first ``lab up``)."""
    path = secrets_dir(province) / HOST_ADMIN_ENV
    if not path.is_file():
        return None
    for line in path.read_text().splitlines():
        k, _, v = line.partition("=")
        if k.strip() == "EGOVOPS_BECOME_PASSWORD" and v.strip():
            return v.strip()
    return None


# variable -> length of the lab's routing-protocol keys; within the domains egovops.network.routing_keys
# checks (OSPFv2 MD5 at most 16 characters). Defined here because the lab never imports the network layer.
ROUTING_KEYS = {"EGOVOPS_OSPF_KEY": 16, "EGOVOPS_OSPF6_KEY": 32, "EGOVOPS_BGP_KEY": 32}
_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def routing_keys_text() -> str:
    return "".join(f"{var}={''.join(_secrets.choice(_ALNUM) for _ in range(n))}\n" for var, n in ROUTING_KEYS.items())


def router_credentials(province: Province) -> tuple[str, str]:
    """(username, password) of the routers' login user."""
    values = {}
    for line in (secrets_dir(province) / "router-credentials.env").read_text().splitlines():
        k, _, v = line.partition("=")
        values[k.strip()] = v.strip()
    return values["EGOVOPS_NET_USERNAME"], values["EGOVOPS_NET_PASSWORD"]


def public_key(province: Province) -> str:
    return (secrets_dir(province) / "id_ed25519.pub").read_text().strip()


def private_key_path(province: Province) -> Path:
    return secrets_dir(province) / "id_ed25519"


def password_hash(password: str) -> str:
    """SHA-512 crypt hash for /etc/shadow (openssl, so no deprecated module is needed)."""
    salt = _secrets.token_hex(8)
    return run(["openssl", "passwd", "-6", "-salt", salt, "-stdin"], input=password + "\n").stdout.strip()


DR_POSTGRES_VARS = "dr-postgres.vars.yml"


def dr_postgres_vars(province: Province) -> Path:
    """The case database's passwords (application, replication) as an Ansible vars file (0600).

    Generated once per lab (kept across re-runs, so a re-run changes nothing); passed to
    roles/dr_postgres with ``-e @file`` and read by the DR drills' writer. Never printed.
    """
    d = secrets_dir(province)
    d.mkdir(parents=True, exist_ok=True)
    os.chmod(d, 0o700)
    path = d / DR_POSTGRES_VARS
    if not path.exists():
        _write_private(path, f'dr_postgres_app_password: "{_secrets.token_urlsafe(24)}"\n'
                             f'dr_postgres_replication_password: "{_secrets.token_urlsafe(24)}"\n')
    return path


def dr_tls(province: Province, name: str, ips: list[str]) -> dict[str, Path]:
    """A lab CA (once) and a server certificate for ``name`` (DNS name) and ``ips`` (subject
    alternative names; pgBackRest matches the endpoint's host name, so clients use ``name``).

    pgBackRest talks to S3 over TLS only and verifies the server against this CA (no
    ``verify-tls=n``). Files under ``secrets_dir/dr-tls/`` (keys 0600); re-used while the SANs match.
    """
    d = secrets_dir(province) / "dr-tls"
    d.mkdir(parents=True, exist_ok=True)
    os.chmod(d, 0o700)
    ca_key, ca_crt = d / "ca.key", d / "ca.crt"
    if not ca_key.exists() or not ca_crt.exists():
        run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", str(ca_key), "-out", str(ca_crt), "-days", "3650",
             "-subj", f"/CN=egovops lab {province.meta.name} DR CA"])
        os.chmod(ca_key, 0o600)
    key, crt, sans = d / f"{name}.key", d / f"{name}.crt", d / f"{name}.sans"
    want = ",".join([f"DNS:{name}"] + [f"IP:{ip}" for ip in ips])
    if not (key.exists() and crt.exists() and sans.exists() and sans.read_text() == want):
        csr = d / f"{name}.csr"
        run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={name}"])
        os.chmod(key, 0o600)
        ext = d / f"{name}.ext"
        ext.write_text(f"subjectAltName={want}\nextendedKeyUsage=serverAuth\n")
        run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca_crt), "-CAkey", str(ca_key),
             "-CAcreateserial", "-out", str(crt), "-days", "825", "-extfile", str(ext)])
        sans.write_text(want)
        csr.unlink()
    return {"ca": ca_crt, "cert": crt, "key": key}
