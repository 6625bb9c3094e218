"""The whole province: 17 routers + the national stand-in, 19 hosts, every one up and SSH-reachable
over v4 and v6 management addresses (the issue's acceptance). Runs last: it grows the shared
testlab to full size, which the `testlab` fixture tears down at session end if it brought it up.
"""

from __future__ import annotations

import time

import pytest

from egovops.lab import lab_up, status

pytestmark = pytest.mark.lab


def test_full_province_lab(testlab):
    p, _ = testlab
    t0 = time.monotonic()
    res = lab_up(p)  # no limit: the 17 + 1 routers and 19 hosts
    took = time.monotonic() - t0
    st = status(p)
    assert st is not None
    assert len(st.routers) == 18 and len(st.hosts) == 19
    assert {r.name for r in st.routers} == {r.name for r in p.routers if r.role != "county"}
    bad = [d.name for d in st.devices if not (d.up and d.ssh_ipv4 and d.ssh_ipv6)]
    assert not bad, f"not up or not SSH-reachable: {bad}"
    # every backbone link of both planes exists: each city router has up-d and up-v
    import subprocess
    for c in p.cities:
        out = subprocess.run(["ip", "-n", st.routers[[r.name for r in st.routers].index(c.router)].netns, "-o", "link"],
                             capture_output=True, text=True, timeout=10).stdout
        assert " up-d" in out.replace("@", " ") and " up-v" in out.replace("@", " "), c.slug
    print(f"full lab up (grown from the fixture's lab): {took:.1f}s, changed={res.changed}")
