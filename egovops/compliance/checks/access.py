"""访问控制 (8.1.4.2) checks: L3-CES2-xx."""

from __future__ import annotations

from egovops.compliance.checks import Ctx, Outcome, quote

NOLOGIN = {"/usr/sbin/nologin", "/sbin/nologin", "/bin/false", "/usr/bin/false"}


def system_accounts(host, ctx: Ctx) -> Outcome:
    passwd = ctx.read("/etc/passwd")
    shadow = ctx.read("/etc/shadow")
    if passwd is None or shadow is None:
        return Outcome("error", "cannot read /etc/passwd or /etc/shadow")
    pw = {ln.split(":")[0]: ln.split(":")[1] for ln in shadow.splitlines() if ":" in ln}
    bad, n = [], 0
    for line in passwd.splitlines():
        f = line.split(":")
        if len(f) < 7 or f[0] in ("root", "sync", "shutdown", "halt"):
            continue
        uid = int(f[2])
        if uid >= 1000 and uid != 65534:
            continue
        n += 1
        if f[6] not in NOLOGIN:
            bad.append(f"{f[0]} shell {f[6]}")
        if not pw.get(f[0], "!").startswith(("!", "*")):
            bad.append(f"{f[0]} password not locked")
    return Outcome.of(not bad, f"{n} system accounts; " + ("all nologin and locked" if not bad else "; ".join(bad)))


def unused_accounts(host, ctx: Ctx) -> Outcome:
    names = {ln.split(":")[0] for ln in (ctx.read("/etc/passwd") or "").splitlines()}
    present = [u for u in ctx.p("unused_accounts") if u in names]
    return Outcome.of(not present, f"present: {', '.join(present)}" if present
                      else f"none of {', '.join(ctx.p('unused_accounts'))} present")


def sudo_policy(host, ctx: Ctx) -> Outcome:
    r = ctx.run("grep -HnE '^[^#]*NOPASSWD' /etc/sudoers /etc/sudoers.d/* 2>/dev/null")
    nopasswd = [ln for ln in r.stdout.splitlines() if ln.strip()]
    d = ctx.run("cat /etc/sudoers /etc/sudoers.d/* 2>/dev/null").stdout
    defaults = [ln.strip() for ln in d.splitlines() if ln.strip().startswith("Defaults")]
    use_pty = any("use_pty" in ln for ln in defaults)
    logfile = any("logfile=" in ln for ln in defaults)
    ok = not nopasswd and use_pty and logfile
    ev = f"NOPASSWD rules: {len(nopasswd)}{' (' + '; '.join(nopasswd[:3]) + ')' if nopasswd else ''}; use_pty={use_pty}; logfile={logfile}"
    return Outcome.of(ok, ev)


def sensitive_files(host, ctx: Ctx) -> Outcome:
    files = list(ctx.p("sensitive_files"))
    keys = ctx.run("ls /etc/ssh/ssh_host_*_key 2>/dev/null").stdout.split()
    files += [{"path": k, "mode": "0600", "owner": "root", "group": "root"} for k in keys]
    paths = " ".join(quote(f["path"]) for f in files)
    r = ctx.run(f"stat -c '%n %a %U %G' {paths} 2>/dev/null")
    seen = {}
    for line in r.stdout.splitlines():
        p, mode, owner, group = line.rsplit(" ", 3)
        seen[p] = (int(mode, 8), owner, group)
    bad = []
    for f in files:
        if f["path"] not in seen:
            continue  # an absent file exposes nothing
        mode, owner, group = seen[f["path"]]
        want = int(str(f["mode"]), 8)
        if mode & ~want or owner != f["owner"] or group != f["group"]:
            bad.append(f"{f['path']} {mode:o} {owner}:{group} (want {want:o} {f['owner']}:{f['group']})")
    return Outcome.of(not bad, f"{len(seen)} files checked; " + ("all as required" if not bad else "; ".join(bad)))


def world_writable(host, ctx: Ctx) -> Outcome:
    paths = " ".join(quote(p) for p in ctx.p("world_writable_paths"))
    r = ctx.run(f"find {paths} -xdev -type f -perm -0002 2>/dev/null | head -20")
    found = r.stdout.split()
    return Outcome.of(not found, f"world-writable files in {', '.join(ctx.p('world_writable_paths'))}: "
                                 + (", ".join(found) if found else "none"))
