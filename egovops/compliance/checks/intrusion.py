"""入侵防范 (8.1.4.4) checks: L3-CES4-xx."""

from __future__ import annotations

import ipaddress
import re

from egovops.compliance.checks import Ctx, Outcome


def absent_packages(host, ctx: Ctx) -> Outcome:
    pkgs = ctx.p("absent_packages")
    r = ctx.run("dpkg-query -W -f='${Package} ${db:Status-Status}\\n' " + " ".join(pkgs) + " 2>/dev/null")
    installed = [ln.split()[0] for ln in r.stdout.splitlines() if ln.endswith(" installed")]
    return Outcome.of(not installed, ("installed: " + ", ".join(installed)) if installed
                      else f"none of the {len(pkgs)} unneeded packages installed")


def _is_loopback(addr: str) -> bool:
    a = addr.strip("[]").split("%")[0]
    if a in ("*", "0.0.0.0", "::"):
        return False
    try:
        return ipaddress.ip_address(a).is_loopback
    except ValueError:
        return False


def listening_ports(host, ctx: Ctx) -> Outcome:
    r = ctx.run("ss -H -l -n -t -u")
    if r.rc != 0:
        return Outcome("error", f"ss failed: {r.stderr.strip()[:120]}")
    allowed = {(str(x["proto"]), int(x["port"])) for x in ctx.hostvars.get("egov_host_firewall", [])}
    allowed |= {(str(x.get("proto", "tcp")), int(x["port"])) for x in ctx.p("extra_listen_ports")}
    seen, bad = set(), set()
    for line in r.stdout.splitlines():
        f = line.split()
        if len(f) < 5:
            continue
        proto = "tcp" if f[0].startswith("tcp") else "udp"
        local = f[4]
        addr, _, port = local.rpartition(":")
        if not port.isdigit() or _is_loopback(addr):
            continue
        seen.add(f"{proto}/{port}")
        if (proto, int(port)) not in allowed:
            bad.add(f"{proto}/{port} on {addr}")
    allowed_s = ", ".join(f"{p}/{n}" for p, n in sorted(allowed))
    return Outcome.of(not bad, f"listening off loopback: {', '.join(sorted(seen)) or 'none'} (allowed: {allowed_s})"
                      + (f" — not allowed: {', '.join(sorted(bad))}" if bad else ""))


def host_firewall(host, ctx: Ctx) -> Outcome:
    r = ctx.run("nft list chain inet egov_filter input 2>&1")
    enabled = ctx.run("systemctl is-enabled nftables 2>&1").stdout.strip()
    if r.rc != 0 and "Operation not permitted" in r.stdout:
        return Outcome("error", f"netfilter not manageable here (nft: Operation not permitted — no CAP_NET_ADMIN); "
                                f"nftables.service {enabled}")
    if r.rc != 0:
        return Outcome("fail", f"no egov_filter input chain loaded ({r.stdout.strip()[:100]}); nftables.service {enabled}")
    text = r.stdout
    policy_drop = "policy drop;" in text
    missing = []
    for rule in ctx.hostvars.get("egov_host_firewall", []):
        frm = rule["from"]
        needle = f"{rule['proto']} dport {rule['port']} accept"
        lines = [ln.strip() for ln in text.splitlines() if needle in ln]
        if frm in ("management", "extranet"):
            for fam in ("v4", "v6"):
                if not any(f"@{frm}_{fam}" in ln for ln in lines):
                    missing.append(f"{rule['proto']}/{rule['port']} from {frm} {fam}")
        elif frm == "nodes":  # catalogue calls: only from the callers' service LANs, in each family
            for fam in ("ip", "ip6"):
                if not any(ln.startswith(f"{fam} saddr ") for ln in lines):
                    missing.append(f"{rule['proto']}/{rule['port']} from the catalogue's callers ({fam})")
        elif not lines:
            missing.append(f"{rule['proto']}/{rule['port']}")
    nd = "nd-neighbor-solicit" in text
    ok = policy_drop and not missing and enabled == "enabled" and nd
    ev = (f"input policy {'drop' if policy_drop else 'ACCEPT'}; inventory services "
          f"{'all present' if not missing else 'missing: ' + ', '.join(missing)}; ICMPv6 ND {'allowed' if nd else 'BLOCKED'}; "
          f"nftables.service {enabled}")
    return Outcome.of(ok, ev)


