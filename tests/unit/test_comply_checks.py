"""The checks' judgement on canned host output (a fake testinfra host): pass, fail with evidence, error."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from egovops.compliance.checks import Ctx, access, audit, identity, intrusion
from egovops.compliance.targets import role_params

pytestmark = pytest.mark.unit

SSHD_OK = """permitrootlogin no
passwordauthentication no
kbdinteractiveauthentication no
permitemptypasswords no
hostbasedauthentication no
pubkeyauthentication yes
maxauthtries 4
maxsessions 4
x11forwarding no
allowtcpforwarding no
allowagentforwarding no
allowstreamlocalforwarding no
permittunnel no
banner /etc/issue.net
clientaliveinterval 300
denyusers egov-breakglass
"""
HASH = "$6$saltsalt$Zm9vYmFyYmF6cXV4Y2FuYXJ5c2VjcmV0"


@dataclass
class R:
    rc: int
    stdout: str
    stderr: str = ""


class FakeHost:
    def __init__(self, answers: dict[str, tuple[int, str]]):
        self.answers = answers
        self.commands: list[str] = []

    def run(self, cmd: str) -> R:
        self.commands.append(cmd)
        for pat, (rc, out) in self.answers.items():
            if re.search(pat, cmd):
                return R(rc, out)
        return R(1, "")


def ctx(answers: dict[str, tuple[int, str]]) -> tuple[FakeHost, Ctx]:
    h = FakeHost(answers)
    hv = {"egov_syslog_servers": ["198.19.15.128", "fd00:34:0:ff::f80"],
          "egov_host_firewall": [{"port": 22, "proto": "tcp", "from": "management", "why": "ssh"},
                                 {"port": 443, "proto": "tcp", "from": "extranet", "why": "svc"}]}
    return h, Ctx("hefei", hv, role_params(), host=h)


@pytest.mark.parametrize("line,bad", [("maxsessions 4", "maxsessions 10"), ("allowtcpforwarding no", "allowtcpforwarding yes"),
                                      ("allowagentforwarding no", "allowagentforwarding yes"),
                                      ("x11forwarding no", "x11forwarding yes")])
def test_ssh_session_limits_and_forwarding(line, bad):
    """Auditors' findings on a hardened host: more sessions per connection or any forwarding fails."""
    h, c = ctx({r"sshd -T": (0, SSHD_OK)})
    assert identity.ssh_authentication(h, c).status == "pass"
    h, c = ctx({r"sshd -T": (0, SSHD_OK.replace(line, bad))})
    out = identity.ssh_authentication(h, c)
    assert out.status == "fail" and bad.replace(" ", "=") in out.evidence


@pytest.mark.parametrize("value", ["yes", "prohibit-password", "without-password", "forced-commands-only"])
def test_ssh_permit_root_login_other_than_no_fails_with_evidence(value):
    """No root logins (issue 11): even key-only root login fails the control."""
    h, c = ctx({r"sshd -T": (0, SSHD_OK.replace("permitrootlogin no", f"permitrootlogin {value}"))})
    out = identity.ssh_authentication(h, c)
    assert out.status == "fail" and f"permitrootlogin={value}" in out.evidence
    h, c = ctx({r"sshd -T": (0, SSHD_OK)})
    assert identity.ssh_authentication(h, c).status == "pass"


def test_sshd_unreadable_is_error_not_pass():
    h, c = ctx({r"sshd -T": (255, "sshd: no hostkeys available -- exiting.")})
    assert identity.ssh_authentication(h, c).status == "error"


def test_breakglass_evidence_never_contains_the_hash():
    shadow = f"root:*:1::::::\negov-breakglass:{HASH}:20000:0:99999:7:::\n"
    h, c = ctx({r"sshd -T": (0, SSHD_OK), r"cat /etc/shadow": (0, shadow)})
    out = identity.breakglass_account(h, c)
    assert out.status == "pass" and "sha512-crypt" in out.evidence
    assert HASH not in out.evidence and "saltsalt" not in out.evidence


def test_world_writable_file_in_usr_local_bin_fails():
    h, c = ctx({r"find .* -perm -0002": (0, "/usr/local/bin/planted\n")})
    out = access.world_writable(h, c)
    assert out.status == "fail" and "/usr/local/bin/planted" in out.evidence
    h, c = ctx({r"find .* -perm -0002": (0, "")})
    assert access.world_writable(h, c).status == "pass"


