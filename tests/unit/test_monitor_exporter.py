"""The egovops exporter fails closed (a collector without a complete answer -> HTTP 500, never a
partial 200), serves drift and inventory series; the webhook sink records per receiver."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from egovops.model import load_inventory
from egovops.monitor import drift, exporter, sinks

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[2]
LAB = REPO / "inventories" / "lab"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(target, *args) -> None:
    threading.Thread(target=target, args=args, daemon=True).start()


def _get(url: str) -> tuple[int, str]:
    deadline = time.monotonic() + 10
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _production_registry_without_lab(p, state: Path):
    """The exporter's collectors minus the lab-only OSPFv3 one (no lab in unit tests)."""
    from prometheus_client import CollectorRegistry
    reg = CollectorRegistry(auto_describe=False)
    reg.register(exporter.InventoryCollector(p))
    reg.register(exporter.DriftCollector(p, state))
    return reg


def test_drift_collector_fails_closed(tmp_path: Path) -> None:
    from prometheus_client import generate_latest
    p = load_inventory(LAB)
    reg = _production_registry_without_lab(p, tmp_path)
    with pytest.raises(exporter.CollectError, match="no drift check"):
        generate_latest(reg)
    (tmp_path / "drift.json").write_text("{not json")
    with pytest.raises(exporter.CollectError, match="unreadable"):
        generate_latest(reg)
    drift.save(tmp_path.joinpath(), drift.DriftResult("router", 1700000000.0, 1.0, [
        drift.DeviceDrift("hefei-rt", "router", True, True, "+ x"),
        drift.DeviceDrift("chuzhou-rt", "router", False, False, "timeout")]))
    text = generate_latest(reg).decode()
    assert 'egov_drift_detected{city="hefei",device="hefei-rt",kind="router",noc="hefei"} 1.0' in text
    assert 'egov_drift_check_success{device="chuzhou-rt",kind="router"} 0.0' in text
    assert 'egov_drift_last_check_timestamp_seconds{kind="router"} 1.7e+09' in text
    assert text.count("egov_router_info{") == len([r for r in p.routers if r.is_ours])
    assert 'egov_link_info{city="hefei",iface="up-d",peer="province-rt",plane="data",router="hefei-rt",segment="province_city"} 1.0' in text


def test_http_500_when_a_collector_raises(tmp_path: Path, monkeypatch) -> None:
    p = load_inventory(LAB)
    monkeypatch.setattr(exporter, "registry", lambda prov, state, dr=True: _production_registry_without_lab(prov, state))
    monkeypatch.setattr(exporter, "ANSWER_TTL_S", 3.0)
    port = _free_port()
    _serve(exporter.serve, p, tmp_path, "127.0.0.1", port)
    code, body = _get(f"http://127.0.0.1:{port}/metrics")
    assert code == 500 and "no drift check" in body and "egov_router_info" not in body
    drift.save(tmp_path, drift.DriftResult("host", time.time(), 1.0, []))
    code, body = _get(f"http://127.0.0.1:{port}/metrics")
    assert code == 500, "within the answer's lifetime a scrape gets the same (whole) answer, not a new round"
    time.sleep(3.1)
    code, body = _get(f"http://127.0.0.1:{port}/metrics")
    assert code == 200 and "egov_router_info" in body


