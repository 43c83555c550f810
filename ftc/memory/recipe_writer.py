"""Text of a new recipe: the user's values, and every resolved default as a comment.

`ftc new` builds the smallest recipe for an approach, resolves it with the
compiler, and writes it with the defaults ftc filled in shown as comments
(`# r: 16            # table:lora`), so the file documents itself and a line
can be uncommented to change it.
"""

from __future__ import annotations

import json
import re
from typing import Any

SECTIONS = ("model", "method", "data", "training", "hardware", "export", "logging", "backend")
# Resolved keys not worth a comment: derived values and paths made absolute.
SKIP = {"ftc", "name", "description", "output_dir", "abstract"}
_PLAIN = re.compile(r"^[A-Za-z_./][A-Za-z0-9_./+-]*$")
_SPECIAL = {"true", "false", "null", "yes", "no", "on", "off", "~", ""}


def scalar(value: Any) -> str:
    """A YAML flow scalar (JSON where a plain one could be misread)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, list):
        return "[" + ", ".join(scalar(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {scalar(v)}" for k, v in value.items()) + "}"
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _SPECIAL:
        return text
    return json.dumps(text)


def _allowed(parts: list[str]) -> bool:
    from ftc.compiler.validate import subschema

    try:
        return subschema(parts) is not None
    except (KeyError, TypeError, IndexError):
        return False


def render_section(key: str, user: Any, resolved: Any, provenance: dict[str, str],
                   path: list[str], indent: int, commented: bool = False) -> list[str]:
    """Lines for one key: user values as YAML, defaults as '# key: value  # source'."""
    pad = "  " * indent
    dotted = ".".join(path)
    if isinstance(resolved, dict) and (not isinstance(user, dict) or resolved):
        user_map = user if isinstance(user, dict) else {}
        body: list[str] = []
        keys = list(user_map) + [k for k in resolved if k not in user_map]
        for child in keys:
            if not _allowed(path + [child]):
                continue
            child_commented = commented or child not in user_map
            body += render_section(child, user_map.get(child), resolved.get(child),
                                   provenance, path + [child], indent + 1, child_commented)
        if not body:
            return []
        head_commented = commented or not isinstance(user, dict)
        return [f"{pad}{'# ' if head_commented else ''}{key}:"] + body
    if commented:
        source = provenance.get(dotted, "")
        line = f"{pad}# {key}: {scalar(resolved)}"
        return [f"{line:<44}  # {source}" if source else line]
    return [f"{pad}{key}: {scalar(user)}"]


def render_recipe(user: dict, resolved: dict, provenance: dict[str, str],
                  header: list[str]) -> str:
    """The whole recipe file."""
    lines = [f"# {h}" if h else "#" for h in header]
    lines.append(f"name: {scalar(user['name'])}")
    if user.get("description"):
        lines.append(f"description: {scalar(user['description'])}")
    for section in SECTIONS:
        if section in SKIP or section not in resolved and section not in user:
            continue
        lines += render_section(section, user.get(section), resolved.get(section, {}),
                                provenance, [section], 0, commented=section not in user)
    return "\n".join(lines) + "\n"
