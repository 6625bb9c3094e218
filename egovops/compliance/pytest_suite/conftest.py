"""The compliance checks as a plain pytest-testinfra suite, for people who run pytest themselves.

    pytest egovops/compliance/pytest_suite -p no:cacheprovider \\
        --hosts='paramiko://egovadmin@198.19.111.129,paramiko://egovadmin@198.19.111.130' \\
        --ssh-identity-file=.lab/<lab>/secrets/id_ed25519 --egov-inventory inventories/lab -n 4

One test per control and host (``test_control[<host>-L3-CES1-06]``); a control that cannot be
checked fails with its evidence too. ``egovops comply`` runs the same check functions (and adds
waivers, reports and metrics); this suite is the same checks in pytest's own format (JUnit with
``--junitxml``). The hosts are reached as the inventory's admin account (``zones.yaml``
``host_access.admin_user``; root never logs in) and every check command runs through sudo with the
password of :mod:`egovops.harden.login` (the lab's secrets, or ``EGOVOPS_BECOME_PASSWORD[_FILE]``).
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser):
    parser.addoption("--egov-inventory", default="inventories/lab",
                     help="inventory folder the hosts belong to (for their NOC servers, firewall rules ...)")


@pytest.fixture(scope="session")
def egov_known_hosts(pytestconfig) -> str | None:
    """The known_hosts to verify the hosts against (the lab's own, or EGOVOPS_KNOWN_HOSTS / ~/.ssh)."""
    from egovops.lab.known_hosts import for_ssh
    from egovops.model import load_inventory

    return for_ssh(load_inventory(pytestconfig.getoption("--egov-inventory")))


@pytest.fixture
def verified_host(host, egov_known_hosts, egov_hostvars, pytestconfig):
    """testinfra's ``host`` with its paramiko connection replaced by one that verifies the host key
    (testinfra's own accepts unknown keys with a warning), logged in as the inventory's admin account,
    every command run as root through sudo (a host where sudo fails errors: no check passes unseen)."""
    from dataclasses import replace
    from types import SimpleNamespace

    from egovops.compliance.runner import attach
    from egovops.harden.login import host_login
    from egovops.model import load_inventory

    b = host.backend
    if b.NAME == "paramiko" and "client" not in b.__dict__:
        address = b.host.name
        node = egov_hostvars.get(address, {}).get("_node", address)
        login = host_login(load_inventory(pytestconfig.getoption("--egov-inventory")))
        key = pytestconfig.getoption("ssh_identity_file", None)
        if key:
            login = replace(login, key=key)
        attach(host, SimpleNamespace(address=address, node=node), login, egov_known_hosts, 15)
    return host


@pytest.fixture(scope="session")
def egov_hostvars(pytestconfig) -> dict[str, dict]:
    """Inventory variables per management address (what --hosts names)."""
    import yaml

    from egovops.model import load_inventory
    from egovops.render import ansible
    p = load_inventory(pytestconfig.getoption("--egov-inventory"))
    data = yaml.safe_load(ansible.render(p)["hosts.yaml"])["all"]
    hosts = data["children"]["cloud_hosts"]["hosts"]
    return {hv["ansible_host"]: {**data["vars"], **hv, "_node": name} for name, hv in hosts.items()}
