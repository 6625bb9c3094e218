"""Derivation of artefacts from the model: pure functions from a Province to file contents.

Every renderer returns ``{relative path: text}``; :func:`render_all` merges them and
:func:`write_tree` writes them. Output is deterministic (sorted keys, no timestamps), so rendering
twice gives byte-identical files and a diff of the output is a diff of the inventory.
"""

from __future__ import annotations

from egovops.model.province import Province
from egovops.render import ansible, industry, intents, prometheus, pulumi_config, snmp
from egovops.render.files import write_tree

RENDERERS = {
    "ansible": ansible.render,
    "intents": intents.render,
    "prometheus": prometheus.render,
    "pulumi": pulumi_config.render,
    "industry": industry.render,
    "snmp": snmp.render,  # production only (VRP routers); a lab inventory renders none
}


def render_all(province: Province) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, fn in RENDERERS.items():
        for path, text in fn(province).items():
            out[f"{name}/{path}"] = text
    return dict(sorted(out.items()))


__all__ = ["render_all", "write_tree", "RENDERERS"]
