"""访问控制 (8.1.4.2) checks: L3-CES2-xx."""

from __future__ import annotations

from egovops.compliance.checks import Ctx, Outcome, kv, quote

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


def _stat(ctx: Ctx, paths: str) -> dict[str, tuple[int, str, str]] | None:
    """``stat`` of the given (shell-quoted, glob-expanded) paths: path -> (mode, owner, group); None if
    nothing could be read at all (the caller reports error, never pass)."""
    r = ctx.run(f"stat -c '%n %a %U %G' {paths} 2>/dev/null; echo __end__")
    if "__end__" not in r.stdout:
        return None
    out: dict[str, tuple[int, str, str]] = {}
    for line in r.stdout.splitlines():
        parts = line.rsplit(" ", 3)
        if len(parts) == 4 and parts[1].isdigit():
            out[parts[0]] = (int(parts[1], 8), parts[2], parts[3])
    return out


def cron_permissions(host, ctx: Ctx) -> Outcome:
    """L3-CES2-06: cron directories 0700 root:root; /etc/cron.allow lists only the allowed accounts
    (root-owned, group crontab, not readable by others); no /etc/cron.deny."""
    dirs = list(ctx.p("cron_dirs"))
    st = _stat(ctx, " ".join(quote(d) for d in [*dirs, "/etc/cron.allow", "/etc/cron.deny"]))
    if st is None or not any(d in st for d in dirs):
        return Outcome("error", "cannot stat the cron directories (cron not installed, or no shell access)")
    bad = []
    for d in dirs:
        if d in st:
            mode, owner, group = st[d]
            if mode & 0o077 or owner != "root" or group != "root":
                bad.append(f"{d} {mode:o} {owner}:{group} (want 700 root:root)")
    allow = ctx.read("/etc/cron.allow")
    if "/etc/cron.allow" not in st or allow is None:
        bad.append("/etc/cron.allow absent (every account may schedule jobs)")
    else:
        mode, owner, group = st["/etc/cron.allow"]
        if mode & 0o137 or owner != "root":
            bad.append(f"/etc/cron.allow {mode:o} {owner}:{group} (want 640 root:crontab)")
        extra = [u for u in (ln.strip() for ln in allow.splitlines()) if u and not u.startswith("#")
                 and u not in ctx.p("cron_allow")]
        if extra:
            bad.append(f"/etc/cron.allow also allows {', '.join(extra)}")
    if "/etc/cron.deny" in st:
        bad.append("/etc/cron.deny present")
    seen = ", ".join(f"{p} {m:o}" for p, (m, _, _) in sorted(st.items()))
    return Outcome.of(not bad, "; ".join(bad) if bad else f"as required: {seen}")


def sudoers_permissions(host, ctx: Ctx) -> Outcome:
    """L3-CES2-07: /etc/sudoers.d 0750 root:root, every drop-in in it 0440 root:root."""
    st = _stat(ctx, "/etc/sudoers.d /etc/sudoers.d/*")
    if st is None or "/etc/sudoers.d" not in st:
        return Outcome("error", "cannot stat /etc/sudoers.d")
    bad = []
    for path, (mode, owner, group) in sorted(st.items()):
        want = 0o750 if path == "/etc/sudoers.d" else 0o440
        if mode & ~want or owner != "root" or group != "root":
            bad.append(f"{path} {mode:o} {owner}:{group} (want {want:o} root:root)")
    return Outcome.of(not bad, "; ".join(bad) if bad else f"{len(st) - 1} drop-ins, all 440 root:root; directory 750")


def default_umask(host, ctx: Ctx) -> Outcome:
    """L3-CES2-08: login.defs UMASK and the umask a login shell really gets both mask at least 027."""
    want = int(str(ctx.p("umask")), 8)
    defs = ctx.read("/etc/login.defs")
    r = ctx.run("sh -lc umask </dev/null 2>/dev/null")
    shell = r.stdout.strip().splitlines()[-1].strip() if r.rc == 0 and r.stdout.strip() else ""
    if defs is None or not shell.isdigit():
        return Outcome("error", f"cannot read /etc/login.defs or a login shell's umask (got {shell!r})")
    umask = kv(defs, sep="\x00").get("UMASK", "unset")
    bad = []
    for where, value in (("login.defs UMASK", umask), ("login shell umask", shell)):
        if not value.isdigit() or int(value, 8) & want != want:
            bad.append(f"{where}={value} (want {want:03o} or stricter)")
    return Outcome.of(not bad, "; ".join(bad) if bad else f"login.defs UMASK={umask}; login shell umask {shell}")
