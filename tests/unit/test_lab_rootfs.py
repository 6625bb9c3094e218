"""The host rootfs cache key follows the package list (a package appended means a new rootfs)."""

from __future__ import annotations

import pytest

from egovops.lab import rootfs

pytestmark = pytest.mark.unit


def test_package_list_is_plain_and_parsed(tmp_path, monkeypatch):
    f = tmp_path / "rootfs-packages.txt"
    f.write_text("# comment\nopenssh-server\n\npython3   # why\n")
    monkeypatch.setattr(rootfs, "PACKAGES_FILE", f)
    assert rootfs.packages() == ["openssh-server", "python3"]
    key = rootfs.cache_key()
    f.write_text(f.read_text() + "auditd\n")
    grown = rootfs.cache_key()
    assert grown != key
    f.write_text("python3\nauditd\nopenssh-server\n")  # order and comments do not matter
    assert rootfs.cache_key() == grown


def test_the_real_list_has_what_a_lab_host_needs():
    pk = set(rootfs.packages())
    assert {"systemd", "systemd-sysv", "openssh-server", "python3", "iproute2"} <= pk


def test_waiting_for_the_rootfs_lock_is_bounded(tmp_path, monkeypatch):
    import fcntl
    import time

    from egovops.lab.sh import LabError

    monkeypatch.setenv("EGOVOPS_LAB_DIR", str(tmp_path))
    monkeypatch.setattr(rootfs, "LOCK_TIMEOUT", 0.3)
    rootfs.cache_dir().mkdir(parents=True)
    with open(rootfs.cache_dir() / "rootfs.lock", "w") as held:   # another `lab up` building
        fcntl.flock(held, fcntl.LOCK_EX)
        t0 = time.monotonic()
        with pytest.raises(LabError, match="rootfs.lock"):
            rootfs.ensure()
        assert time.monotonic() - t0 < 5
