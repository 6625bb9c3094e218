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


def password_hash_cost(host, ctx: Ctx) -> Outcome:
    """L3-CES8-03: login.defs YESCRYPT_COST_FACTOR and SHA_CRYPT_MIN/MAX_ROUNDS at least the baseline's."""
    defs = ctx.read("/etc/login.defs")
    if defs is None:
        return Outcome("error", "cannot read /etc/login.defs")
    have = kv(defs, sep="\x00")
    want = {"YESCRYPT_COST_FACTOR": int(ctx.p("yescrypt_cost_factor")),
            "SHA_CRYPT_MIN_ROUNDS": int(ctx.p("sha_crypt_rounds")), "SHA_CRYPT_MAX_ROUNDS": int(ctx.p("sha_crypt_rounds"))}
    bad = []
    for key, minimum in want.items():
        v = have.get(key, "unset")
        if not v.isdigit() or int(v) < minimum:
            bad.append(f"{key}={v} (want >= {minimum})")
    observed = " ".join(f"{k}={have.get(k, 'unset')}" for k in want)
    return Outcome.of(not bad, observed + ("" if not bad else " — " + "; ".join(bad)))
