"""Kubernetes resource quantities ("500m", "2Gi", "1") multiplied, for quotas sized from the catalogue."""

from __future__ import annotations

import re

_Q = re.compile(r"^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|Ti|k|M|G|T)?$")


def scale(quantity: str, factor: int) -> str:
    """``scale("500m", 6) == "3000m"``; keeps the unit so the result reads like the catalogue."""
    m = _Q.match(str(quantity).strip())
    if not m:
        raise ValueError(f"not a Kubernetes quantity: {quantity!r}")
    num, unit = m.group(1), m.group(2) or ""
    value = float(num) * factor
    text = str(int(value)) if value.is_integer() else f"{value:g}"
    return f"{text}{unit}"
