"""Where a lab keeps its state, and the names its parts carry on the machine.

Several labs coexist on one machine, one per inventory name. Everything a lab makes in a shared
place (network namespaces, FRR pathspaces under /etc/frr, the management bridge and the root-side
management veths) carries a short per-lab prefix derived from the inventory name, so two labs can
never touch each other's parts. State lives under ``.lab/<inventory name>/`` of the checkout
(override with ``EGOVOPS_LAB_DIR``); the rootfs cache is shared by all labs (``.lab/cache``).
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from egovops.model.province import Province

IFNAMSIZ = 15  # Linux interface names: at most 15 characters


def lab_root() -> Path:
    """The folder holding every lab's state (``.lab/`` of the checkout unless EGOVOPS_LAB_DIR is set)."""
    env = os.environ.get("EGOVOPS_LAB_DIR")
    if env:
        return Path(env).resolve()
    return Path(__file__).resolve().parents[2] / ".lab"


def lab_dir(province: Province) -> Path:
    return lab_root() / province.meta.name


# Folders under the lab's folder that the lab hands to other capabilities for their controller-side
# state (PID files, logs): ``lab down`` stops every process recorded there by a PID file and removes the
# folder, so the lab needs no knowledge of (and no import from) the capability that started them.
CONTROLLER_STATE = ("monitor",)
CONTROLLER_MARKER = "-m egovops."  # what the command line of such a process contains (python -m egovops.<...>)


def controller_state_dir(province: Province, name: str) -> Path:
    """The folder capability ``name`` keeps its controller-side processes' PID files and state in, for this lab."""
    if name not in CONTROLLER_STATE:
        raise ValueError(f"{name!r} is not a controller-state folder of the lab (CONTROLLER_STATE)")
    return lab_dir(province) / name


def cache_dir() -> Path:
    return lab_root() / "cache"


def lock_path(province: Province) -> Path:
    return lab_root() / f"{province.meta.name}.lock"


def secrets_dir(province: Province) -> Path:
    """Where the lab's generated credentials live (mode 0700; files 0600; never printed)."""
    return lab_dir(province) / "secrets"


def prefix(province: Province) -> str:
    """A short, stable, per-lab token: initials of the inventory name plus 2 hex digits of its hash.

    ``anhui-lab`` -> ``al`` + 2 hex, ``testlab`` -> ``t`` + 2 hex. At most 5 characters, so
    ``<prefix>-m<index>`` (root-side management veths) always fits in 15 characters.
    """
    name = province.meta.name
    initials = "".join(w[0] for w in re.split(r"[-_]", name) if w)[:3]
    return initials + hashlib.sha256(name.encode()).hexdigest()[:2]


def ns_name(province: Province, device: str) -> str:
    """The network namespace (and FRR pathspace) of a router or host: ``<prefix>-<device>``."""
    return f"{prefix(province)}-{device}"


def bridge_name(province: Province) -> str:
    return f"{prefix(province)}-mgmt"


def mgmt_veth(province: Province, index: int) -> str:
    """Root-side name of the management veth of device number ``index`` (its management address index)."""
    name = f"{prefix(province)}-m{index}"
    assert len(name) <= IFNAMSIZ, name
    return name
