"""剩余信息保护 (8.1.4.10) checks: L3-CES10-xx."""

from __future__ import annotations

from egovops.compliance.checks import Ctx, Outcome, kv


def core_dumps(host, ctx: Ctx) -> Outcome:
    r = ctx.run("cat /etc/security/limits.conf /etc/security/limits.d/*.conf 2>/dev/null")
    hard0 = any(line.split()[:4] == ["*", "hard", "core", "0"] for line in r.stdout.splitlines() if not line.startswith("#"))
    system = kv(ctx.read("/etc/systemd/system.conf"), sep="=").get("DefaultLimitCORE", "unset")
    dumpable = ctx.run("cat /proc/sys/fs/suid_dumpable").stdout.strip()
    ok = hard0 and system == "0" and dumpable == "0"
    return Outcome.of(ok, f"limits '* hard core 0'={'yes' if hard0 else 'no'}; systemd DefaultLimitCORE={system}; "
                          f"fs.suid_dumpable={dumpable}")
