"""The egovops exporter (port 9560 on the NOC controller): only what no standard exporter gives.

* ``egov_link_info`` / ``egov_router_info`` — the inventory as series, so rules can join frr and
  probe series to city and plane;
* ``egov_ospf6_neighbor_full`` — frr_exporter 1.1.4 has no OSPFv3 collector (lab: vtysh JSON per
  router namespace);
* ``egov_interface_address_present`` — the dual-stack plan's addresses per router interface (the
  same reading as ``net verify``);
* ``egov_drift_*`` — from the scheduled drift checks' state file (:mod:`egovops.monitor.drift`);
* the DR collector (``egovops.dr.metrics.DrCollector``) when that module exists;
* ``/sd/postgres``: the DR database exporters as Prometheus http_sd targets, once DR is deployed.

Fail closed: a collector that cannot give a complete answer raises, and the handler answers
HTTP 500 with the reason — Prometheus records the scrape as failed (``up == 0``) instead of
storing partial data as if whole.

Run as ``python -m egovops.monitor.exporter --inventory PATH --state DIR --listen ADDR:PORT``
(``egovops monitor up`` does, in the lab; a production controller runs the rendered unit).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import threading
import time
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

from egovops.model.province import Province
from egovops.monitor import drift
from egovops.monitor.drgate import postgres_sd
from egovops.render.intents import Interface
from egovops.render.monitor_settings import DR_SD_PATH, PROVINCE_NOC


class CollectError(RuntimeError):
    """A collector could not produce a complete answer (the scrape must fail)."""


def _noc(province: Province, city: str | None) -> str:
    return city if city and any(c.slug == city for c in province.cities) else PROVINCE_NOC


class InventoryCollector:
    """egov_router_info and egov_link_info, straight from the model."""

    def __init__(self, province: Province) -> None:
        self.p = province

    def collect(self) -> Iterable[Metric]:
        ri = GaugeMetricFamily("egov_router_info", "1 per router of the inventory", labels=["router", "role", "city", "noc"])
        for r in self.p.routers:
            if r.is_ours:
                ri.add_metric([r.name, r.role, r.city or "", _noc(self.p, r.city)], 1)
        li = GaugeMetricFamily("egov_link_info", "1 per router end of every extranet link",
                               labels=["router", "iface", "peer", "city", "plane", "segment"])
        for link in self.p.links:
            if link.kind not in ("backbone", "county"):
                continue
            segment = "province_city" if link.kind == "backbone" else "city_county"
            city = self.p.router(link.b.device).city or ""
            for end, other in ((link.a, link.b), (link.b, link.a)):
                li.add_metric([end.device, end.ifname, other.device, city, link.plane or "", segment], 1)
        yield ri
        yield li


class Ospf6Collector:
    """egov_ospf6_neighbor_full per router interface that should have an OSPFv3 neighbour."""

    def __init__(self, province: Province) -> None:
        self.p = province

    def collect(self) -> Iterable[Metric]:
        from egovops.lab import lab_state, ns_of
        from egovops.network.targets import expected_adjacencies

        m = GaugeMetricFamily("egov_ospf6_neighbor_full", "1 when the OSPFv3 neighbour on the interface is Full",
                              labels=["router", "iface"])
        st = lab_state(self.p)
        if st is None:
            raise CollectError(f"lab {self.p.meta.name} is not up: OSPFv3 state cannot be read")
        present = {d.name for d in st.routers}
        for d in st.routers:
            r = self.p.router(d.name)
            if not r.is_ours:
                continue
            want = expected_adjacencies(self.p, d.name, present)["ospf6"]
            if not want:
                continue
            ns = ns_of(self.p, d.name)
            try:
                out = subprocess.run(["ip", "netns", "exec", ns, "vtysh", "-N", ns, "-c", "show ipv6 ospf6 neighbor json"],
                                     capture_output=True, text=True, timeout=20)
                data = json.loads(out.stdout)
                nbrs = data["neighbors"]
            except (subprocess.TimeoutExpired, ValueError, KeyError, TypeError) as exc:
                raise CollectError(f"{d.name}: OSPFv3 neighbours not readable ({type(exc).__name__})") from None
            full = {f"{n.get('neighborId')}@{n.get('interfaceName')}" for n in nbrs if n.get("state") == "Full"}
            for key in sorted(want):
                iface = key.split("@", 1)[1]
                m.add_metric([d.name, iface], 1 if key in full else 0)
        yield m


class AddressCollector:
    """egov_interface_address_present: every address the dual-stack plan puts on a lab router's
    interfaces (lo + links to devices that are up), 1 configured / 0 missing — the same reading
    as ``net verify`` (FRR's ``show interface json`` per router namespace)."""

    def __init__(self, province: Province) -> None:
        self.p = province

    def collect(self) -> Iterable[Metric]:
        from egovops.lab import lab_state, ns_of
        from egovops.network.verify import address_rows, present_devices

        m = GaugeMetricFamily("egov_interface_address_present", "1 when the planned interface address is configured",
                              labels=["router", "iface", "family", "address", "city"])
        st = lab_state(self.p)
        if st is None:
            raise CollectError(f"lab {self.p.meta.name} is not up: interface addresses cannot be read")
        routers = [d.name for d in st.routers]
        present = present_devices(self.p, routers)
        for name in routers:
            r = self.p.router(name)
            if not r.is_ours:
                continue
            ns = ns_of(self.p, name)
            try:
                out = subprocess.run(["ip", "netns", "exec", ns, "vtysh", "-N", ns, "-c", "show interface json"],
                                     capture_output=True, text=True, timeout=20)
                rows = address_rows(self.p, name, out.stdout, present)
            except (subprocess.TimeoutExpired, ValueError) as exc:
                raise CollectError(f"{name}: interface addresses not readable ({type(exc).__name__})") from None
            peers = {i["name"]: i["peer"] for i in _intent_interfaces(self.p, name)}
            for a in rows:
                m.add_metric([name, a["iface"], a["family"], a["address"], self._city(r, peers.get(a["iface"]))],
                             1 if a["present"] else 0)
        yield m

    def _city(self, router, peer: str | None) -> str:
        if router.city:
            return router.city
        try:
            return (self.p.router(peer).city or "") if peer else ""
        except KeyError:
            return ""


def _intent_interfaces(province: Province, name: str) -> list[Interface]:
    from egovops.network.targets import intent_of
    return intent_of(province, name)["interfaces"]


class DriftCollector:
    """egov_drift_* from the drift checks' state file; no file or a corrupt one fails the scrape."""

    def __init__(self, province: Province, state_dir: Path) -> None:
        self.p, self.dir = province, state_dir

    def collect(self) -> Iterable[Metric]:
        try:
            data = drift.load(self.dir)
        except (OSError, ValueError) as exc:
            raise CollectError(f"drift state unreadable: {exc}") from None
        if data is None:
            raise CollectError(f"no drift check has completed yet ({drift.state_path(self.dir)})")
        det = GaugeMetricFamily("egov_drift_detected", "1 when the device differs from its intent",
                                labels=["device", "kind", "city", "noc"])
        ok = GaugeMetricFamily("egov_drift_check_success", "0 when the drift check could not read the device",
                               labels=["device", "kind"])
        ts = GaugeMetricFamily("egov_drift_last_check_timestamp_seconds", "When the drift check last completed",
                               labels=["kind"])
        for kind, res in sorted(data.items()):
            try:
                ts.add_metric([kind], float(res["timestamp"]))
                for d in res["devices"]:
                    city = self._city(d["device"], kind)
                    det.add_metric([d["device"], kind, city, _noc(self.p, city)], 1 if d["drift"] else 0)
                    ok.add_metric([d["device"], kind], 1 if d["ok"] else 0)
            except (KeyError, TypeError, ValueError) as exc:
                raise CollectError(f"drift state for {kind} malformed: {exc!r}") from None
        yield from (det, ok, ts)

    def _city(self, device: str, kind: str) -> str:
        try:
            return (self.p.router(device).city if kind == "router" else self.p.node(device).city) or ""
        except KeyError:
            return ""


def registry(province: Province, state_dir: Path, dr: str = "auto") -> CollectorRegistry:
    """The collectors. ``dr``: ``on`` serve the DR issue's series, ``off`` not, ``auto`` once DR is
    deployed (:mod:`egovops.monitor.drgate`, judged per scrape). When served, a DR collector that
    cannot read every pair fails the scrape."""
    from egovops.monitor.drgate import DrGate

    reg = CollectorRegistry(auto_describe=False)
    reg.register(InventoryCollector(province))
    if province.meta.environment == "lab":
        reg.register(Ospf6Collector(province))
        reg.register(AddressCollector(province))
    reg.register(DriftCollector(province, state_dir))
    collector = dr_collector(province) if dr != "off" else None
    if collector is not None:
        reg.register(collector if dr == "on" else DrGate(province, collector))
    return reg


def dr_collector(province: Province):
    """The DR issue's collector, when it is part of this checkout (imported lazily: monitoring works
    without it). An import that fails for any other reason than its absence is an error."""
    try:
        from egovops.dr.metrics import DrCollector
    except ModuleNotFoundError as exc:
        if exc.name in ("egovops.dr", "egovops.dr.metrics"):
            return None
        raise
    return DrCollector(province)


# One collection at a time, its whole answer (or its error) shared for this long: the collectors run
# vtysh in every router namespace and SSH to DR sites, so overlapping scrapes (two NOCs, an operator's
# curl, a slow machine) must not each start another round and pile up.
ANSWER_TTL_S = 10.0


def serve(province: Province, state_dir: Path, host: str, port: int, dr: str = "auto") -> None:
    reg = registry(province, state_dir, dr)
    lock = threading.Lock()
    last: dict[str, object] = {"at": -ANSWER_TTL_S, "body": b"", "error": ""}

    def answer() -> tuple[bytes, str]:
        with lock:
            if time.monotonic() - float(last["at"]) >= ANSWER_TTL_S:  # type: ignore[arg-type]
                try:
                    last.update(body=generate_latest(reg), error="")
                except Exception as exc:  # fail closed: no partial answer, the error is the answer
                    last.update(body=b"", error=f"egovops exporter: {type(exc).__name__}: {exc}\n")
                last["at"] = time.monotonic()
            return last["body"], last["error"]  # type: ignore[return-value]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server API)
            if self.path.split("?")[0] == DR_SD_PATH:
                self._sd()
                return
            if self.path.split("?")[0] != "/metrics":
                self._send(404, b"see /metrics\n", "text/plain")
                return
            body, error = answer()
            try:
                if error:
                    self._send(500, error.encode(), "text/plain")
                else:
                    self._send(200, body, "text/plain; version=0.0.4; charset=utf-8")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the scraper gave up waiting (its timeout); nothing to tell it

        def _sd(self) -> None:
            """The DR database exporters as http_sd (none before DR is deployed). An error answers
            500: Prometheus then keeps the last good list instead of dropping the targets."""
            try:
                body, code = json.dumps(postgres_sd(province)).encode(), 200
            except Exception as exc:  # fail closed: no guessed list
                body, code = f"egovops exporter: {type(exc).__name__}: {exc}\n".encode(), 500
            try:
                self._send(code, body, "application/json" if code == 200 else "text/plain")
            except (BrokenPipeError, ConnectionResetError):
                pass

        def _send(self, code: int, body: bytes, ctype: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt: str, *args) -> None:  # scrapes every 5 s: no access log
            pass

    ThreadingHTTPServer((host, port), Handler).serve_forever()


def main(argv: list[str] | None = None) -> None:
    from egovops.model.load import load_inventory

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inventory", required=True)
    ap.add_argument("--state", required=True, help="folder holding drift.json")
    ap.add_argument("--listen", required=True, help="ADDRESS:PORT")
    ap.add_argument("--dr", choices=("auto", "on", "off"), default="auto",
                    help="serve the DR series (egovops.dr.metrics): auto = once DR is deployed")
    a = ap.parse_args(argv)
    host, _, port = a.listen.rpartition(":")
    serve(load_inventory(a.inventory), Path(a.state), host.strip("[]"), int(port), a.dr)


if __name__ == "__main__":
    main()
