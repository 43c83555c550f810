"""The memory package's YAML tables (models, gpus, fixes, decision tree), loaded once."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from ftc.tables import load_data_file

HERE = Path(__file__).resolve().parent


@cache
def table(name: str) -> dict:
    """ftc/memory/<name>.yaml as plain data."""
    return load_data_file(HERE / f"{name}.yaml")
