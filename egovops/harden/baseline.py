"""The level-3 baseline (``playbooks/baseline.yml``, role ``baseline``) through the playbook runner.

What the baseline adds to a plain playbook run: the break-glass password hash, a secret, comes from
the secrets store as a vars file passed with ``-e @file`` (production: a vault-provided file named
by ``EGOVOPS_BREAKGLASS_VARS``; lab: generated once under the lab's secrets folder), and the
disruptive controls run only when asked. Logs stay where ``egovops harden`` has always put them:
``build/harden/<province>/harden[-check].log``.
"""

from __future__ import annotations

import os
import secrets as pysecrets
from collections.abc import Callable
from pathlib import Path

from egovops.harden.playbook import HostRecap, PlaybookInputError, PlaybookRun, run_playbook
from egovops.harden.targets import REPO, Selection
from egovops.model.province import Province

__all__ = ["PLAYBOOK", "HardenInputError", "HardenRun", "HostRecap", "breakglass_vars", "run", "run_dir"]

PLAYBOOK = REPO / "playbooks" / "baseline.yml"

# The names `egovops harden` has always used (the CLI and the deploy step catch HardenInputError).
HardenInputError = PlaybookInputError
HardenRun = PlaybookRun


def run_dir(province: Province) -> Path:
    return REPO / "build" / "harden" / province.meta.name


def breakglass_vars(province: Province) -> Path:
    """The extra-vars file holding the break-glass password hash (0600; the hash is a secret).

    Production: ``EGOVOPS_BREAKGLASS_VARS`` names a vault-provided file with
    ``baseline_breakglass_password_hash``. Lab: generated once under the lab's secrets folder
    (the password itself is kept beside it, 0600, for the console).
    """
    env = os.environ.get("EGOVOPS_BREAKGLASS_VARS")
    if env:
        p = Path(env)
        if not p.is_file():
            raise HardenInputError(f"EGOVOPS_BREAKGLASS_VARS={env}: no such file")
        return p
    if province.meta.environment != "lab":
        raise HardenInputError(
            "no break-glass password hash: set EGOVOPS_BREAKGLASS_VARS to a vault-provided vars "
            "file with baseline_breakglass_password_hash (control L3-CES1-07)"
        )
    from egovops.lab import secrets_dir
    from egovops.lab.secrets import password_hash

    d = secrets_dir(province)
    d.mkdir(parents=True, exist_ok=True)
    vars_file = d / "breakglass.vars.yml"
    if not vars_file.exists():
        pw = pysecrets.token_urlsafe(18)
        for path, text in (
            (d / "breakglass.password", pw + "\n"),
            (vars_file, f'baseline_breakglass_password_hash: "{password_hash(pw)}"\n'),
        ):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(text)
    return vars_file


def run(
    province: Province,
    sel: Selection,
    check: bool = False,
    tags: str | None = None,
    disruptive: bool = False,
    progress: Callable[[str], None] = lambda m: None,
    verbosity: int = 0,
    lock_wait: float = 10.0,
) -> HardenRun:
    """Apply the baseline to ``sel`` (``check``: dry run with --diff, nothing changes).

    A real run holds the inventory's change lock (:mod:`egovops.changelock`): it never runs beside a
    net push, a lab up/down or another harden of the same inventory; a held lock is bad input.
    """
    import contextlib

    from egovops.changelock import ChangeLocked, change_lock

    if not sel.targets:
        raise HardenInputError("no hosts selected (check --limit, and that the lab is up)")
    try:
        lock = contextlib.nullcontext() if check else change_lock(province.meta.name, wait=lock_wait)
        lock.__enter__()
    except ChangeLocked as exc:
        raise HardenInputError(str(exc)) from None
    try:
        return run_playbook(
            province,
            PLAYBOOK,
            sel,
            check=check,
            tags=tags,
            extra_vars_files=(breakglass_vars(province),),
            extra_vars={"baseline_disruptive": True} if disruptive else None,
            progress=progress,
            verbosity=verbosity,
            workdir=run_dir(province),
            log_name="harden-check.log" if check else "harden.log",
            mitogen=True,  # measured: see egovops.harden.playbook.mitogen_env and the README's harden timings
        )
    finally:
        lock.__exit__(None, None, None)
