"""身份鉴别 (8.1.4.1) checks: L3-CES1-xx."""

from __future__ import annotations

from egovops.compliance.checks import Ctx, Outcome, active_lines, kv


def unique_accounts(host, ctx: Ctx) -> Outcome:
    passwd = ctx.read("/etc/passwd")
    shadow = ctx.read("/etc/shadow")
    if passwd is None or shadow is None:
        return Outcome("error", "cannot read /etc/passwd or /etc/shadow")
    rows = [ln.split(":") for ln in passwd.splitlines() if ln.count(":") >= 6]
    uids = [r[2] for r in rows]
    names = [r[0] for r in rows]
    dup_uid = sorted({u for u in uids if uids.count(u) > 1})
    dup_name = sorted({n for n in names if names.count(n) > 1})
    uid0 = [r[0] for r in rows if r[2] == "0" and r[0] != "root"]
    empty = [ln.split(":")[0] for ln in shadow.splitlines() if ln.count(":") >= 2 and ln.split(":")[1] == ""]
    problems = []
    if dup_uid:
        problems.append(f"duplicate UIDs {dup_uid}")
    if dup_name:
        problems.append(f"duplicate names {dup_name}")
    if uid0:
        problems.append(f"UID 0 besides root: {uid0}")
    if empty:
        problems.append(f"empty passwords: {empty}")
    if problems:
        return Outcome("fail", "; ".join(problems))
    return Outcome("pass", f"{len(rows)} accounts, UIDs and names unique; UID 0 only root; no empty password")


def password_complexity(host, ctx: Ctx) -> Outcome:
    conf = ctx.read("/etc/security/pwquality.conf")
    stack = ctx.read("/etc/pam.d/common-password") or ""
    have = kv(conf)
    want = ctx.p("pwquality")
    problems = []
    for k in ("minlen", "minclass", "dictcheck"):
        v = have.get(k)
        if v is None or not v.lstrip("-").isdigit() or int(v) < int(want[k]):
            problems.append(f"{k}={v if v is not None else 'unset'} (want >= {want[k]})")
    mr = have.get("maxrepeat")
    if mr is None or not mr.isdigit() or int(mr) == 0 or int(mr) > int(want["maxrepeat"]):
        problems.append(f"maxrepeat={mr if mr is not None else 'unset'} (want 1..{want['maxrepeat']})")
    root = any(ln.strip() == "enforce_for_root" for ln in active_lines(conf))
    if not root:
        problems.append("enforce_for_root absent")
    in_stack = any("pam_pwquality.so" in ln for ln in active_lines(stack))
    if not in_stack:
        problems.append("pam_pwquality not in /etc/pam.d/common-password")
    observed = " ".join(f"{k}={have.get(k, 'unset')}" for k in ("minlen", "minclass", "maxrepeat", "dictcheck"))
    observed += f" enforce_for_root={'yes' if root else 'no'} pam_pwquality={'yes' if in_stack else 'no'}"
    return Outcome.of(not problems, observed + ("" if not problems else " — " + "; ".join(problems)))


def password_ageing(host, ctx: Ctx) -> Outcome:
    have = kv(ctx.read("/etc/login.defs"), sep="\x00")
    def num(k: str) -> int | None:
        v = have.get(k, "")
        return int(v) if v.isdigit() else None
    mx, mn, warn = num("PASS_MAX_DAYS"), num("PASS_MIN_DAYS"), num("PASS_WARN_AGE")
    ok = (mx is not None and 0 < mx <= ctx.p("pass_max_days") and mn is not None and mn >= ctx.p("pass_min_days")
          and warn is not None and warn >= ctx.p("pass_warn_age"))
    return Outcome.of(ok, f"PASS_MAX_DAYS={mx} PASS_MIN_DAYS={mn} PASS_WARN_AGE={warn} "
                          f"(want <= {ctx.p('pass_max_days')}, >= {ctx.p('pass_min_days')}, >= {ctx.p('pass_warn_age')})")


def login_lockout(host, ctx: Ctx) -> Outcome:
    conf = kv(ctx.read("/etc/security/faillock.conf"))
    auth = active_lines(ctx.read("/etc/pam.d/common-auth"))
    account = active_lines(ctx.read("/etc/pam.d/common-account"))
    want = ctx.p("faillock")
    deny = conf.get("deny", "")
    unlock = conf.get("unlock_time", "")
    preauth = any("pam_faillock.so" in ln and "preauth" in ln for ln in auth)
    authfail = any("pam_faillock.so" in ln and "authfail" in ln for ln in auth)
    acct = any("pam_faillock.so" in ln for ln in account)
    ok = (deny.isdigit() and 0 < int(deny) <= int(want["deny"]) and unlock.isdigit()
          and (int(unlock) == 0 or int(unlock) >= int(want["unlock_time"])) and preauth and authfail and acct)
    return Outcome.of(ok, f"deny={deny or 'unset'} unlock_time={unlock or 'unset'} (want deny <= {want['deny']}, "
                          f"unlock >= {want['unlock_time']}); common-auth preauth={preauth} authfail={authfail}; "
                          f"common-account={acct}")


