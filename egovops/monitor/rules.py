"""Which rule files of ``monitors/rules/`` each NOC's Prometheus loads.

Convention (monitors/README.md): ``province*.rules.yml`` only on the provincial NOC (rules over
federated series and controller metrics), ``city*.rules.yml`` only on the city NOCs, every other
``*.rules.yml`` on all 17.
"""

from __future__ import annotations

from pathlib import Path

from egovops.render.monitor_settings import PROVINCE_NOC, RULES_DIR


def files_for(noc: str, rules_dir: Path = RULES_DIR) -> list[Path]:
    if not rules_dir.is_dir():
        return []
    out = []
    for f in sorted(rules_dir.glob("*.rules.yml")):
        if f.name.startswith("province"):
            if noc == PROVINCE_NOC:
                out.append(f)
        elif f.name.startswith("city"):
            if noc != PROVINCE_NOC:
                out.append(f)
        else:
            out.append(f)
    return out
