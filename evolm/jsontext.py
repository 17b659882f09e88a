"""JSON text that is always valid JSON: every JSON file, line and result evolm writes goes through `dumps`.

Python's `json` writes a NaN or an infinity as a bare `NaN` / `Infinity`, which is not JSON: jq,
JavaScript and strict parsers refuse the whole file (a validation loss of NaN made evolm.json
unreadable to them). `dumps` writes such a number as null, and states why beside it: a mapping at
the top gets a `"nonfinite"` entry naming each replaced value by its path and what it was, e.g.
`{"outcome.val_loss.pretrain": "NaN"}`, so a reader can tell "not measured" from "not a number".
"""

from __future__ import annotations

import json
import math
from typing import Any

NONFINITE = "nonfinite"
"""The top-level key that lists the values written as null because JSON has no such number."""


def finite(value: Any, path: str = "") -> tuple[Any, dict[str, str]]:
    """`value` with every NaN / infinity replaced by None, and {dotted path: what it was}."""
    if isinstance(value, float) and not math.isfinite(value):
        return None, {path or "(value)": "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")}
    if isinstance(value, dict):
        out, replaced = {}, {}
        for key, item in value.items():
            out[key], inner = finite(item, f"{path}.{key}" if path else str(key))
            replaced.update(inner)
        return out, replaced
    if isinstance(value, (list, tuple)):
        out, replaced = [], {}
        for i, item in enumerate(value):
            clean, inner = finite(item, f"{path}[{i}]")
            out.append(clean)
            replaced.update(inner)
        return out, replaced
    return value, {}


def dumps(obj: Any, **kwargs) -> str:
    """`json.dumps` that never writes NaN or Infinity (see the module docstring); same keyword arguments."""
    try:  # the common case costs one pass: only a value JSON cannot hold takes the slower path
        return json.dumps(obj, allow_nan=False, **kwargs)
    except ValueError:
        pass
    clean, replaced = finite(obj)
    if isinstance(clean, dict) and replaced:
        clean[NONFINITE] = {**(clean.get(NONFINITE) or {}), **replaced}
    return json.dumps(clean, allow_nan=False, **kwargs)
