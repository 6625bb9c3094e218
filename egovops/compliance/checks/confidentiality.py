"""数据保密性 (8.1.4.8) checks: L3-CES8-xx."""

from __future__ import annotations

from egovops.compliance.checks import Ctx, Outcome, active_lines, kv


def ssh_crypto(host, ctx: Ctx) -> Outcome:
    s = ctx.sshd
    if "__error__" in s:
        return Outcome("error", f"sshd -T failed: {s['__error__']}")
    bad = []
    for key, allowed in (("ciphers", ctx.p("ssh_ciphers")), ("macs", ctx.p("ssh_macs")),
                         ("kexalgorithms", ctx.p("ssh_kex"))):
        extra = [a for a in s.get(key, "").split(",") if a and a not in allowed]
        if extra:
            bad.append(f"{key}: {', '.join(extra)}")
    ev = f"ciphers={s.get('ciphers')}; macs={s.get('macs')}; kex={s.get('kexalgorithms')}"
    return Outcome.of(not bad, ("weak algorithms offered — " + "; ".join(bad)) if bad else ev)


def password_hashing(host, ctx: Ctx) -> Outcome:
    method = kv(ctx.read("/etc/login.defs"), sep="\x00").get("ENCRYPT_METHOD", "unset")
    unix = [line for line in active_lines(ctx.read("/etc/pam.d/common-password")) if "pam_unix.so" in line]
    pam_alg = next((a for a in ("yescrypt", "sha512") if unix and a in unix[0].split()), "none")
    shadow = ctx.read("/etc/shadow") or ""
    weak = [line.split(":")[0] for line in shadow.splitlines()
            if line.count(":") >= 2 and (h := line.split(":")[1]) and not h.startswith(("!", "*", "$y$", "$6$", "$gy$"))]
    ok = method.upper() in ("YESCRYPT", "SHA512") and pam_alg != "none" and not weak
    return Outcome.of(ok, f"login.defs ENCRYPT_METHOD={method}; pam_unix {pam_alg}; accounts with weak hashes: "
                          + (", ".join(weak) if weak else "none"))
