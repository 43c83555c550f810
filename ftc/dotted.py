"""Nested recipe values by dotted path ("method.lora.r"): one reader for every side.

The resolved recipe (compiler), the lock (runtime) and the memory workload all
hold the same nested dicts; a missing key anywhere on the path gives the default.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def get_dotted(values: dict, path: str, default: Any = None) -> Any:
    """values["a"]["b"]["c"] for "a.b.c", or default where any step is missing."""
    node: Any = values
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


def leaves(values: dict, prefix: str = "") -> dict[str, Any]:
    """Every non-dict value keyed by its dotted path ({"a": {"b": 1}} -> {"a.b": 1})."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(leaves(value, path + "."))
        else:
            out[path] = value
    return out


def dotted_name(path) -> str:
    """'method.lora.target_modules[0]' for ['method', 'lora', 'target_modules', 0]."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "recipe"


def iter_strings(value: Any) -> Iterator[str]:
    """Every string leaf of nested dicts/lists (file paths in a recipe, texts in a data row)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from iter_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from iter_strings(v)
