"""recipe.lock.yaml: the resolved recipe, written deterministically, read safely.

The runtime reads only this file.  Each leaf carries its provenance as a
trailing comment, so a person reading the bundle sees why every value is what
it is.  Written by hand (not by a YAML dumper) so that the bytes depend on
nothing but the values.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from ftc.compiler.resolve import PATH_KEYS
from ftc.compiler.validate import load_schema
from ftc.diagnostics import one_line

LOCK_NAME = "recipe.lock.yaml"


def read_lock(path: str | Path) -> dict:
    """The lock file as plain data (safe loader, YAML 1.2)."""
    return YAML(typ="safe", pure=True).load(Path(path).read_text(encoding="utf-8"))


def relative_paths(values: dict, bundle_dir: Path) -> dict:
    """A deep copy of `values` with absolute local paths made relative to bundle_dir."""
    out = json.loads(json.dumps(values))
    for dotted in PATH_KEYS:
        parent, key = _parent(out, dotted)
        if parent is not None and key in parent:
            parent[key] = _rel(parent[key], bundle_dir)
    for item in (out.get("method", {}).get("adapter", {}).get("adapters") or []):
        for key in ("train", "validation"):
            if key in item:
                item[key] = _rel(item[key], bundle_dir)
    return out


def _parent(values: dict, dotted: str) -> tuple[dict | None, str]:
    parts = dotted.split(".")
    node: Any = values
    for part in parts[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            return None, parts[-1]
    return node, parts[-1]


def _rel(value: Any, base: Path) -> Any:
    if isinstance(value, list):
        return [_rel(v, base) for v in value]
    if isinstance(value, dict) and isinstance(value.get("path"), str):  # a data source
        return {**value, "path": _rel(value["path"], base)}
    if isinstance(value, str) and os.path.isabs(value):
        return os.path.relpath(value, base)
    return value


def render_lock(values: dict, provenance: dict[str, str], header: list[str]) -> str:
    """YAML text of the lock: keys in schema order, each leaf with `# source`."""
    lines = [f"# {one_line(h)}" if h else "#" for h in header]
    _emit(values, provenance, [], load_schema(), 0, lines)
    return "\n".join(lines) + "\n"


def schema_order(node: dict, schema: dict) -> list[str]:
    """Keys of `node` in the order the schema lists them (unknown keys last, sorted)."""
    order = {k: i for i, k in enumerate(schema.get("properties", {}))}
    return sorted(node, key=lambda k: (order.get(k, len(order)), k))


def leaves(values: dict, schema: dict | None = None, prefix: str = ""):
    """(dotted path, value) for every leaf, in schema order."""
    schema = load_schema() if schema is None else schema
    for key in schema_order(values, schema):
        value, sub = values[key], schema.get("properties", {}).get(key, {})
        if isinstance(value, dict):
            yield from leaves(value, sub, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _emit(node: dict, prov: dict, parts: list[str], schema: dict, depth: int,
          lines: list[str]) -> None:
    props = schema.get("properties", {})
    for key in schema_order(node, schema):
        value = node[key]
        path = parts + [key]
        pad = "  " * depth
        if isinstance(value, dict):
            lines.append(f"{pad}{key}:")
            _emit(value, prov, path, props.get(key, {}), depth + 1, lines)
            continue
        source = prov.get(".".join(path), "")
        comment = f"  # {source}" if source else ""
        lines.append(f"{pad}{key}: {scalar(value)}{comment}")


# Characters YAML may not hold raw (or reads as line breaks): written as \\u escapes.
_NOT_YAML_PRINTABLE = "[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]"


def scalar(value: Any) -> str:
    """One value as YAML 1.2 flow text (JSON is a subset of YAML 1.2)."""
    if isinstance(value, float):
        if not math.isfinite(value):  # validation refuses these; keep them floats anyway
            return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
        text = repr(value)
        return text if any(c in text for c in ".e") else text + ".0"
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    # re's own cache compiles the pattern once, on first use (not at import: `ftc lint`)
    return re.sub(_NOT_YAML_PRINTABLE, lambda m: f"\\u{ord(m.group()):04x}", text)
