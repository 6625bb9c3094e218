"""安全审计 (8.1.4.3) checks: L3-CES3-xx."""

from __future__ import annotations

import re

from egovops.compliance.checks import Ctx, Outcome, active_lines, kv

PERIOD_DAYS = {"daily": 1, "weekly": 7, "monthly": 30, "yearly": 365}


def _audit_status(ctx: Ctx) -> tuple[bool, str]:
    r = ctx.run("auditctl -s 2>&1")
    return r.rc == 0, " ".join(r.stdout.split())[:160]


def auditd_enabled(host, ctx: Ctx) -> Outcome:
    available, status = _audit_status(ctx)
    active = ctx.run("systemctl is-active auditd").stdout.strip()
    if not available:
        return Outcome("error", f"kernel audit unavailable here ({status}); auditd.service {active} — "
                                "the control cannot be met on this host")
    enabled = re.search(r"enabled (\d)", status)
    ok = active == "active" and enabled is not None and enabled.group(1) in ("1", "2")
    return Outcome.of(ok, f"auditd.service {active}; auditctl -s: {status}")


def audit_rules(host, ctx: Ctx) -> Outcome:
    on_disk = set(active_lines(ctx.run("cat /etc/audit/rules.d/*.rules 2>/dev/null").stdout))
    wanted = ctx.p("audit_rules")
    missing = [r["rule"] for r in wanted if r["rule"] not in on_disk]
    keys = sorted({r["key"] for r in wanted})
    file_ev = f"rules files: {len(wanted) - len(missing)}/{len(wanted)} required rules"
    if missing:
        return Outcome("fail", f"{file_ev}; missing: {'; '.join(missing[:4])}")
    available, status = _audit_status(ctx)
    if not available:
        return Outcome("error", f"{file_ev}; kernel audit unavailable ({status}) so the rules are not loaded")
    loaded = ctx.run("auditctl -l 2>&1").stdout
    not_loaded = [k for k in keys if f"key={k}" not in loaded and f"-k {k}" not in loaded]
    return Outcome.of(not not_loaded, f"{file_ev}; loaded keys: "
                      + ", ".join(f"{k}={'yes' if k not in not_loaded else 'NO'}" for k in keys))


def log_retention(host, ctx: Ctx) -> Outcome:
    want = ctx.p("log_retention_days")
    conf = ctx.run("cat /etc/logrotate.d/rsyslog 2>/dev/null").stdout
    lines = active_lines(conf)
    rotate = next((int(line.split()[1]) for line in lines if line.startswith("rotate ") and line.split()[1].isdigit()), None)
    period = next((line for line in lines if line in PERIOD_DAYS), None)
    maxage = next((int(line.split()[1]) for line in lines if line.startswith("maxage ")), None)
    days = (rotate or 0) * PERIOD_DAYS.get(period or "", 0)
    if maxage is not None:
        days = min(days, maxage)
    covers_auth = "/var/log/auth.log" in conf and "/var/log/syslog" in conf
    problems = []
    if days < want:
        problems.append(f"auth/syslog kept {days} days (rotate {rotate} x {period}) < {want}")
    if not covers_auth:
        problems.append("logrotate.d/rsyslog does not cover auth.log and syslog")
    auditd = kv(ctx.read("/etc/audit/auditd.conf"))
    if auditd and auditd.get("max_log_file_action", "").lower() != "keep_logs":
        problems.append(f"auditd max_log_file_action={auditd.get('max_log_file_action')} (audit logs rotated away)")
    exposed = ctx.run("find /var/log -xdev -type f \\( -perm -0002 -o -perm -0004 \\) ! -name lastlog ! -name wtmp "
                      "! -name btmp ! -name faillog 2>/dev/null | head -5").stdout.split()
    if exposed:
        problems.append(f"world-readable/writable logs: {', '.join(exposed)}")
    ev = (f"auth/syslog retained {days} days (rotate {rotate} {period}); auditd max_log_file_action="
          f"{auditd.get('max_log_file_action', 'n/a (auditd absent)')}; exposed log files: {len(exposed)}")
    return Outcome.of(not problems, ev + ("" if not problems else " — " + "; ".join(problems)))


def log_forwarding(host, ctx: Ctx) -> Outcome:
    text = ctx.run("cat /etc/rsyslog.conf /etc/rsyslog.d/*.conf 2>/dev/null").stdout
    body = "\n".join(active_lines(text))
    targets = set(re.findall(r'type="omfwd"[^)]*?target="([^"]+)"', body, flags=re.S))
    tcp = set(re.findall(r'target="([^"]+)"[^)]*?protocol="tcp"', body, flags=re.S))
    targets |= set(re.findall(r"^\*\.\*\s+@@\[?([0-9a-fA-F:.]+)\]?", body, flags=re.M))
    tcp |= set(re.findall(r"^\*\.\*\s+@@\[?([0-9a-fA-F:.]+)\]?", body, flags=re.M))
    want = set(ctx.hostvars.get("egov_syslog_servers", []))
    active = ctx.run("systemctl is-active rsyslog").stdout.strip()
    missing = sorted(want - (targets & tcp))
    ok = not missing and active == "active" and bool(want)
    return Outcome.of(ok, f"rsyslog {active}; TCP forwarding targets: {', '.join(sorted(targets & tcp)) or 'none'}"
                          + (f"; missing NOC servers: {', '.join(missing)}" if missing else ""))


def time_sync(host, ctx: Ctx) -> Outcome:
    lines = active_lines(ctx.read("/etc/chrony/chrony.conf"))
    servers = {line.split()[1] for line in lines if line.split()[0] in ("server", "peer") and len(line.split()) > 1}
    pools = [line.split()[1] for line in lines if line.split()[0] == "pool" and len(line.split()) > 1]
    want = set(ctx.hostvars.get("egov_ntp_servers", []))
    active = ctx.run("systemctl is-active chrony").stdout.strip()
    src = ctx.run("chronyc -n -c sources 2>/dev/null").stdout.splitlines()
    reach = sum(1 for line in src if line.split(",")[5:6] and line.split(",")[5] not in ("0",))
    ok = servers == want and not pools and active == "active"
    ev = (f"chrony {active}; servers {', '.join(sorted(servers)) or 'none'}"
          + (f"; pools {', '.join(pools)}" if pools else "") + f"; sources reachable {reach}/{len(src)}")
    if servers != want:
        ev += f" — want exactly the NOC's {', '.join(sorted(want))}"
    return Outcome.of(ok, ev)
