"""The lab hosts' Debian root filesystem: built once with debootstrap, cached as a zstd tarball.

The cache key is the hash of egovops/lab/rootfs-packages.txt (plus the suite), so appending a
package to that list builds a new rootfs on the next ``lab up``; an unchanged list reuses the
tarball (``.lab/cache/rootfs-<key>.tar.zst``). The tarball is unpacked once into a read-only
lower directory shared by every host of every lab; each host boots an overlay of it.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from egovops.lab.paths import cache_dir
from egovops.lab.sh import LabError, run

PACKAGES_FILE = Path(__file__).with_name("rootfs-packages.txt")
SUITE = "bookworm"
MIRROR = os.environ.get("EGOVOPS_DEBIAN_MIRROR", "http://deb.debian.org/debian")
BUILD_TIMEOUT = 1800
LOCK_TIMEOUT = BUILD_TIMEOUT + 1500  # another lab up's build (debootstrap + customise + tar) and unpack


def packages() -> list[str]:
    """The package list: one name per line, ``#`` comments and blank lines ignored."""
    out = []
    for line in PACKAGES_FILE.read_text().splitlines():
        name = line.split("#", 1)[0].strip()
        if name:
            out.append(name)
    return out


# Services the packages enable at install time that a role must enable where the inventory wants
# them (a Prometheus or PostgreSQL on each of the 19 hosts would only waste memory and blur tests).
DISABLED_AT_INSTALL = ("prometheus.service", "prometheus-alertmanager.service",
                       "prometheus-blackbox-exporter.service", "prometheus-postgres-exporter.service",
                       "postgresql.service")
CUSTOMISE_VERSION = "2"  # bump when _customise changes what the image holds (part of the cache key)


def cache_key() -> str:
    h = hashlib.sha256()
    h.update(SUITE.encode() + b"\n" + CUSTOMISE_VERSION.encode() + b"\n")
    h.update("\n".join(sorted(set(packages()))).encode())
    return h.hexdigest()[:16]


def tarball(key: str | None = None) -> Path:
    return cache_dir() / f"rootfs-{key or cache_key()}.tar.zst"


def lower_dir(key: str | None = None) -> Path:
    return cache_dir() / f"rootfs-{key or cache_key()}"


def _build_tarball(key: str, progress: Callable[[str], None]) -> None:
    tb = tarball(key)
    work = cache_dir() / f"build-{key}"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    t0 = time.monotonic()
    progress(f"building the host rootfs with debootstrap ({len(packages())} packages, once; cached as {tb.name})")
    run(["debootstrap", "--variant=minbase", f"--include={','.join(packages())}", SUITE, str(work), MIRROR],
        timeout=BUILD_TIMEOUT)
    _customise(work)
    tmp = tb.with_suffix(".tmp")
    run(["tar", "--numeric-owner", "--xattrs", "-C", str(work), "-I", "zstd -T0 -3", "-cf", str(tmp), "."],
        timeout=600)
    tmp.rename(tb)
    shutil.rmtree(work)
    progress(f"rootfs built in {time.monotonic() - t0:.0f}s ({tb.stat().st_size // 2**20} MB)")


def _customise(root: Path) -> None:
    """Make the image a lab host: no apt sources (hosts have no mirror), empty machine-id, no host keys.

    Host keys and machine-id are created per host at first boot (ssh's ``sshd-keygen`` is not in
    Debian, so the lab writes host keys before boot, see hosts.py).
    """
    (root / "etc/apt/sources.list").write_text("# lab hosts have no package mirror: packages come from egovops/lab/rootfs-packages.txt\n")
    (root / "etc/machine-id").write_text("")
    for key in (root / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    for wants in (root / "etc/systemd/system").glob("*.wants"):
        for unit in DISABLED_AT_INSTALL:
            link = wants / unit
            if link.is_symlink():
                link.unlink()
    run(["chroot", str(root), "apt-get", "clean"], timeout=60, check=False)


def ensure(progress: Callable[[str], None] = lambda m: None) -> Path:
    """The shared read-only lower dir for host overlays, building/unpacking it if needed (flock-serialised)."""
    cache_dir().mkdir(parents=True, exist_ok=True)
    key = cache_key()  # once: the package list may be edited while a lab comes up
    lower = lower_dir(key)
    with open(cache_dir() / "rootfs.lock", "w") as lock:
        deadline = time.monotonic() + LOCK_TIMEOUT
        while True:  # bounded: a stuck holder is reported, not waited on forever
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise LabError(f"another `lab up` holds {cache_dir() / 'rootfs.lock'} for over {LOCK_TIMEOUT}s "
                                   "(building or unpacking the host rootfs)") from None
                time.sleep(0.5)
        if (lower / ".egovops-complete").exists():
            return lower
        if not tarball(key).exists():
            _build_tarball(key, progress)
        if lower.exists():
            shutil.rmtree(lower)
        tmp = lower.with_name(lower.name + ".unpack")
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        progress(f"unpacking {tarball(key).name}")
        run(["tar", "--numeric-owner", "--xattrs", "-C", str(tmp), "-I", "zstd -T0", "-xf", str(tarball(key))], timeout=600)
        (tmp / ".egovops-complete").write_text(key + "\n")
        tmp.rename(lower)
        return lower


if __name__ == "__main__":  # build the cache ahead of time: python -m egovops.lab.rootfs
    print(ensure(print))
