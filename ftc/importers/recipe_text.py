"""Write an imported recipe as YAML text: a comment header, each value's source key beside
it, and the keys that were not imported listed at the end with their positions.

A small emitter of our own (strings always double-quoted, escapes for anything that could
end a line) so that no value can turn into YAML structure or a comment of its own.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from ftc.diagnostics import one_line
from ftc.importers.mapping import DEFAULT, DROPPED, UNSUPPORTED, Entry
from ftc.secret_scan import redact

SECTION_ORDER = ("name", "description", "model", "method", "data", "training", "evaluation",
                 "hardware", "logging", "output_dir", "lint")
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def recipe_text(recipe: dict, entries: list[Entry], header: Iterable[str]) -> str:
    """The recipe as YAML text with `header` lines as a leading comment block."""
    sources = _sources(entries)
    lines = [f"# {_comment(h)}" if h else "#" for h in header]
    ordered = {k: recipe[k] for k in SECTION_ORDER if k in recipe}
    ordered.update({k: v for k, v in recipe.items() if k not in ordered})
    lines += _block(ordered, 0, "", sources)
    lines += _not_imported(entries)
    return "\n".join(lines) + "\n"


def _sources(entries: list[Entry]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in entries:
        if e.target:
            out.setdefault(e.target, [])
            name = f"{e.key} (default)" if e.status == DEFAULT else e.key
            if name not in out[e.target]:
                out[e.target].append(name)
    return out


def _block(tree: dict, indent: int, prefix: str, sources: dict[str, list[str]]) -> list[str]:
    lines = []
    pad = " " * indent
    if "kind" in tree:  # a section's kind reads first (method.kind, backend.kind)
        tree = {"kind": tree["kind"], **tree}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        note = _note(sources.get(path))
        if isinstance(value, dict) and value:
            lines.append(f"{pad}{_key(key)}:{note}")
            lines += _block(value, indent + 2, path + ".", sources)
        elif isinstance(value, list) and any(isinstance(v, dict) for v in value):
            lines.append(f"{pad}{_key(key)}:{note}")
            for item in value:
                lines += _list_item(item, indent + 2)
        else:
            lines.append(f"{pad}{_key(key)}: {scalar(value)}{note}")
    return lines


def _list_item(item: Any, indent: int) -> list[str]:
    pad = " " * indent
    if not isinstance(item, dict) or not item:
        return [f"{pad}- {scalar(item)}"]
    inner = _block(item, indent + 2, "", {})  # no notes inside a list item
    return [f"{pad}- {inner[0].lstrip()}"] + inner[1:]


def scalar(value: Any) -> str:
    """One YAML value on one line (flow style for lists and maps)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else quote(repr(value))
    if isinstance(value, list):
        return "[" + ", ".join(scalar(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)}: {scalar(v)}" for k, v in value.items()) + "}"
    return quote(str(value))


def quote(text: str) -> str:
    """A double-quoted YAML string; control and line-separator characters escaped."""
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F or ch in "\u2028\u2029\ufeff":
            out.append(f"\\u{ord(ch):04x}")
        elif 0xD800 <= ord(ch) <= 0xDFFF:
            out.append("\\ufffd")  # a lone surrogate cannot be written as UTF-8
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _key(key: str) -> str:
    return key if _PLAIN_KEY.match(key) and key not in ("true", "false", "null") else quote(key)


def _note(keys: list[str] | None) -> str:
    return f"  # axolotl: {_comment(', '.join(keys))}" if keys else ""


def _comment(text: str) -> str:
    return one_line(redact(text))


def _not_imported(entries: list[Entry]) -> list[str]:
    groups = [
        ("NOT IMPORTED, changes training (set it by hand or accept ftc's behaviour):",
         [e for e in entries if e.status == UNSUPPORTED and e.changes_training]),
        ("Not imported, no effect on the trained weights:",
         [e for e in entries if e.status == UNSUPPORTED and not e.changes_training]),
        ("Dropped:", [e for e in entries if e.status == DROPPED]),
    ]
    lines: list[str] = []
    for title, group in groups:
        if not group:
            continue
        lines += ["", f"# {title}"]
        lines += [f"#   {e.line}:{e.col} {_comment(e.key)}: {_comment(e.reason)}" for e in group]
    return lines
