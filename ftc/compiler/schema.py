"""The recipe JSON Schema file, loaded once (no ftc imports: loader and validate share it)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schemas" / "recipe.schema.json"


@lru_cache(maxsize=1)
def load_schema() -> dict:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def recipe_sections() -> list[str]:
    """The top-level keys a recipe may have."""
    return sorted(load_schema().get("properties", {}))
