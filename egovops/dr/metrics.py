"""``DrCollector``: the DR series of the egovops exporter (port 9560), names per monitors/README.md.

A prometheus_client custom collector. It reads the same status as ``egovops dr status`` on every
scrape and raises when it cannot give a complete answer (a row that could not be read, the object
tier's metrics failing): the scrape then fails (HTTP 500) and the exporter-down alert fires —
an unread replica is never reported healthy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from egovops.dr.status import DrStatus, tier_targets
from egovops.model.province import Province

LABELS = ["tier", "source", "target", "store"]


class IncompleteError(RuntimeError):
    """The collector could not read every tier and pair."""


class DrCollector(Collector):
    def __init__(self, province: Province, reader: Callable[[Province], DrStatus] | None = None) -> None:
        self.province = province
        self.reader = reader

    def _status(self) -> DrStatus:
        if self.reader is not None:
            return self.reader(self.province)
        from egovops.dr.service import status
        return status(self.province)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        targets = tier_targets(self.province)
        rpo = GaugeMetricFamily("egov_dr_rpo_seconds", "The tier's recovery point objective (dr.yaml)", labels=["tier"])
        rto = GaugeMetricFamily("egov_dr_rto_seconds", "The tier's recovery time objective (dr.yaml)", labels=["tier"])
        for tier, t in sorted(targets.items()):
            rpo.add_metric([tier], t["rpo_seconds"])
            rto.add_metric([tier], t["rto_seconds"])
        st = self._status()
        if not st.complete:
            unread = [f"{p.store}/{p.tier} {p.source}->{p.target}: {p.problem}" for p in st.pairs if not p.readable]
            raise IncompleteError("DR status incomplete: " + ("; ".join(unread) or "no pairs"))
        lag = GaugeMetricFamily("egov_dr_replication_lag_seconds", "How far the copy at target is behind source",
                                labels=LABELS)
        sync = GaugeMetricFamily("egov_dr_last_sync_timestamp_seconds", "Last successful sync verified by psql/boto3",
                                 labels=LABELS)
        healthy = GaugeMetricFamily("egov_dr_replication_healthy", "1 healthy, 0 not (as `egovops dr status`)",
                                    labels=LABELS)
        backup = GaugeMetricFamily("egov_dr_last_verified_backup_timestamp_seconds",
                                   "Newest pgBackRest backup that pgbackrest info confirms",
                                   labels=["tier", "source", "target"])
        for p in st.pairs:
            labels = [p.tier, p.source, p.target, p.store]
            healthy.add_metric(labels, 1.0 if p.healthy else 0.0)
            if p.lag_seconds is not None:
                lag.add_metric(labels, float(p.lag_seconds))
            if p.last_sync is not None:
                sync.add_metric(labels, float(p.last_sync))
            if p.last_verified_backup is not None:
                backup.add_metric([p.tier, p.source, p.target], float(p.last_verified_backup))
        yield from (rpo, rto, lag, sync, healthy, backup)
