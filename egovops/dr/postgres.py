"""The database tier: the case database (办件库) on the provincial host, its synchronous same-city
standby, and pgBackRest's repository in the remote DR site's object store.

Why here and not in the role: the role configures a host for the roles it is given; which host IS
the primary right now is a fact of the running servers (after a failover it is the same-city DR
site), so this module reads it from them (``pg_is_in_recovery``) and passes it to the role. The
inventory's ``same_city`` replication is only the intended (original) topology.

Everything on a host goes through :mod:`egovops.dr.remote` (SSH, host keys verified, bounded);
the drills' client traffic uses psycopg from the controller on the management network.
"""

from __future__ import annotations

import json
import os
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from egovops.model.province import Province

Progress = Callable[[str], None]
PLAYBOOK_NAME = "dr_postgres.yml"
ROLE_DEFAULTS = Path(__file__).resolve().parents[2] / "roles" / "dr_postgres" / "defaults" / "main.yml"


def role_defaults() -> dict[str, Any]:
    """The role's parameters: its defaults file is the one source of names, ports and versions
    (the drills and status read the same cluster, database and stanza the role configures)."""
    return yaml.safe_load(ROLE_DEFAULTS.read_text(encoding="utf-8"))


_D = role_defaults()
VERSION = str(_D["dr_postgres_version"])
CLUSTER = str(_D["dr_postgres_cluster"])
UNIT = f"postgresql@{VERSION}-{CLUSTER}.service"
PORT = int(_D["dr_postgres_port"])
DATABASE = str(_D["dr_postgres_database"])
APP_USER = str(_D["dr_postgres_app_user"])
STANZA = str(_D["dr_postgres_stanza"])
DATA_DIR = f"/var/lib/postgresql/{VERSION}/{CLUSTER}"


class DrInputError(ValueError):
    """Bad input or a missing prerequisite, named in one sentence; nothing was changed."""


class DrError(RuntimeError):
    """A DR operation could not be completed (named in the message)."""


@dataclass(frozen=True)
class DbPair:
    """The intended same-city pair and the remote repository site, from the inventory (dr.yaml)."""

    source: str        # the intended primary (province)
    target: str        # the same-city standby (dr-local)
    repo: str          # the remote DR site holding pgBackRest's repository (dr-remote)
    system_tier: str   # tier of the synchronous pair
    data_tier: str     # tier of the remote copy


def pair(province: Province) -> DbPair:
    by_kind = {r.kind: r for r in province.replications}
    if "same_city" not in by_kind or "remote" not in by_kind:
        raise DrInputError(f"inventory {province.meta.name}: dr.yaml has no provincial same_city and remote "
                           "replication, so there is no database tier to act on")
    sc, rm = by_kind["same_city"], by_kind["remote"]
    return DbPair(sc.source, sc.target, rm.target, sc.tier, rm.tier)


def app_name(site: str) -> str:
    """The standby's application_name / slot name (synchronous_standby_names refers to it)."""
    return site.replace("-", "_")


# ---------------------------------------------------------------- probing the servers

PROBE_SQL = """SELECT json_build_object(
 'in_recovery', pg_is_in_recovery(),
 'now', extract(epoch from now()),
 'sync_names', current_setting('synchronous_standby_names'),
 'replication', (SELECT coalesce(json_agg(json_build_object(
      'application_name', application_name, 'client_addr', host(client_addr), 'state', state,
      'sync_state', sync_state,
      'lag_bytes', CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) END,
      'replay_lag', extract(epoch from replay_lag), 'reply_time', extract(epoch from reply_time))), '[]'::json)
      FROM pg_stat_replication),
 'receiver', (SELECT json_build_object('status', status, 'sender_host', sender_host,
      'last_msg', extract(epoch from last_msg_receipt_time)) FROM pg_stat_wal_receiver LIMIT 1),
 'replay_ts', extract(epoch from pg_last_xact_replay_timestamp()),
 'archiver', (SELECT json_build_object('archived', archived_count, 'last_archived_wal', last_archived_wal,
      'last_archived', extract(epoch from last_archived_time), 'failed', failed_count,
      'last_failed', extract(epoch from last_failed_time),
      'current_wal', CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_walfile_name(pg_current_wal_lsn()) END)
      FROM pg_stat_archiver))"""


@dataclass
class PgProbe:
    """What one server says about itself (``reachable`` False: SSH or PostgreSQL did not answer)."""

    site: str
    reachable: bool
    running: bool = False
    in_recovery: bool | None = None
    data: dict[str, Any] = field(default_factory=dict)
    problem: str = ""

    @property
    def is_primary(self) -> bool:
        return self.reachable and self.running and self.in_recovery is False


