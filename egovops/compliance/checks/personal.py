"""个人信息保护 (8.1.4.11) checks: L3-CES11-xx."""

from __future__ import annotations

from egovops.compliance.checks import Ctx, Outcome, kv


def home_directories(host, ctx: Ctx) -> Outcome:
    home_mode = kv(ctx.read("/etc/login.defs"), sep="\x00").get("HOME_MODE", "unset")
    r = ctx.run("for h in /root $(awk -F: '$3 >= 1000 && $3 != 65534 {print $6}' /etc/passwd); do "
                "[ -d \"$h\" ] && stat -c '%n %a' \"$h\"; done")
    open_homes = [line for line in r.stdout.splitlines() if line.split() and int(line.split()[-1], 8) & 0o027]
    want = int(str(ctx.p("home_mode")), 8)
    mode_ok = home_mode.isdigit() and not (int(home_mode, 8) & ~want)
    n = len(r.stdout.splitlines())
    return Outcome.of(mode_ok and not open_homes,
                      f"login.defs HOME_MODE={home_mode}; {n} home directories, open to others: "
                      + (", ".join(open_homes) if open_homes else "none"))
