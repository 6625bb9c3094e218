"""One pytest-testinfra test per catalogue control, parametrised over the --hosts given."""

from __future__ import annotations

import pytest

from egovops.compliance.catalogue import load
from egovops.compliance.checks import Ctx, resolve
from egovops.compliance.targets import role_params

CONTROLS = load().controls


@pytest.mark.parametrize("control", CONTROLS, ids=[c.id for c in CONTROLS])
def test_control(verified_host, control, egov_hostvars):
    host = verified_host
    address = host.backend.host.name
    hv = egov_hostvars.get(address)
    if hv is None:
        pytest.fail(f"{address} is not a cloud host of the inventory (--egov-inventory)")
    out = resolve(control)(host, Ctx(hv["_node"], hv, role_params(), host=host))
    assert out.status == "pass", f"{control.id} {control.title_zh} [{out.status}] on {hv['_node']}: {out.evidence}"