def test_firewall_disabled_is_fail_and_unmanageable_is_error():
    good = ("table inet egov_filter {\n chain input {\n type filter hook input priority filter; policy drop;\n"
            " icmpv6 type { nd-neighbor-solicit } accept\n"
            " ip saddr @management_v4 tcp dport 22 accept\n ip6 saddr @management_v6 tcp dport 22 accept\n"
            " ip saddr @extranet_v4 tcp dport 443 accept\n ip6 saddr @extranet_v6 tcp dport 443 accept\n }\n}\n")
    h, c = ctx({r"nft list chain": (0, good), r"is-enabled nftables": (0, "enabled")})
    assert intrusion.host_firewall(h, c).status == "pass"
    h, c = ctx({r"nft list chain": (1, "Error: No such file or directory"), r"is-enabled nftables": (1, "disabled")})
    out = intrusion.host_firewall(h, c)
    assert out.status == "fail" and "disabled" in out.evidence
    h, c = ctx({r"nft list chain": (0, good.replace("policy drop", "policy accept")), r"is-enabled": (0, "enabled")})
    assert intrusion.host_firewall(h, c).status == "fail"
    h, c = ctx({r"nft list chain": (1, "netlink: Error: cache initialization failed: Operation not permitted"),
                r"is-enabled": (1, "disabled")})
    assert intrusion.host_firewall(h, c).status == "error"


def _sysctl_out(params, override: dict[str, tuple[str, str]]) -> str:
    want = {**params["baseline_sysctl_net"], **params["baseline_sysctl_kernel"],
            "net.ipv6.conf.all.disable_ipv6": 0, "net.ipv6.conf.default.disable_ipv6": 0}
    lines = []
    for k, v in want.items():
        rw, val = override.get(k, ("rw", str(v)))
        lines.append(f"/proc/sys/{k.replace('.', '/')} {rw} {val}")
    return "\n".join(lines) + "\n"


def test_sysctl_wrong_and_writable_fails_read_only_is_error():
    p = role_params()
    h, c = ctx({r"/proc/sys": (0, _sysctl_out(p, {}))})
    out = intrusion.sysctl(h, c)
    assert out.status == "pass" and "disable_ipv6=0" in out.evidence
    h, c = ctx({r"/proc/sys": (0, _sysctl_out(p, {"net.ipv4.conf.all.send_redirects": ("rw", "1")}))})
    assert intrusion.sysctl(h, c).status == "fail"
    h, c = ctx({r"/proc/sys": (0, _sysctl_out(p, {"net.ipv6.conf.all.disable_ipv6": ("rw", "1")}))})
    assert intrusion.sysctl(h, c).status == "fail"  # IPv6 disabled is a failure
    h, c = ctx({r"/proc/sys": (0, _sysctl_out(p, {"net.ipv4.conf.all.send_redirects": ("ro", "1")}))})
    out = intrusion.sysctl(h, c)
    assert out.status == "error" and "read-only" in out.evidence


def test_kernel_audit_unavailable_is_error_never_pass():
    h, c = ctx({r"auditctl -s": (1, "Error - audit support not in kernel"), r"is-active auditd": (3, "failed")})
    out = audit.auditd_enabled(h, c)
    assert out.status == "error" and "audit support not in kernel" in out.evidence
    h, c = ctx({r"auditctl -s": (0, "enabled 1\nfailure 1\npid 123"), r"is-active auditd": (0, "active")})
    assert audit.auditd_enabled(h, c).status == "pass"


def test_log_forwarding_needs_every_noc_server_over_tcp():
    conf = ('*.* action(type="omfwd" target="198.19.15.128" port="514" protocol="tcp")\n'
            '*.* action(type="omfwd" target="fd00:34:0:ff::f80" port="514" protocol="udp")\n')
    h, c = ctx({r"cat /etc/rsyslog.conf": (0, conf), r"is-active rsyslog": (0, "active")})
    out = audit.log_forwarding(h, c)
    assert out.status == "fail" and "fd00:34:0:ff::f80" in out.evidence
    h, c = ctx({r"cat /etc/rsyslog.conf": (0, conf.replace("udp", "tcp")), r"is-active rsyslog": (0, "active")})
    assert audit.log_forwarding(h, c).status == "pass"


def test_listening_ports_only_inventory_ports_off_loopback():
    ss = ("tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:*\ntcp LISTEN 0 128 127.0.0.1:631 0.0.0.0:*\n"
          "udp UNCONN 0 0 [::1]:323 [::]:*\n")
    h, c = ctx({r"^ss ": (0, ss)})
    assert intrusion.listening_ports(h, c).status == "pass"
    h, c = ctx({r"^ss ": (0, ss + "tcp LISTEN 0 5 *:23 *:*\n")})
    out = intrusion.listening_ports(h, c)
    assert out.status == "fail" and "tcp/23" in out.evidence


def test_duplicate_uid0_fails():
    passwd = "root:x:0:0::/root:/bin/bash\ntoor:x:0:0::/root:/bin/bash\n"
    h, c = ctx({r"cat /etc/passwd": (0, passwd), r"cat /etc/shadow": (0, "root:*:1::::::\ntoor:*:1::::::\n")})
    out = identity.unique_accounts(h, c)
    assert out.status == "fail" and "toor" in out.evidence
