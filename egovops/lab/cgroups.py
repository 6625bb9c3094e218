"""One cgroup per lab host, so every systemd-nspawn gets a private cgroup subtree.

With ``--keep-unit`` (there is no systemd on the machine to ask for a scope) systemd-nspawn creates
``supervisor`` and ``payload`` sub-cgroups *below the cgroup it was started in*. Started from the
same cgroup, every container would share one ``payload`` cgroup, and the second container's systemd
fails ("Failed to allocate manager object"). So each host's nspawn is first moved into
``egovops-lab/<netns>`` of every hierarchy nspawn uses (cgroup2 and the v1 ``name=systemd``), and
``lab down`` removes those cgroups (bottom-up) once their processes are gone.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE = "egovops-lab"


def hierarchies() -> list[Path]:
    """Mount points of the cgroup2 hierarchy and of the v1 ``name=systemd`` hierarchy (if any)."""
    out = []
    with open("/proc/mounts") as f:
        for line in f:
            _, mnt, fstype, opts = line.split()[:4]
            if fstype == "cgroup2" or (fstype == "cgroup" and "name=systemd" in opts.split(",")):
                out.append(Path(mnt))
    return out


def cgroup_dirs(name: str) -> list[Path]:
    return [h / BASE / name for h in hierarchies()]


def shell_enter(name: str) -> str:
    """Shell commands that create the host's cgroups and move the current shell into them."""
    cmds = []
    for d in cgroup_dirs(name):
        cmds.append(f"mkdir -p {d} && echo $$ > {d}/cgroup.procs")
    return " && ".join(cmds) if cmds else "true"


def remove(prefix: str) -> int:
    """rmdir (bottom-up) every lab cgroup whose name starts with ``prefix``; cgroups still holding
    processes stay (rmdir refuses) and are reported by :func:`leftovers`."""
    removed = 0
    for h in hierarchies():
        base = h / BASE
        if not base.is_dir():
            continue
        for top in base.iterdir():
            if not (top.is_dir() and top.name.startswith(prefix)):
                continue
            for dirpath, _, _ in sorted(os.walk(top), key=lambda t: -t[0].count("/")):
                try:
                    os.rmdir(dirpath)
                    removed += 1
                except OSError:
                    pass
        try:
            base.rmdir()  # only when no lab at all is left
        except OSError:
            pass
    return removed


def pids(prefix: str) -> list[int]:
    """Every process in this lab's host cgroups (nspawn supervisors and containers), recursively."""
    out: set[int] = set()
    for top in leftovers(prefix):
        for dirpath, _, files in os.walk(top):
            if "cgroup.procs" in files:
                try:
                    out |= {int(x) for x in Path(dirpath, "cgroup.procs").read_text().split()}
                except OSError:
                    pass
    return sorted(out)


def leftovers(prefix: str) -> list[str]:
    return [str(top) for h in hierarchies() if (h / BASE).is_dir()
            for top in (h / BASE).iterdir() if top.is_dir() and top.name.startswith(prefix)]