def psql_command(sql: str, db: str = "postgres", port: int = PORT) -> str:
    """A root shell command running ``sql`` as the postgres superuser over the local socket."""
    return (f"runuser -u postgres -- psql -XAtq -v ON_ERROR_STOP=1 -p {port} -d {shlex.quote(db)} "
            f"-c {shlex.quote(sql)}")


def probe(province: Province, site: str, timeout: float = 15.0) -> PgProbe:
    from egovops.dr.remote import RemoteError, ssh
    cmd = f"systemctl is-active {UNIT} >/dev/null 2>&1 || {{ echo INACTIVE; exit 0; }}; " + psql_command(PROBE_SQL)
    try:
        r = ssh(province, site, cmd, timeout=timeout, check=False)
    except RemoteError as exc:
        return PgProbe(site, False, problem=str(exc))
    out = r.stdout.strip()
    if r.returncode == 255:
        return PgProbe(site, False, problem=f"{site}: SSH failed: {r.stderr.strip()[:200]}")
    if out == "INACTIVE":
        return PgProbe(site, True, running=False, problem=f"{site}: PostgreSQL ({UNIT}) is not running")
    if r.returncode != 0:
        return PgProbe(site, True, running=False, problem=f"{site}: psql failed: {r.stderr.strip()[:200]}")
    try:
        data = json.loads(out)
    except json.JSONDecodeError:
        return PgProbe(site, True, running=True, problem=f"{site}: unreadable probe output {out[:120]!r}")
    return PgProbe(site, True, True, bool(data["in_recovery"]), data)


def current_roles(province: Province) -> tuple[str | None, str | None, dict[str, PgProbe]]:
    """(primary, standby, probes): the server that is not in recovery, and the other one of the pair.

    Two servers out of recovery (split brain) is an error, never resolved by guessing.
    """
    pr = pair(province)
    probes = {s: probe(province, s) for s in (pr.source, pr.target)}
    primaries = [s for s, p in probes.items() if p.is_primary]
    if len(primaries) > 1:
        raise DrError(f"both {pr.source} and {pr.target} run as primary (split brain): stop the one clients must "
                      "not use, then `egovops dr failback` re-clones it")
    if not primaries:
        return None, None, probes
    primary = primaries[0]
    standby = pr.target if primary == pr.source else pr.source
    return primary, standby, probes


# ---------------------------------------------------------------- applying the role

def vars_files(province: Province) -> list[Path]:
    """The secret vars files for roles/dr_postgres: passwords, and the pgBackRest repository.

    Production: ``EGOVOPS_DR_PG_VARS`` names a vault-provided file with both passwords and
    ``dr_postgres_repo``. Lab: generated into the lab's secrets folder.
    """
    env = os.environ.get("EGOVOPS_DR_PG_VARS")
    if env:
        if not Path(env).is_file():
            raise DrInputError(f"EGOVOPS_DR_PG_VARS={env}: no such file")
        return [Path(env)]
    if province.meta.environment != "lab":
        raise DrInputError("no database passwords: set EGOVOPS_DR_PG_VARS to a vault-provided vars file with "
                           "dr_postgres_app_password, dr_postgres_replication_password and dr_postgres_repo")
    from egovops.lab.secrets import dr_postgres_vars
    return [dr_postgres_vars(province), repo_vars(province)]


def repo_vars(province: Province) -> Path:
    """``dr_postgres_repo`` for the role, from the object tier's pgBackRest repository (0600 file).

    pgBackRest speaks S3 over TLS only; the object store's S3 is plain HTTP, so the role puts a TLS
    S3 gateway (DR-PG-08) on the repository site, with a certificate of the lab's DR CA; pgBackRest
    verifies it (never ``verify-tls=n``).
    """
    from egovops.dr import objects
    from egovops.lab.paths import secrets_dir
    from egovops.lab.secrets import dr_tls
    from egovops.render import seaweed
    repo = objects.pgbackrest_repo(province)
    site = str(repo.get("site") or pair(province).repo)
    node = province.node(site)
    creds = _read_credentials(Path(repo["credentials_file"]))
    tls = dr_tls(province, f"{site}-s3", [str(node.address.ipv4.ip), str(node.management.ipv4.ip)])
    doc = {"dr_postgres_repo": {
        "endpoint": f"{site}-s3", "address": str(repo["endpoint"]), "port": int(repo["port"]),
        "bucket": str(repo["bucket"]),
        "region": str(repo.get("region") or "us-east-1"), "uri_style": str(repo.get("uri_style") or "path"),
        "path": f"/{province.meta.name}", "ca_file": str(tls["ca"]), "tls_cert": str(tls["cert"]),
        "tls_key": str(tls["key"]), "filer": f"{repo['endpoint']}:{seaweed.spec(province).filer_port}",
        "key": creds["key"], "key_secret": creds["key_secret"]}}
    path = secrets_dir(province) / "dr-pgbackrest.vars.yml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        yaml.safe_dump(doc, f)
    return path


