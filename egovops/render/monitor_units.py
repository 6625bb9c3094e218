"""systemd units a production NOC controller installs (rendered, not run in the lab).

The lab machine has no systemd, so there ``egovops monitor up`` runs the exporter and a bounded
scheduler loop itself; in production the same work is done by these units: the egovops
exporter as a service, and the scheduled checks (router/host drift, compliance metrics) as
oneshot services fired by timers at the environment's check interval.
"""

from __future__ import annotations

from egovops.model.province import Province
from egovops.render import monitor_settings as settings
from egovops.render.files import header

STATE = "/var/lib/egovops/monitor"
INVENTORY = "/etc/egovops/inventory"
EXE = "/opt/egovops/.venv/bin"


def _header(province: Province, what: str) -> str:
    return f"# {header(province)}\n# {what}\n"


def render(province: Province) -> dict[str, str]:
    t = settings.timings(province)
    c = province.noc.controller
    listen = f"{c.ipv4.ip}:{settings.EGOVOPS_EXPORTER_PORT}"
    hardening = ("NoNewPrivileges=yes\nProtectSystem=strict\nProtectHome=yes\nPrivateTmp=yes\n"
                 f"ReadWritePaths={STATE}\nStateDirectory=egovops/monitor\n")
    out = {
        "units/egovops-exporter.service": _header(province, "egovops exporter") + (
            "[Unit]\nDescription=egovops exporter (drift, OSPFv3, inventory and DR metrics) on :9560\n"
            "After=network-online.target\nWants=network-online.target\n\n[Service]\n"
            f"ExecStart={EXE}/python -m egovops.monitor.exporter --inventory {INVENTORY} --state {STATE} --listen {listen}\n"
            "Restart=on-failure\nRestartSec=5\nDynamicUser=no\nUser=egovops\n" + hardening +
            "\n[Install]\nWantedBy=multi-user.target\n"),
    }
    for kind, desc in (("router", "router drift (the push engine's diff, read-only)"),
                       ("host", "host drift (harden --check)"),
                       ("comply", "compliance scan, metrics pushed to each node's node_exporter")):
        name = f"egovops-check-{kind}"
        out[f"units/{name}.service"] = _header(province, desc) + (
            f"[Unit]\nDescription=egovops scheduled check: {desc}\nAfter=network-online.target\n\n[Service]\n"
            f"Type=oneshot\nUser=egovops\nExecStart={EXE}/egovops monitor check --inventory {INVENTORY} "
            f"--state {STATE} --checks {kind}\nTimeoutStartSec={max(60, t.check_interval_s * 2)}\n" + hardening)
        out[f"units/{name}.timer"] = _header(province, desc) + (
            f"[Unit]\nDescription=every {t.check_interval_s}s: {desc}\n\n[Timer]\n"
            f"OnBootSec=60\nOnUnitActiveSec={t.check_interval_s}\nAccuracySec=5\nPersistent=true\n\n"
            "[Install]\nWantedBy=timers.target\n")
    return out
