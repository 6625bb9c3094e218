"""Backups of running configs, and turning a backup back into push plans (``net rollback --to``).

A backup folder holds one ``<router>.conf`` (FRR) or ``<router>.cfg`` (VRP) per router and a
``manifest.json`` (inventory, vendor, time, routers). Every push also leaves its rollback points
in the same layout under ``build/net/<inventory>/rollback/<timestamp>/``, so either can be
restored. Restoring is a push with the backup as the intended config and an exact scope (what the
backup does not have is removed), with the same verify/confirm/restore safety.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from egovops.model.province import Province
from egovops.network.credentials import Credentials, mask_text
from egovops.network.device import open_session
from egovops.network.push import Plan
from egovops.network.render import file_name
from egovops.network.targets import plan_of, target_of


class BackupError(ValueError):
    """A backup folder that cannot be used (names the folder and what is wrong)."""


def backup(province: Province, routers: list[str], vendor: str, creds: Credentials, folder: Path,
           workers: int = 16, timeout: float = 30.0) -> dict[str, Any]:
    folder.mkdir(parents=True, exist_ok=True)

    def one(name: str) -> dict[str, Any]:
        try:
            s = open_session(target_of(province, name, vendor, timeout), creds)
            try:
                text = s.running_config()
            finally:
                s.close()
        except Exception as exc:    # a device error may quote what it was sent: masked like every report
            return {"router": name, "ok": False, "error": mask_text(str(exc), [creds.password.reveal()])}
        path = folder / file_name(name, vendor)
        path.write_text(text)
        return {"router": name, "ok": True, "file": str(path), "lines": text.count("\n")}

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(routers)))) as pool:
        rows = list(pool.map(one, routers))
    manifest = {"inventory": province.meta.name, "vendor": vendor,
                "taken": datetime.now(UTC).isoformat(timespec="seconds"),
                "routers": [r["router"] for r in rows if r["ok"]]}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return {"ok": all(r["ok"] for r in rows), "folder": str(folder), "routers": rows}


def plans_from_backup(province: Province, folder: Path, routers: list[str], vendor: str,
                      timeout: float = 30.0) -> list[Plan]:
    if not folder.is_dir():
        raise BackupError(f"{folder}: not a folder")
    manifest = folder / "manifest.json"
    if manifest.exists():
        try:
            m = json.loads(manifest.read_text())
        except (OSError, ValueError) as exc:
            raise BackupError(f"{manifest}: not a readable JSON manifest ({type(exc).__name__})") from None
        if not isinstance(m, dict):
            raise BackupError(f"{manifest}: not a backup manifest (expected a JSON object)")
        if m.get("inventory") not in (None, province.meta.name):
            raise BackupError(f"{folder} is a backup of inventory {m.get('inventory')!r}, not {province.meta.name!r}")
        if m.get("vendor") not in (None, vendor):
            raise BackupError(f"{folder} holds {m.get('vendor')} configs, not {vendor}")
    plans = []
    for name in routers:
        f = folder / file_name(name, vendor)
        if f.exists():
            plans.append(plan_of(province, name, vendor, timeout, intended=f.read_text(), exact=True))
    if not plans:
        raise BackupError(f"{folder} holds no config for any selected router ({', '.join(routers[:5])}...)")
    return plans
