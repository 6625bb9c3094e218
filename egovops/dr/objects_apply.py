"""Apply the object tier to hosts: run ``playbooks/dr_objects.yml`` (roles/object_store) with the plan.

Ansible is driven by the project's one playbook runner (:func:`egovops.harden.playbook.run_playbook`:
derived inventory, admin account with ``become``, host keys verified against the inventory's
known_hosts, progress per task, bounded by a timeout). This module only prepares the inputs, which
reach Ansible as files: the plan of every selected host (``object_store_plan``, from
:mod:`egovops.render.seaweed`) and the S3 identities (a 0600 vars file in the secrets dir; the role's
tasks touching it use ``no_log``).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from egovops.harden.playbook import PlaybookRun
from egovops.model.province import Province
from egovops.render import seaweed

REPO = Path(__file__).resolve().parents[2]
PLAYBOOK = REPO / "playbooks" / "dr_objects.yml"
# the object tier's bound: the role on the lab's DR sites takes a few minutes at most
ANSIBLE_TIMEOUT = 900.0
ADMIN_ACTIONS = ["Admin", "Read", "List", "Tagging", "Write"]


def work_dir(province: Province) -> Path:
    return REPO / "build" / "dr" / province.meta.name / "objects"


def identities(province: Province) -> list[dict[str, Any]]:
    """The stores' S3 identities: the admin (controller) and pgBackRest (its bucket only)."""
    from egovops.dr.objects import credentials

    pg_bucket = seaweed.spec(province).pgbackrest_bucket
    a_key, a_secret = credentials(province, "admin")
    p_key, p_secret = credentials(province, "pgbackrest")
    return [
        {"name": "egovops-admin", "access_key": a_key, "secret_key": a_secret, "actions": ADMIN_ACTIONS},
        {"name": "pgbackrest", "access_key": p_key, "secret_key": p_secret,
         "actions": [f"{a}:{pg_bucket}" for a in ("Read", "Write", "List", "Tagging")]},
    ]


def _private(path: Path, text: str) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


def write_inputs(province: Province, sites: list[str]) -> tuple[Path, Path]:
    """(plan vars, secret vars) files for one run. JSON is valid YAML for ``-e @file``."""
    d = work_dir(province)
    d.mkdir(parents=True, exist_ok=True)
    plan = {"object_store_plan": {s: seaweed.role_vars(province, s, among=sites) for s in sites}}
    plan_file = d / "plan.json"
    plan_file.write_text(json.dumps(plan, indent=1, sort_keys=True), encoding="utf-8")
    from egovops.dr.objects import credentials_file

    secret_dir = credentials_file(province).parent
    secret_file = _private(
        secret_dir / "objects-identities.vars.json", json.dumps({"object_store_identities": identities(province)})
    )
    return plan_file, secret_file


def apply(
    province: Province, sites: list[str], progress: Callable[[str], None] = lambda m: None, check: bool = False
) -> PlaybookRun:
    """Run the role on ``sites`` through the shared runner (bounded by ANSIBLE_TIMEOUT); log under build/dr/."""
    from egovops.dr.objects import ObjectsInputError
    from egovops.harden.playbook import run_playbook
    from egovops.harden.targets import select

    sel = select(province, ",".join(sites))
    missing = [s for s in sites if s not in {t.node for t in sel.targets}]
    if missing:
        raise ObjectsInputError(f"object store site(s) {', '.join(missing)} not reachable in {province.meta.name}"
                                + (f" ({sel.note})" if sel.note else ""))
    plan, secret = write_inputs(province, sites)
    return run_playbook(province, PLAYBOOK, sel, check=check, extra_vars_files=[plan, secret], progress=progress,
                        workdir=work_dir(province), log_name="ansible-check.log" if check else "ansible.log",
                        timeout=ANSIBLE_TIMEOUT)


def wait_ready(s3: Any, timeout: float = 60.0) -> None:
    """Until the S3 gateway answers a listing (its filer may lag the port by a second or two); bounded."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            s3.list_buckets()
            return
        except Exception as exc:  # noqa: BLE001 — retried until the deadline, then reported
            last = exc
            time.sleep(0.5)
    raise TimeoutError(f"S3 gateway not ready after {timeout:.0f}s: {last}")
