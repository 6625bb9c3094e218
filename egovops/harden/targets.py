"""Which hosts a playbook run (`harden`, monitoring, DR) and `comply` act on, and how to reach them.

The hosts are the inventory's cloud nodes and DR sites (group ``cloud_hosts`` of the derived
Ansible inventory), narrowed by ``--limit``. On a lab inventory only the hosts the running lab has
up are targeted (a lab brought up with ``--limit`` has fewer hosts), and the lab's generated key is
used; elsewhere the operator's SSH set-up (``EGOVOPS_SSH_KEY`` or ssh-agent/config) is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from egovops.model.province import Province, matches
from egovops.render import ansible as ansible_render

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Target:
    node: str
    address: str
    city: str
    name_zh: str
    kind: str
    hostvars: dict[str, Any]


@dataclass
class Selection:
    targets: list[Target]
    key: str | None
    note: str
    inventory_yaml: str  # the derived Ansible inventory (what `inventory render` writes)
    known_hosts: str | None = None  # host keys to verify against (None: the operator's ~/.ssh/known_hosts)


def select(province: Province, limit: str | None) -> Selection:
    text = ansible_render.render(province)["hosts.yaml"]
    data = yaml.safe_load(text)["all"]
    groupvars = data["vars"]
    # the managed industry clouds' hosts too (issue 13): unified management hardens and checks them alike
    hosts = {**data["children"]["cloud_hosts"]["hosts"], **data["children"].get("industry_hosts", {}).get("hosts", {})}
    names = [n for n in hosts if matches(province, n, limit)]
    note = ""
    key: str | None = os.environ.get("EGOVOPS_SSH_KEY") or None
    if province.meta.environment == "lab":
        from egovops.lab import lab_state, secrets_dir

        st = lab_state(province)
        up = {h.name for h in st.hosts if h.up} if st else set()
        dropped = [n for n in names if n not in up]
        names = [n for n in names if n in up]
        if dropped:
            shown = ", ".join(dropped[:6]) + ("…" if len(dropped) > 6 else "")
            note = f"lab {province.meta.name}: {len(dropped)} selected host(s) not up, left out ({shown})"
        k = secrets_dir(province) / "id_ed25519"
        if key is None and k.exists():
            key = str(k)
    targets = []
    for n in names:
        hv = {**groupvars, **hosts[n]}
        targets.append(
            Target(
                n, hv["ansible_host"], hv.get("egov_city") or "", hv.get("egov_name_zh", n), hv.get("egov_kind", ""), hv
            )
        )
    from egovops.lab.known_hosts import for_ssh

    return Selection(targets, key, note, text, for_ssh(province) if targets else None)
