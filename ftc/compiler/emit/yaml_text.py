"""Deterministic YAML text for plain nested dicts (block maps, JSON-style scalars)."""

from __future__ import annotations

from ftc.compiler.lockfile import scalar


def yaml_text(data: dict, depth: int = 0) -> str:
    lines: list[str] = []
    for key, value in data.items():
        pad = "  " * depth
        if isinstance(value, dict):
            lines.append(f"{pad}{key}:")
            lines.append(yaml_text(value, depth + 1).rstrip("\n"))
        else:
            lines.append(f"{pad}{key}: {scalar(value)}")
    return "\n".join(lines) + "\n"
