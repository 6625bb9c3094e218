"""数据完整性 (8.1.4.7) checks: L3-CES7-xx."""

from __future__ import annotations

from egovops.compliance.checks import Ctx, Outcome

CONF, DB, CRON = "/etc/egov-aide.conf", "/var/lib/aide/egov-baseline.db", "/etc/cron.daily/egov-aide"


def aide(host, ctx: Ctx) -> Outcome:
    r = ctx.run(f"command -v aide; stat -c '%n %s %Y %a' {CONF} {DB} {CRON} 2>/dev/null")
    lines = r.stdout.splitlines()
    binary = bool(lines) and lines[0].startswith("/")
    st = {line.split()[0]: line.split()[1:] for line in lines[1:] if line.startswith("/")}
    conf = ctx.read(CONF) or ""
    covered = [p for p in ctx.p("aide_paths") if f"\n{p} " in "\n" + conf]
    problems = []
    if not binary:
        problems.append("aide not installed")
    if DB not in st or int(st[DB][0]) == 0:
        problems.append("database not initialised")
    if CRON not in st or not (int(st[CRON][2], 8) & 0o100):
        problems.append("no daily check job")
    if len(covered) < len(ctx.p("aide_paths")):
        problems.append(f"monitors {len(covered)}/{len(ctx.p('aide_paths'))} required paths")
    ev = (f"aide {'installed' if binary else 'absent'}; database {f'{st[DB][0]} bytes' if DB in st else 'absent'}; "
          f"daily job {'present' if CRON in st else 'absent'}; monitored paths {len(covered)}/{len(ctx.p('aide_paths'))}")
    return Outcome.of(not problems, ev)
