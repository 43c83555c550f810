"""Data tables (YAML beside this file), loaded once and cached."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from ruamel.yaml import YAML

HERE = Path(__file__).resolve().parent


@cache
def load_table(name: str) -> dict:
    """The table `name` (a YAML file in ftc/tables/) as plain data."""
    return YAML(typ="safe", pure=True).load((HERE / f"{name}.yaml").read_text(encoding="utf-8"))


def hyperparameters() -> dict:
    return load_table("hyperparameters")
