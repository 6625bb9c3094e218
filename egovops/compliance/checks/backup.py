"""数据备份恢复 (8.1.4.9) checks: L3-CES9-xx."""

from __future__ import annotations

from egovops.compliance.checks import Ctx, Outcome, quote

JOB = "/etc/cron.daily/egov-etc-backup"


def config_backup(host, ctx: Ctx) -> Outcome:
    d = ctx.p("backup_dir")
    r = ctx.run(f"test -x {JOB} && echo job; ls -t {quote(d)}/etc-*.tar.gz 2>/dev/null | head -1 | "
                f"xargs -r stat -c '%n %s %Y'; date +%s")
    lines = r.stdout.split("\n")
    job = "job" in lines
    now = int(lines[-2]) if lines[-1] == "" else int(lines[-1])
    latest = next((line.split() for line in lines if line.startswith("/")), None)
    age_h = (now - int(latest[2])) / 3600 if latest else None
    ok = job and latest is not None and int(latest[1]) > 0 and age_h is not None and age_h <= 48
    ev = (f"daily job {'present' if job else 'absent'}; latest archive "
          + (f"{latest[0]} ({int(latest[1]) // 1024} KiB, {age_h:.1f} h old)" if latest else "none"))
    return Outcome.of(ok, ev)
