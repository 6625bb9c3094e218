"""Router login credentials: from the environment or an Ansible-vault file, never from the inventory.

Order of precedence (first that yields a username and password wins):

1. ``EGOVOPS_NET_USERNAME`` / ``EGOVOPS_NET_PASSWORD`` in the environment;
2. an Ansible-vault encrypted YAML file (``--vault FILE`` or ``EGOVOPS_NET_VAULT``) holding
   ``username:`` and ``password:``, opened with the vault password from
   ``EGOVOPS_NET_VAULT_PASSWORD_FILE`` (a file) or ``EGOVOPS_NET_VAULT_PASSWORD``;
3. for a lab inventory only: the credentials ``egovops lab up`` generated under
   ``.lab/<inventory name>/secrets/router-credentials.env``.

Why a :class:`Secret` type and a log filter: the password must never appear in output, logs or
reports. ``Secret`` hides itself in ``repr``/``str``/JSON, and :class:`RedactingFilter` scrubs it
from every log record (netmiko and paramiko included) even at DEBUG level, as defence in depth.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from egovops.model.province import Province

MASK = "********"


class CredentialError(RuntimeError):
    """No usable credentials (the message says where it looked; it never contains a secret)."""


class Secret:
    """A string that does not print itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK})"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True)
class Credentials:
    username: str
    password: Secret
    source: str              # where they came from (for the report; no secret)
    key_file: str | None = None

    def as_dict(self) -> dict[str, str]:
        return {"username": self.username, "password": MASK, "source": self.source}


def _parse_env_file(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            k, _, v = line.partition("=")
            out[k.strip()] = v.strip().strip('"').strip("'")
    return out


def from_vault(path: Path, vault_password: str) -> Credentials:
    """Decrypt an Ansible-vault YAML file with ``username``/``password`` keys."""
    from ansible.parsing.vault import VaultLib, VaultSecret  # heavy import: only when a vault is used

    vault = VaultLib([("default", VaultSecret(vault_password.encode()))])
    try:
        plain = vault.decrypt(Path(path).read_bytes())
    except Exception as exc:  # wrong password or not a vault: say which file, never the password
        raise CredentialError(f"cannot decrypt vault file {path}: {type(exc).__name__}") from None
    data = yaml.safe_load(plain) or {}
    if not isinstance(data, dict) or not data.get("username") or not data.get("password"):
        raise CredentialError(f"vault file {path} must hold 'username' and 'password'")
    return Credentials(str(data["username"]), Secret(str(data["password"])), f"vault {path}")


def encrypt_vault(username: str, password: str, vault_password: str) -> bytes:
    """Make a vault file body (used by tests and by operators via ``ansible-vault`` equivalently)."""
    from ansible.parsing.vault import VaultLib, VaultSecret

    vault = VaultLib([("default", VaultSecret(vault_password.encode()))])
    body: bytes = vault.encrypt(yaml.safe_dump({"username": username, "password": password}).encode())
    return body


def load(province: Province | None = None, vault: str | None = None,
         env: dict[str, str] | None = None) -> Credentials:
    """Find credentials (see module doc for the order). Raises :class:`CredentialError`."""
    env = dict(os.environ if env is None else env)
    user, pw = env.get("EGOVOPS_NET_USERNAME"), env.get("EGOVOPS_NET_PASSWORD")
    if user and pw:
        return Credentials(user, Secret(pw), "environment")
    vault = vault or env.get("EGOVOPS_NET_VAULT")
    if vault:
        vpw = env.get("EGOVOPS_NET_VAULT_PASSWORD")
        vfile = env.get("EGOVOPS_NET_VAULT_PASSWORD_FILE")
        if vfile:
            vpw = Path(vfile).read_text().strip()
        if not vpw:
            raise CredentialError(f"vault {vault} given but neither EGOVOPS_NET_VAULT_PASSWORD_FILE nor "
                                  "EGOVOPS_NET_VAULT_PASSWORD is set")
        return from_vault(Path(vault), vpw)
    if province is not None and province.meta.environment == "lab":
        from egovops.lab.paths import secrets_dir

        d = secrets_dir(province)
        f = d / "router-credentials.env"
        if f.exists():
            vals = _parse_env_file(f)
            if vals.get("EGOVOPS_NET_USERNAME") and vals.get("EGOVOPS_NET_PASSWORD"):
                key = d / "id_ed25519"
                return Credentials(vals["EGOVOPS_NET_USERNAME"], Secret(vals["EGOVOPS_NET_PASSWORD"]),
                                   f"lab secrets {f}", str(key) if key.exists() else None)
    raise CredentialError("no router credentials: set EGOVOPS_NET_USERNAME and EGOVOPS_NET_PASSWORD, or "
                          "EGOVOPS_NET_VAULT (+ EGOVOPS_NET_VAULT_PASSWORD_FILE)"
                          + (", or bring the lab up (egovops lab up)" if province is not None
                             and province.meta.environment == "lab" else ""))


def mask_text(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of every secret replaced by :data:`MASK` (longest first)."""
    for s in sorted({s for s in secrets if s}, key=len, reverse=True):
        if s in text:
            text = text.replace(s, MASK)
    return text


def mask_secrets(data: Any, secrets: Iterable[str]) -> Any:
    """A copy of ``data`` (str / dict / list / tuple / set, nested) with every secret masked.

    The one helper every report and output path goes through (push report JSON and tables,
    progress lines, verify and backup results): device error messages quote what the device got,
    and a device that echoes a refused line can quote a password or a routing key. Logs are masked
    by :class:`RedactingFilter` with the same :func:`mask_text`.
    """
    keys = [s for s in secrets if s]
    if not keys:
        return data
    if isinstance(data, str):
        return mask_text(data, keys)
    if isinstance(data, dict):
        return {mask_secrets(k, keys): mask_secrets(v, keys) for k, v in data.items()}
    if isinstance(data, list | tuple | set | frozenset):
        return type(data)(mask_secrets(v, keys) for v in data)
    return data


class RedactingFilter(logging.Filter):
    """Replace every occurrence of the given secrets in log records by a mask."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except Exception:
            return True
        if any(s in msg for s in self.secrets):
            record.msg, record.args = mask_text(msg, self.secrets), None
        return True


def install_redaction(creds: Credentials) -> RedactingFilter:
    """Attach a redacting filter to every handler of the root logger (and future records via root)."""
    f = RedactingFilter([creds.password.reveal()])
    root = logging.getLogger()
    for h in root.handlers:
        h.addFilter(f)
    root.addFilter(f)
    for name in ("netmiko", "paramiko", "paramiko.transport"):
        logging.getLogger(name).addFilter(f)
    return f
