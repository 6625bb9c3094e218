"""Put each node's compliance metrics into its own node_exporter textfile directory.

So every node's node_exporter (scraped by the NOC's Prometheus anyway) serves
``egov_compliance_control_status`` for itself; written atomically (temp file + rename), as the
textfile collector requires.
"""

from __future__ import annotations

import shlex
from concurrent.futures import ThreadPoolExecutor

from egovops.compliance.results import Scan
from egovops.compliance.runner import connect, ssh_config
from egovops.exporters.compliance import NODE_EXPORTER_TEXTFILE_DIR, exposition
from egovops.harden.targets import Selection


def push_textfiles(scan: Scan, sel: Selection) -> int:
    """Write each scanned node's metrics file over SSH (the admin account, root by sudo; host key
    verified); return how many nodes took it (a node that did not is simply not counted)."""
    login = sel.admin
    cfg = ssh_config(login.key, login.user)
    d = NODE_EXPORTER_TEXTFILE_DIR

    def one(t) -> bool:
        text = exposition(scan, t.node)
        cmd = (f"mkdir -p {d} && printf %s {shlex.quote(text)} > {d}/egov_compliance.prom.tmp && "
               f"mv {d}/egov_compliance.prom.tmp {d}/egov_compliance.prom")
        try:
            host = connect(t, login, cfg, sel.known_hosts)
        except Exception:  # noqa: BLE001 — not reached or no root: not written (counted)
            return False
        try:
            return bool(host.run(cmd).rc == 0)
        finally:
            host.backend.client.close()

    try:
        with ThreadPoolExecutor(max_workers=max(1, len(sel.targets))) as pool:
            return sum(pool.map(one, [t for t in sel.targets if t.node in scan.nodes()]))
    finally:
        import os
        os.unlink(cfg)
