"""Put each node's compliance metrics into its own node_exporter textfile directory.

So every node's node_exporter (scraped by the NOC's Prometheus anyway) serves
``egov_compliance_control_status`` for itself; written atomically (temp file + rename), as the
textfile collector requires.
"""

from __future__ import annotations

import shlex
from concurrent.futures import ThreadPoolExecutor

import testinfra

from egovops.compliance.results import Scan
from egovops.compliance.runner import ssh_config, verified_client
from egovops.exporters.compliance import NODE_EXPORTER_TEXTFILE_DIR, exposition
from egovops.harden.targets import Selection


def push_textfiles(scan: Scan, sel: Selection) -> int:
    cfg = ssh_config(sel.key)
    d = NODE_EXPORTER_TEXTFILE_DIR

    def one(t) -> bool:
        text = exposition(scan, t.node)
        host = testinfra.get_host(f"paramiko://root@{t.address}", ssh_config=cfg)
        host.backend.__dict__["client"] = verified_client(t, sel.key, sel.known_hosts, 15)   # host key verified
        cmd = (f"mkdir -p {d} && printf %s {shlex.quote(text)} > {d}/egov_compliance.prom.tmp && "
               f"mv {d}/egov_compliance.prom.tmp {d}/egov_compliance.prom")
        return host.run(cmd).rc == 0

    try:
        with ThreadPoolExecutor(max_workers=max(1, len(sel.targets))) as pool:
            return sum(pool.map(one, [t for t in sel.targets if t.node in scan.nodes()]))
    finally:
        import os
        os.unlink(cfg)