def idle_timeout(host, ctx: Ctx) -> Outcome:
    r = ctx.run("grep -hE '^[[:space:]]*(readonly[[:space:]]+|export[[:space:]]+)?TMOUT=' "
                "/etc/profile /etc/profile.d/*.sh /etc/bash.bashrc 2>/dev/null")
    values = []
    for line in r.stdout.splitlines():
        v = line.split("TMOUT=", 1)[1].strip().split()[0].strip("\"'")
        if v.isdigit():
            values.append(int(v))
    ro = ctx.run("grep -lE '^[[:space:]]*readonly[[:space:]]+TMOUT' /etc/profile /etc/profile.d/*.sh 2>/dev/null").rc == 0
    want = ctx.p("session_timeout")
    tmout_ok = bool(values) and all(0 < v <= want for v in values) and ro
    s = ctx.sshd
    if "__error__" in s:
        return Outcome("error", f"sshd -T failed: {s['__error__']}")
    cai = int(s.get("clientaliveinterval", "0"))
    ssh_ok = 0 < cai <= ctx.p("ssh_client_alive_interval")
    return Outcome.of(tmout_ok and ssh_ok, f"TMOUT={values or 'unset'} readonly={ro} (want 1..{want}); "
                                           f"sshd ClientAliveInterval={cai} ClientAliveCountMax={s.get('clientalivecountmax')}")


def ssh_authentication(host, ctx: Ctx) -> Outcome:
    s = ctx.sshd
    if "__error__" in s:
        return Outcome("error", f"sshd -T failed: {s['__error__']}")
    want = {
        # root never logs in over SSH (issue 11): the admin account logs in, root is reached by sudo
        "permitrootlogin": {"no"},
        "passwordauthentication": {"no"},
        "kbdinteractiveauthentication": {"no"},
        "permitemptypasswords": {"no"},
        "hostbasedauthentication": {"no"},
        "pubkeyauthentication": {"yes"},
    }
    bad = [f"{k}={s.get(k)}" for k, ok in want.items() if s.get(k) not in ok]
    tries = int(s.get("maxauthtries", "99"))
    if tries > ctx.p("ssh_max_auth_tries"):
        bad.append(f"maxauthtries={tries}")
    sessions = int(s.get("maxsessions", "99"))
    if sessions > ctx.p("ssh_max_sessions"):
        bad.append(f"maxsessions={sessions}")
    # no forwarding through a hardened host (auditors' findings: a jump host is a separate decision)
    for k in ("x11forwarding", "allowtcpforwarding", "allowagentforwarding", "allowstreamlocalforwarding", "permittunnel"):
        if s.get(k) != "no":
            bad.append(f"{k}={s.get(k)}")
    if s.get("banner", "none") == "none":
        bad.append("banner=none")
    observed = " ".join(f"{k}={s.get(k)}" for k in ("permitrootlogin", "passwordauthentication",
                                                   "kbdinteractiveauthentication", "permitemptypasswords",
                                                   "maxauthtries", "maxsessions", "allowtcpforwarding", "banner"))
    return Outcome.of(not bad, observed + ("" if not bad else " — not compliant: " + ", ".join(bad)))


def breakglass_account(host, ctx: Ctx) -> Outcome:
    user = ctx.p("breakglass_user")
    shadow = ctx.read("/etc/shadow") or ""
    entry = next((ln.split(":") for ln in shadow.splitlines() if ln.startswith(user + ":")), None)
    if entry is None:
        return Outcome("fail", f"account {user} absent")
    pw = entry[1]
    # Only the hash scheme is reported: the hash itself is a secret and never leaves the host.
    scheme = ("yescrypt" if pw.startswith("$y$") else "sha512-crypt" if pw.startswith("$6$")
              else "locked" if pw.startswith(("!", "*")) else "empty" if not pw else "weak/other")
    denied = user in ctx.sshd.get("denyusers", "").split()
    ok = scheme in ("yescrypt", "sha512-crypt") and denied
    return Outcome.of(ok, f"{user} present; password {scheme}; SSH DenyUsers={'yes' if denied else 'no'}")
