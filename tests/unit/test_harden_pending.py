"""harden --check's per-control summary, read from the ansible-playbook log (default callback, --diff)."""

from __future__ import annotations

import pytest

from egovops.harden.pending import pending_changes

pytestmark = pytest.mark.unit

LOG = """\
PLAY [Level-3 security baseline] ***********************************************

TASK [baseline : PRELIM | AUDIT | Probe the host: container] *******************
ok: [chuzhou]
ok: [dr-remote]

TASK [baseline : L3-CES1-06 | PATCH | SSH login banner (/etc/issue.net)] *******
--- before: /etc/issue.net
+++ after: /etc/issue.net
@@ -1 +1,2 @@
-Debian GNU/Linux 12
+Authorised use only.
+This system belongs to the Anhui e-government cloud.

changed: [chuzhou]
ok: [dr-remote]

TASK [baseline : L3-CES2-05 | PATCH | No world-writable files in system paths] ***
--- before
+++ after
@@ -1,4 +1,4 @@
 {
-    "mode": "0777",
+    "mode": "0775",
     "path": "/usr/local/bin/egov-planted"
 }

changed: [chuzhou] => (item=/usr/local/bin/egov-planted)

TASK [baseline : L3-CES1-04 | PATCH | pam_faillock in common-auth and common-account (pam-auth-update)] ***
skipping: [chuzhou]
changed: [dr-remote]

RUNNING HANDLER [baseline : Reload ssh.service] ********************************
changed: [chuzhou]

PLAY RECAP *********************************************************************
chuzhou                    : ok=40   changed=3    unreachable=0    failed=0    skipped=10   rescued=0    ignored=0
"""


def test_pending_changes_per_control_with_each_hosts_diff():
    p = pending_changes(LOG)
    assert [c.control for c in p] == ["L3-CES1-06", "L3-CES2-05", "L3-CES1-04", ""]
    banner = p[0]
    assert banner.hosts == ["chuzhou"] and list(banner.diffs) == ["chuzhou"]
    assert banner.diffs["chuzhou"].startswith("--- before: /etc/issue.net") and "+Authorised use only." in banner.diffs["chuzhou"]
    assert '"mode": "0777"' in p[1].diffs["chuzhou"]
    assert p[2].hosts == ["dr-remote"] and p[2].diffs == {}  # a command: would run, no diff
    assert p[3].task == "Reload ssh.service"


def test_no_change_no_pending_and_ok_tasks_are_left_out():
    assert pending_changes(LOG.replace("changed: [", "ok: [")) == []
    assert pending_changes("") == []
