"""可信验证 (8.1.4.6) checks: L3-CES6-xx."""

from __future__ import annotations

from egovops.compliance.checks import Ctx, Outcome

CRITICAL = ["openssh-server", "openssh-client", "sudo", "login", "passwd", "libpam-modules", "libpam-runtime",
            "libpam-modules-bin", "coreutils", "systemd"]


def package_integrity(host, ctx: Ctx) -> Outcome:
    r = ctx.run("dpkg --verify " + " ".join(CRITICAL) + " 2>&1")
    lines = [line for line in r.stdout.splitlines() if line.strip()]
    # Format: "??5?????? c /etc/…" — the " c " marks a configuration file, which is expected to change.
    changed = [line.split()[-1] for line in lines if not (len(line.split()) >= 3 and line.split()[1] == "c")
               and "not installed" not in line and not line.startswith("dpkg: warning")]
    if r.rc not in (0, 1) and not lines:
        return Outcome("error", f"dpkg --verify failed (rc {r.rc})")
    return Outcome.of(not changed, f"{len(CRITICAL)} packages verified against their manifests; changed files: "
                      + (", ".join(changed[:5]) if changed else "none"))
