"""Rows for `ftc explain`: every resolved value with the source it came from."""

from __future__ import annotations

from ftc.compiler.lockfile import leaves


def explain(values: dict, provenance: dict[str, str]) -> list[dict]:
    """One row {path, value, source} per resolved leaf, in the order the schema lists keys."""
    return [{"path": path, "value": value, "source": provenance.get(path, "")}
            for path, value in leaves(values)]