def test_sink_records_per_receiver_and_refuses_unknown(tmp_path: Path) -> None:
    port = _free_port()
    _serve(sinks.serve, tmp_path, "127.0.0.1", port, {"noc-hefei", "noc-province"})
    body = json.dumps({"status": "firing", "alerts": [{"status": "firing", "labels": {"alertname": "CityCutOff"},
                                                       "annotations": {"runbook_url": "u"}}]}).encode()

    def post(name: str) -> int:
        req = urllib.request.Request(f"http://127.0.0.1:{port}/{name}", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        deadline = time.monotonic() + 10
        while True:
            try:
                with urllib.request.urlopen(req, timeout=5) as r:
                    return r.status
            except urllib.error.HTTPError as e:
                return e.code
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    assert post("noc-hefei") == 200 and post("noc-hefei") == 200
    assert post("noc-nowhere") == 404
    got = sinks.read(tmp_path)
    assert list(got) == ["noc-hefei"] and len(got["noc-hefei"]) == 2
    assert got["noc-hefei"][0]["payload"]["alerts"][0]["annotations"]["runbook_url"] == "u"
    (tmp_path / "noc-hefei.jsonl").write_text("garbage\n")
    with pytest.raises(ValueError, match="not a JSON line"):
        sinks.read(tmp_path)


def test_dr_metrics_only_once_dr_was_deployed_on_the_lab(tmp_path: Path, monkeypatch) -> None:
    """A lab without DR gets no DR series (its scrape would always fail); once a DR playbook ran on
    this lab since it came up, the next scrape serves them (no restart: deploy runs monitoring
    before dr); a DR collector that raises then fails the scrape; production always; on/off win."""
    import os

    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.core import GaugeMetricFamily

    from egovops.harden import playbook
    from egovops.lab.lifecycle import state_file
    from egovops.monitor.drgate import DrGate, dr_deployed
    from egovops.monitor.service import dr_wanted

    class FakeDr:
        fail = False

        def collect(self):
            if self.fail:
                raise RuntimeError("DR status incomplete")
            yield GaugeMetricFamily("egov_dr_rpo_seconds", "rpo", value=900)

    monkeypatch.setenv("EGOVOPS_LAB_DIR", str(tmp_path / "labs"))
    monkeypatch.setattr(playbook, "work_dir", lambda p, pb: tmp_path / "build" / p.meta.name / Path(pb).stem)
    p = load_inventory(LAB)
    fake = FakeDr()
    reg = CollectorRegistry(auto_describe=False)
    reg.register(DrGate(p, fake))
    assert dr_deployed(p)[0] is False                                 # no lab state at all
    state_file(p).parent.mkdir(parents=True)
    state_file(p).write_text(json.dumps({"started": time.time() - 100}))
    assert dr_deployed(p)[0] is False                                 # lab up, DR never deployed
    old = tmp_path / "build" / p.meta.name / "dr" / "dr.log"
    old.parent.mkdir(parents=True)
    old.write_text("x")
    os.utime(old, (time.time() - 1000, time.time() - 1000))           # a DR run of an earlier lab
    assert dr_deployed(p)[0] is False
    fake.fail = True
    assert "egov_dr_rpo_seconds" not in generate_latest(reg).decode()  # not deployed: nothing, no error
    old.write_text("y")                                               # DR ran on this lab
    on, why = dr_deployed(p)
    assert on and "dr" in why
    with pytest.raises(RuntimeError, match="incomplete"):              # deployed: fail closed
        generate_latest(reg)
    fake.fail = False
    assert "egov_dr_rpo_seconds 900.0" in generate_latest(reg).decode()
    assert dr_wanted(p, "off") == (False, "--dr off")
    assert dr_deployed(load_inventory(REPO / "inventories" / "anhui"))[0] is True


def test_postgres_http_sd_follows_the_dr_gate(tmp_path: Path, monkeypatch) -> None:
    """/sd/postgres: [] while DR is not deployed, the DR pair's exporters once it is (judged per
    request: no restart), HTTP 500 when the gate cannot be judged (Prometheus keeps its last list)."""
    from egovops.monitor import drgate

    p = load_inventory(LAB)
    monkeypatch.setattr(exporter, "registry", lambda prov, state, dr=True: _production_registry_without_lab(prov, state))
    state = {"on": False, "boom": False}

    def gate(prov):
        if state["boom"]:
            raise OSError("lab state unreadable")
        return state["on"], "test"

    monkeypatch.setattr(drgate, "dr_deployed", gate)
    port = _free_port()
    _serve(exporter.serve, p, tmp_path, "127.0.0.1", port)
    assert _get(f"http://127.0.0.1:{port}/sd/postgres") == (200, "[]")
    state["on"] = True
    code, body = _get(f"http://127.0.0.1:{port}/sd/postgres")
    assert code == 200 and {g["labels"]["node"] for g in json.loads(body)} == {"province", "dr-local"}
    state["boom"] = True
    code, body = _get(f"http://127.0.0.1:{port}/sd/postgres")
    assert code == 500 and "lab state unreadable" in body
