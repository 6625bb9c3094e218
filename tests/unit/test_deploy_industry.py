"""``egovops deploy --limit kind:industry``: the steps that do not apply to industry clouds skip.

Why: onboarding a cloud is one entry plus ``deploy --limit kind:industry``; that run must not
rebuild the province's DR tier (no industry cloud takes part in a replication) while render,
the industry stacks' preview, harden and comply act on the clouds (tests in test_stacks_industry
and test_comply_industry).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from egovops.deploy import DeployContext
from egovops.model import Province

pytestmark = pytest.mark.unit


def test_dr_step_skips_when_the_limit_selects_no_replicated_node(anhui_province: Province, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from egovops.dr import service, step

    calls: list[object] = []

    def up(*args: object, **kwargs: object) -> None:   # stands in for the real DR bring-up
        calls.append(args)
        raise RuntimeError("ran")

    monkeypatch.setattr(service, "up", up)
    ctx = DeployContext(inventory="inventories/anhui", out=tmp_path, province=anhui_province,
                        options={"limit": "kind:industry"})
    res = step.run(ctx)
    assert res.status == "skipped" and "kind:industry" in res.summary and calls == []
    # a limit that selects a replicated node still runs DR (here: reaches the service function)
    ctx.options["limit"] = "kind:industry,city:hefei"
    with pytest.raises(RuntimeError, match="ran"):
        step.run(ctx)
    assert len(calls) == 1
