"""Which hosts a playbook run (`harden`, monitoring, DR) and `comply` act on, and how to reach them.

The hosts are the inventory's cloud nodes and DR sites (group ``cloud_hosts`` of the derived
Ansible inventory), narrowed by ``--limit``. On a lab inventory only the hosts the running lab has
up are targeted (a lab brought up with ``--limit`` has fewer hosts). Every path logs in as the
inventory's admin account with sudo for root (:mod:`egovops.harden.login`: the lab's generated key
and sudo password, or the operator's ``EGOVOPS_SSH_KEY``/agent and ``EGOVOPS_BECOME_PASSWORD[_FILE]``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from egovops.harden.login import HostLogin, host_login
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
    login: HostLogin | None = None  # the admin account, key and sudo password (select() always sets it)

    @property
    def admin(self) -> HostLogin:
        """How every path logs in: the inventory's admin account (never root), its key, sudo's password."""
        if self.login is None:
            raise ValueError("selection without a login (build it with select())")
        return self.login

    @property
    def user(self) -> str:
        return self.admin.user


def select(province: Province, limit: str | None) -> Selection:
    text = ansible_render.render(province)["hosts.yaml"]
    data = yaml.safe_load(text)["all"]
    groupvars = data["vars"]
    # the managed industry clouds' hosts too (issue 13): unified management hardens and checks them alike
    hosts = {**data["children"]["cloud_hosts"]["hosts"], **data["children"].get("industry_hosts", {}).get("hosts", {})}
    names = [n for n in hosts if matches(province, n, limit)]
    note = ""
    login = host_login(province)
    if province.meta.environment == "lab":
        from egovops.lab import lab_state

        st = lab_state(province)
        up = {h.name for h in st.hosts if h.up} if st else set()
        dropped = [n for n in names if n not in up]
        names = [n for n in names if n in up]
        if dropped:
            shown = ", ".join(dropped[:6]) + ("…" if len(dropped) > 6 else "")
            note = f"lab {province.meta.name}: {len(dropped)} selected host(s) not up, left out ({shown})"
    targets = []
    for n in names:
        hv = {**groupvars, **hosts[n]}
        targets.append(
            Target(
                n, hv["ansible_host"], hv.get("egov_city") or "", hv.get("egov_name_zh", n), hv.get("egov_kind", ""), hv
            )
        )
    from egovops.lab.known_hosts import for_ssh

    return Selection(targets, login.key, note, text, for_ssh(province) if targets else None, login)