def sysctl(host, ctx: Ctx) -> Outcome:
    want = {**ctx.p("sysctl_net"), **ctx.p("sysctl_kernel")}
    if ctx.p("ipv6_required"):
        want.update({"net.ipv6.conf.all.disable_ipv6": 0, "net.ipv6.conf.default.disable_ipv6": 0})
    keys = sorted(want)
    paths = " ".join("/proc/sys/" + k.replace(".", "/") for k in keys)
    r = ctx.run(f"for f in {paths}; do if [ -w $f ]; then w=rw; else w=ro; fi; echo \"$f $w $(cat $f 2>/dev/null)\"; done")
    have = {}
    for line in r.stdout.splitlines():
        f = line.split(maxsplit=2)
        key = f[0][len("/proc/sys/"):].replace("/", ".")
        have[key] = (f[1], f[2].strip() if len(f) > 2 else "")
    wrong: list[str] = []
    stuck: list[str] = []
    for k in keys:
        rw, v = have.get(k, ("ro", ""))
        if v != str(want[k]):
            (wrong if rw == "rw" else stuck).append(f"{k}={v or '?'} (want {want[k]})")
    if wrong:
        return Outcome("fail", f"{len(keys) - len(wrong) - len(stuck)}/{len(keys)} as required; wrong: " + "; ".join(wrong[:6])
                       + (f"; read-only here: {len(stuck)}" if stuck else ""))
    if stuck:
        return Outcome("error", f"{len(keys) - len(stuck)}/{len(keys)} as required; {len(stuck)} wrong but read-only on this host "
                                f"(container /proc/sys): " + "; ".join(stuck[:4]))
    v6 = have.get("net.ipv6.conf.all.disable_ipv6", ("", "?"))[1]
    return Outcome("pass", f"{len(keys)}/{len(keys)} kernel parameters as required; IPv6 enabled (disable_ipv6={v6})")


def _security_suites(text: str, codename: str) -> list[str]:
    """Enabled APT entries (one-line ``deb`` lines and deb822 stanzas) that carry ``<codename>-security``."""
    suite = f"{codename}-security"
    found = []
    for line in text.splitlines():
        words = re.sub(r"\[[^\]]*\]", " ", line.split("#", 1)[0]).split()  # drop the [option=value ...] block
        if len(words) >= 3 and words[0] == "deb" and words[2] == suite:
            found.append(f"deb {words[1]} {suite}")
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if ":" in line and not line.startswith(("#", " ")):
                k, _, v = line.partition(":")
                fields[k.strip().lower()] = v.strip()
        if ("deb" in fields.get("types", "").split() and suite in fields.get("suites", "").split()
                and fields.get("enabled", "yes").lower() != "no"):
            found.append(f"{fields.get('uris', '?')} {suite} (deb822)")
    return found


def security_updates_source(host, ctx: Ctx) -> Outcome:
    """L3-CES4-05: an enabled APT source for the release's security suite (``<codename>-security``)."""
    r = ctx.run(". /etc/os-release && echo \"codename=$VERSION_CODENAME\"; "
                "cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null; "
                "echo __end__")
    first, _, text = r.stdout.partition("\n")
    codename = first.removeprefix("codename=").strip() if first.startswith("codename=") else ""
    if not codename or "__end__" not in text:
        return Outcome("error", f"cannot read the release codename or the APT sources (got {first[:80]!r})")
    found = _security_suites(text.replace("__end__", ""), codename)
    return Outcome.of(bool(found), ("security suite: " + "; ".join(found)) if found
                      else f"no enabled APT source for {codename}-security: security fixes never arrive")
