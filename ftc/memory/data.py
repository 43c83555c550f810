"""The memory package's YAML tables (models, gpus, fixes, decision tree), loaded once."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from ruamel.yaml import YAML

HERE = Path(__file__).resolve().parent


@cache
def table(name: str) -> dict:
    """ftc/memory/<name>.yaml as plain data (safe loader)."""
    return YAML(typ="safe", pure=True).load((HERE / f"{name}.yaml").read_text(encoding="utf-8"))
