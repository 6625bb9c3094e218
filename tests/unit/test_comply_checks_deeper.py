"""The auditors' deeper host items (issue 11 item 6) as checks: cron, sudoers.d, umask, hash cost and
the security repository. Each passes on a hardened host's output, fails with the offending value as
evidence, and reports error (never pass) when it cannot read what it checks."""

from __future__ import annotations

import pytest

from egovops.compliance.checks import access, confidentiality, intrusion
from tests.unit.test_comply_checks import ctx

pytestmark = pytest.mark.unit

CRON_OK = """/etc/cron.d 700 root root
/etc/cron.hourly 700 root root
/etc/cron.daily 700 root root
/etc/cron.weekly 700 root root
/etc/cron.monthly 700 root root
/etc/cron.allow 640 root crontab
__end__
"""
LOGIN_DEFS = """# login.defs
UMASK 027
ENCRYPT_METHOD YESCRYPT
YESCRYPT_COST_FACTOR 7
SHA_CRYPT_MIN_ROUNDS 65536
SHA_CRYPT_MAX_ROUNDS 65536
"""


def test_cron_permissions_pass_fail_and_error():
    h, c = ctx({r"stat .*cron": (0, CRON_OK), r"cat /etc/cron.allow": (0, "root\n")})
    assert access.cron_permissions(h, c).status == "pass"
    h, c = ctx({r"stat .*cron": (0, CRON_OK.replace("/etc/cron.daily 700", "/etc/cron.daily 755")),
                r"cat /etc/cron.allow": (0, "root\n")})
    out = access.cron_permissions(h, c)
    assert out.status == "fail" and "/etc/cron.daily 755" in out.evidence
    h, c = ctx({r"stat .*cron": (0, CRON_OK + "/etc/cron.deny 644 root root\n"), r"cat /etc/cron.allow": (0, "root\nalice\n")})
    out = access.cron_permissions(h, c)
    assert out.status == "fail" and "cron.deny present" in out.evidence and "alice" in out.evidence
    h, c = ctx({r"stat .*cron": (0, CRON_OK.replace("/etc/cron.allow 640 root crontab\n", ""))})
    assert "cron.allow absent" in access.cron_permissions(h, c).evidence
    h, c = ctx({})  # nothing readable
    assert access.cron_permissions(h, c).status == "error"


def test_sudoers_d_permissions():
    ok = "/etc/sudoers.d 750 root root\n/etc/sudoers.d/00-egov-baseline 440 root root\n/etc/sudoers.d/README 440 root root\n__end__\n"
    h, c = ctx({r"stat .*sudoers": (0, ok)})
    assert access.sudoers_permissions(h, c).status == "pass"
    h, c = ctx({r"stat .*sudoers": (0, ok.replace("README 440 root root", "README 644 root root"))})
    out = access.sudoers_permissions(h, c)
    assert out.status == "fail" and "/etc/sudoers.d/README 644" in out.evidence
    h, c = ctx({r"stat .*sudoers": (0, ok.replace("00-egov-baseline 440 root root", "00-egov-baseline 440 alice root"))})
    assert "alice" in access.sudoers_permissions(h, c).evidence
    h, c = ctx({r"stat .*sudoers": (0, "__end__\n")})
    assert access.sudoers_permissions(h, c).status == "error"


def test_default_umask_checks_login_defs_and_a_real_login_shell():
    h, c = ctx({r"cat /etc/login.defs": (0, LOGIN_DEFS), r"sh -lc umask": (0, "0027\n")})
    assert access.default_umask(h, c).status == "pass"
    h, c = ctx({r"cat /etc/login.defs": (0, LOGIN_DEFS), r"sh -lc umask": (0, "0022\n")})
    out = access.default_umask(h, c)
    assert out.status == "fail" and "login shell umask=0022" in out.evidence
    h, c = ctx({r"cat /etc/login.defs": (0, LOGIN_DEFS.replace("UMASK 027", "UMASK 022")), r"sh -lc umask": (0, "0077\n")})
    assert "login.defs UMASK=022" in access.default_umask(h, c).evidence
    h, c = ctx({r"cat /etc/login.defs": (0, LOGIN_DEFS)})  # the login shell could not be run
    assert access.default_umask(h, c).status == "error"


def test_password_hash_cost():
    h, c = ctx({r"cat /etc/login.defs": (0, LOGIN_DEFS)})
    assert confidentiality.password_hash_cost(h, c).status == "pass"
    h, c = ctx({r"cat /etc/login.defs": (0, LOGIN_DEFS.replace("YESCRYPT_COST_FACTOR 7", "YESCRYPT_COST_FACTOR 5"))})
    out = confidentiality.password_hash_cost(h, c)
    assert out.status == "fail" and "YESCRYPT_COST_FACTOR=5" in out.evidence
    h, c = ctx({r"cat /etc/login.defs": (0, LOGIN_DEFS.replace("SHA_CRYPT_MIN_ROUNDS 65536\n", ""))})
    assert "SHA_CRYPT_MIN_ROUNDS=unset" in confidentiality.password_hash_cost(h, c).evidence
    h, c = ctx({})
    assert confidentiality.password_hash_cost(h, c).status == "error"


@pytest.mark.parametrize("sources,ok", [
    ("deb http://deb.debian.org/debian bookworm main\ndeb http://security.debian.org/debian-security bookworm-security main\n", True),
    ("deb [signed-by=/usr/share/keyrings/k.gpg] http://mirror/debian-security bookworm-security main\n", True),
    ("Types: deb\nURIs: http://mirror/debian-security\nSuites: bookworm-security\nComponents: main\n", True),
    ("deb http://deb.debian.org/debian bookworm main\n# deb http://security.debian.org/debian-security bookworm-security main\n", False),
    ("Types: deb\nURIs: http://mirror/debian-security\nSuites: bookworm-security\nEnabled: no\n", False),
    ("deb http://security.debian.org/debian-security bullseye-security main\n", False),  # another release's
])
def test_security_updates_source(sources, ok):
    h, c = ctx({r"os-release": (0, "codename=bookworm\n" + sources + "__end__\n")})
    out = intrusion.security_updates_source(h, c)
    assert out.status == ("pass" if ok else "fail"), out.evidence
    if not ok:
        assert "bookworm-security" in out.evidence


def test_security_updates_source_unreadable_is_an_error():
    h, c = ctx({r"os-release": (1, "")})
    assert intrusion.security_updates_source(h, c).status == "error"