def _read_credentials(path: Path) -> dict[str, str]:
    """Access key and secret from the object tier's credentials file (env style or YAML/JSON)."""
    text = path.read_text()
    values: dict[str, str] = {}
    try:
        loaded = yaml.safe_load(text)
        if isinstance(loaded, dict):
            values = {str(k).lower(): str(v) for k, v in loaded.items()}
    except yaml.YAMLError:
        pass
    if not values:
        for line in text.splitlines():
            k, sep, v = line.partition("=")
            if sep:
                values[k.strip().lower()] = v.strip().strip('"')
    key = next((values[k] for k in ("pgbackrest_repo1_s3_key", "aws_access_key_id", "access_key") if k in values), None)
    sec = next((values[k] for k in ("pgbackrest_repo1_s3_key_secret", "aws_secret_access_key", "secret_key")
                if k in values), None)
    if not key or not sec:
        raise DrError(f"{path}: no access key and secret in the object tier's credentials file")
    return {"key": key, "key_secret": sec}


def apply(province: Province, primary: str | None = None, standby: str | None = None, reclone: bool = False,
          progress: Progress = lambda m: None, check: bool = False):
    """Run playbooks/dr.yml's database play on the pair and the repository site with the given roles.

    Returns the playbook run (recap per host)."""
    from egovops.harden.playbook import PLAYBOOKS, run_playbook
    from egovops.harden.targets import select
    pr = pair(province)
    primary = primary or pr.source
    standby = standby or pr.target
    sel = select(province, ",".join(sorted({pr.source, pr.target, pr.repo})))
    missing = {pr.source, pr.target, pr.repo} - {t.node for t in sel.targets}
    if missing:
        raise DrInputError(f"DR host(s) {', '.join(sorted(missing))} not up in lab {province.meta.name}: "
                           f"bring them up with `egovops lab up` first")
    return run_playbook(province, PLAYBOOKS / PLAYBOOK_NAME, sel, check=check, extra_vars_files=vars_files(province),
                        extra_vars={"dr_postgres_primary": primary, "dr_postgres_standby": standby,
                                    "dr_postgres_reclone": reclone},
                        progress=progress, log_name=f"dr-{int(time.time())}.log")


# ---------------------------------------------------------------- clients

def app_password(province: Province) -> str:
    files = vars_files(province)
    data = yaml.safe_load(files[0].read_text()) or {}
    pw = data.get("dr_postgres_app_password")
    if not pw:
        raise DrInputError(f"{files[0]}: no dr_postgres_app_password")
    return str(pw)


def conninfo(province: Province, sites: list[str] | None = None, read_write: bool = True,
             connect_timeout: int = 2) -> str:
    """libpq multi-host connection string: clients follow a promotion without reconfiguration."""
    pr = pair(province)
    sites = sites or [pr.source, pr.target]
    hosts = ",".join(str(province.node(s).management.ipv4.ip) for s in sites)
    parts = {"host": hosts, "port": ",".join([str(PORT)] * len(sites)), "dbname": DATABASE, "user": APP_USER,
             "password": app_password(province), "connect_timeout": str(connect_timeout),
             "application_name": "egovops-dr"}
    if read_write:
        parts["target_session_attrs"] = "read-write"
    return " ".join(f"{k}='{v}'" for k, v in parts.items())


def pgbackrest_info(province: Province, site: str, timeout: float = 40.0) -> dict[str, Any]:
    """``pgbackrest info`` of the stanza as seen from ``site`` (raises DrError when unreadable)."""
    from egovops.dr.remote import RemoteError, ssh
    try:
        r = ssh(province, site, f"runuser -u postgres -- pgbackrest --stanza={STANZA} --io-timeout=10 --output=json info",
                timeout=timeout, check=False)
    except RemoteError as exc:
        raise DrError(str(exc)) from None
    try:
        data = json.loads(r.stdout)
        return data[0]
    except (json.JSONDecodeError, IndexError, KeyError, TypeError):
        raise DrError(f"{site}: pgbackrest info unreadable (exit {r.returncode}): "
                      f"{(r.stderr or r.stdout).strip()[:200]}") from None


def newest_backup(info: dict[str, Any]) -> dict[str, Any] | None:
    backups = info.get("backup") or []
    return max(backups, key=lambda b: b["timestamp"]["stop"]) if backups else None
