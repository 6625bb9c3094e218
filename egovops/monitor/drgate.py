"""When the egovops exporter serves the DR issue's series (``egovops.dr.metrics.DrCollector``).

Production: always (DR is part of the estate). A lab: once DR was deployed on it — a DR playbook
(``build/playbooks/<lab>/dr*/``) ran since this lab came up. Judged on every scrape, so the deploy
order (monitoring before dr) needs no restart: the series appear with the first scrape after
``dr up``. A lab without DR serves none instead of failing every scrape; once DR is deployed, a pair
the DR collector cannot read fails the scrape (fail closed). The same judgement decides the
provincial NOC's ``postgres`` targets (:func:`postgres_sd`, served as http_sd): none before DR runs,
so no down target for a database tier that was never deployed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from prometheus_client.core import Metric

from egovops.model.province import Province

MODES = ("auto", "on", "off")


def dr_deployed(province: Province) -> tuple[bool, str]:
    if province.meta.environment != "lab":
        return True, "production: DR is part of the estate"
    from egovops.harden.playbook import work_dir
    from egovops.lab.lifecycle import state_file
    try:
        started = float(json.loads(state_file(province).read_text())["started"])
    except (OSError, ValueError, KeyError, TypeError):
        return False, "lab state unreadable: DR deployment unknown"
    base = work_dir(province, Path("dr.yml")).parent
    runs = [f for f in base.glob("dr*/*.log") if f.stat().st_mtime >= started] if base.is_dir() else []
    if runs:
        return True, f"DR deployed on this lab ({', '.join(sorted({f.parent.name for f in runs}))} ran since lab up)"
    return False, "DR not deployed on this lab (no DR playbook ran since lab up)"


class DrGate:
    """The DR collector behind :func:`dr_deployed` (mode ``auto``)."""

    def __init__(self, province: Province, collector) -> None:
        self.p, self.collector = province, collector

    def collect(self) -> Iterable[Metric]:
        if dr_deployed(self.p)[0]:
            yield from self.collector.collect()


def postgres_sd(province: Province) -> list[dict]:
    """http_sd target groups of the DR database tier's postgres_exporter: empty until DR is deployed."""
    from egovops.render.prometheus import postgres_targets
    return postgres_targets(province) if dr_deployed(province)[0] else []
