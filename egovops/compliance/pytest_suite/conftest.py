"""The compliance checks as a plain pytest-testinfra suite, for people who run pytest themselves.

    pytest egovops/compliance/pytest_suite -p no:cacheprovider \\
        --hosts='paramiko://root@198.19.111.129,paramiko://root@198.19.111.130' \\
        --ssh-identity-file=.lab/<lab>/secrets/id_ed25519 --egov-inventory inventories/lab -n 4

One test per control and host (``test_control[<host>-L3-CES1-06]``); a control that cannot be
checked fails with its evidence too. ``egovops comply`` runs the same check functions (and adds
waivers, reports and metrics); this suite is the same checks in pytest's own format (JUnit with
``--junitxml``).
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser):
    parser.addoption("--egov-inventory", default="inventories/lab",
                     help="inventory folder the hosts belong to (for their NOC servers, firewall rules ...)")


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
