"""The recipe JSON Schema, loaded once (loader and validate share it; no compiler imports).

Shipped as package data (ftc/resources.py), so it exists in any install.
"""

from __future__ import annotations

import json
from functools import lru_cache

from ftc.resources import shared_path

SCHEMA_FILE = shared_path("schemas", "recipe.schema.json")


@lru_cache(maxsize=1)
def load_schema() -> dict:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def recipe_sections() -> list[str]:
    """The top-level keys a recipe may have."""
    return sorted(load_schema().get("properties", {}))
