"""Routing-protocol keys (OSPFv2 MD5, OSPFv3 RFC 7166 trailer, BGP TCP-MD5): where they come from.

Why a module of its own: the keys are secrets like the router passwords, so they never enter the
inventory, the intents, the rendered artefacts (``net render`` prints :data:`PLACEHOLDERS`) or any
output. Only the push path renders with real keys, and every diff line that carries a key is masked
by :func:`mask_line` (pattern-based, so a *wrong* key found on a device is masked too).

Order of precedence (first that yields all three keys wins):

1. ``EGOVOPS_OSPF_KEY`` / ``EGOVOPS_OSPF6_KEY`` / ``EGOVOPS_BGP_KEY`` in the environment;
2. an Ansible-vault YAML file ``EGOVOPS_ROUTING_VAULT`` holding ``ospf:``, ``ospf6:``, ``bgp:``
   (vault password from ``EGOVOPS_NET_VAULT_PASSWORD_FILE`` or ``EGOVOPS_NET_VAULT_PASSWORD``,
   like the router credentials) — the production path;
3. for a lab inventory only: ``.lab/<name>/secrets/routing-keys.env``, generated at ``lab up``.

Domains (checked on load, the message names the variable, never the value): printable ASCII without
spaces or ``#``/``!``/``?`` (config comment and help characters); OSPFv2 MD5 keys at most 16
characters (RFC 2328 D.3), OSPFv3 and BGP keys 8-80.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from egovops.model.province import Province
from egovops.network.credentials import MASK, CredentialError, Secret

FIELDS = {"ospf": "EGOVOPS_OSPF_KEY", "ospf6": "EGOVOPS_OSPF6_KEY", "bgp": "EGOVOPS_BGP_KEY"}
LENGTHS = {"ospf": (8, 16), "ospf6": (8, 80), "bgp": (8, 80)}
KEY_ID = 1            # OSPF key id; a rollover adds id 2 beside it (see runbooks/routing-key-rollover.md)
LAB_FILE = "routing-keys.env"
# What `net render` shows instead of a key: valid config for both vendors, obviously not a key.
PLACEHOLDERS = {"ospf": "VAULT-OSPF-KEY", "ospf6": "VAULT-OSPF6-KEY", "bgp": "VAULT-BGP-KEY"}
_BAD = re.compile(r"[^\x21-\x7e]|[#!?\"']")

# Lines that carry a key, per vendor dialect (FRR and VRP): the key is the last group.
_KEY_LINES = [
    re.compile(r"^(\s*[+-]?\s*ip ospf message-digest-key \d+ md5 )(\S+)(.*)$"),
    re.compile(r"^(\s*[+-]?\s*ipv6 ospf6 authentication key-id \d+ hash-algo \S+ key )(\S+)(.*)$"),
    re.compile(r"^(\s*[+-]?\s*neighbor \S+ password )(\S+)(.*)$"),
    re.compile(r"^(\s*[+-]?\s*ospf authentication-mode \S+ \d+ (?:cipher|plain) )(\S+)(.*)$"),
    re.compile(r"^(\s*[+-]?\s*ospfv3 authentication-mode \S+ key-id \d+ (?:cipher|plain) )(\S+)(.*)$"),
    re.compile(r"^(\s*[+-]?\s*peer \S+ password (?:cipher|simple) )(\S+)(.*)$"),
]


@dataclass(frozen=True)
class RoutingKeys:
    ospf: Secret
    ospf6: Secret
    bgp: Secret
    source: str

    def values(self) -> dict[str, object]:
        """The keys in clear, for the template only (never print the result)."""
        return {"ospf": self.ospf.reveal(), "ospf6": self.ospf6.reveal(), "bgp": self.bgp.reveal(), "key_id": KEY_ID}

    def as_dict(self) -> dict[str, str]:
        return {"ospf": MASK, "ospf6": MASK, "bgp": MASK, "source": self.source}


def placeholder_values() -> dict[str, object]:
    return {**PLACEHOLDERS, "key_id": KEY_ID}


def industry_values(values: Mapping[str, object], cloud: str) -> dict[str, object]:
    """The keys of one industry cloud's attachment, derived from the province's keys.

    Why derived: each department's router needs the keys of its own link and session, and must not
    learn the province's (which would let it join any backbone adjacency or the national session).
    HMAC-SHA256(province key, cloud) is one-way, stable (no new secret to store or rotate apart:
    rotating the province's key rotates them all) and different per cloud. Placeholders (``net
    render``, goldens) stay placeholders. Hex digits fit every domain of :data:`LENGTHS`.
    """
    import hashlib
    import hmac

    if values.get("bgp") == PLACEHOLDERS["bgp"]:
        return dict(values)
    out: dict[str, object] = {"key_id": values["key_id"]}
    for f, (_, hi) in LENGTHS.items():
        digest = hmac.new(str(values[f]).encode(), f"egovops-industry:{cloud}:{f}".encode(), hashlib.sha256).hexdigest()
        out[f] = digest[:min(hi, 32)]
    return out


def check(field: str, value: str, where: str) -> str:
    """Validate one key against its domain; raises :class:`CredentialError` naming ``where`` (not the value)."""
    lo, hi = LENGTHS[field]
    if not lo <= len(value) <= hi:
        raise CredentialError(f"{where}: the {field} key must be {lo}-{hi} characters (got {len(value)})")
    if _BAD.search(value):
        raise CredentialError(f"{where}: the {field} key may hold only printable ASCII without spaces, quotes, #, ! or ?")
    return value


def _build(values: dict[str, str], source: str) -> RoutingKeys:
    for f, env in FIELDS.items():
        check(f, values[f], f"{source} ({env if source == 'environment' else f})")
    return RoutingKeys(Secret(values["ospf"]), Secret(values["ospf6"]), Secret(values["bgp"]), source)


def lab_generated() -> dict[str, str]:
    """Keys as ``lab up`` generates them (egovops.lab.secrets), by field (used by the domain test)."""
    from egovops.lab.secrets import routing_keys_text

    vals = _env_file_text(routing_keys_text())
    return {f: vals[v] for f, v in FIELDS.items()}


def _env_file_text(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            k, _, v = line.partition("=")
            out[k.strip()] = v.strip()
    return out


def _env_file(path: Path) -> dict[str, str]:
    return _env_file_text(path.read_text())


def from_vault(path: Path, vault_password: str) -> RoutingKeys:
    from ansible.parsing.vault import VaultLib, VaultSecret

    vault = VaultLib([("default", VaultSecret(vault_password.encode()))])
    try:
        plain = vault.decrypt(Path(path).read_bytes())
    except Exception as exc:
        raise CredentialError(f"cannot decrypt routing-key vault {path}: {type(exc).__name__}") from None
    data = yaml.safe_load(plain) or {}
    if not isinstance(data, dict) or any(not isinstance(data.get(f), str) for f in FIELDS):
        raise CredentialError(f"routing-key vault {path} must hold string keys {', '.join(FIELDS)}")
    return _build({f: data[f] for f in FIELDS}, f"vault {path}")


def load(province: Province | None = None, env: dict[str, str] | None = None) -> RoutingKeys:
    """Find the routing keys (see module doc for the order). Raises :class:`CredentialError`."""
    env = dict(os.environ if env is None else env)
    if all(env.get(v) for v in FIELDS.values()):
        return _build({f: env[v] for f, v in FIELDS.items()}, "environment")
    vault = env.get("EGOVOPS_ROUTING_VAULT")
    if vault:
        vpw = env.get("EGOVOPS_NET_VAULT_PASSWORD")
        if env.get("EGOVOPS_NET_VAULT_PASSWORD_FILE"):
            vpw = Path(env["EGOVOPS_NET_VAULT_PASSWORD_FILE"]).read_text().strip()
        if not vpw:
            raise CredentialError(f"EGOVOPS_ROUTING_VAULT={vault} given but neither EGOVOPS_NET_VAULT_PASSWORD_FILE "
                                  "nor EGOVOPS_NET_VAULT_PASSWORD is set")
        return from_vault(Path(vault), vpw)
    if province is not None and province.meta.environment == "lab":
        from egovops.lab.paths import secrets_dir

        f = secrets_dir(province) / LAB_FILE
        if not f.exists() and f.parent.is_dir():
            # a lab brought up before routing keys existed: `lab up` leaves a running lab alone,
            # so generate them the same way it would (lab secrets only; idempotent)
            from egovops.lab import secrets as lab_secrets

            lab_secrets.ensure(province)
        if f.exists():
            vals = _env_file(f)
            if all(vals.get(v) for v in FIELDS.values()):
                return _build({k: vals[v] for k, v in FIELDS.items()}, f"lab secrets {f}")
    raise CredentialError("no routing-protocol keys: set EGOVOPS_OSPF_KEY, EGOVOPS_OSPF6_KEY and EGOVOPS_BGP_KEY, "
                          "or EGOVOPS_ROUTING_VAULT (+ EGOVOPS_NET_VAULT_PASSWORD_FILE)"
                          + (", or run `egovops lab up` (it generates them)" if province is not None
                             and province.meta.environment == "lab" else ""))


def mask_line(line: str) -> str:
    """The line with any routing key replaced by the mask (FRR and VRP key lines)."""
    for rx in _KEY_LINES:
        m = rx.match(line)
        if m:
            return f"{m.group(1)}{MASK}{m.group(3)}"
    return line


def mask_lines(lines: list[str]) -> list[str]:
    return [mask_line(x) for x in lines]


# Session protection on the national eBGP uplink (policy, not topology; the golden files show it).
# GTSM: the peer is one hop away, so only packets with TTL 255 are accepted (RFC 5082).
# maximum-prefix: the national extranet announces a few hundred routes; 2000 leaves room for growth
# while a full-table leak (~1M routes) tears the session down instead of the province's FIBs.
SESSION = {"ttl_hops": 1, "max_prefix_v4": 2000, "max_prefix_v6": 2000}
