"""The provider table (models.yaml beside this file): models, limits, prices, its date.

Lookups accept a model's dated name or its alias (gpt-4.1-mini ->
gpt-4.1-mini-2025-04-14): the job is always created with the dated name, so
that a bundle means the same model next month.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ftc.tables import load_data_file

TABLE_FILE = Path(__file__).resolve().parent / "models.yaml"


@cache
def load() -> dict:
    return load_data_file(TABLE_FILE)


def as_of() -> str:
    return str(load()["as_of"])


def provider(kind: str) -> dict:
    """The provider's section: name, limits, roles, auto-epoch rule, models."""
    return load()[kind]


@dataclass(frozen=True)
class ModelSpec:
    name: str  # the dated model name the job is created with
    methods: tuple[str, ...]
    context: int
    usd_per_million: float | None


def find_model(kind: str, name: str) -> ModelSpec | None:
    """The model called `name` (dated or alias) at provider `kind`, or None."""
    models = provider(kind)["models"]
    for dated, row in models.items():
        if name == dated or name in (row.get("aliases") or []):
            return ModelSpec(dated, tuple(row["methods"]), int(row["context"]),
                             row.get("usd_per_million_training_tokens"))
    return None


def model_names(kind: str, method: str | None = None) -> list[str]:
    """Dated names of the provider's models (that offer `method`, when given)."""
    models = provider(kind)["models"]
    return [n for n, row in models.items() if method is None or method in row["methods"]]


def closest_model(kind: str, name: str) -> str | None:
    names = [n for n in provider(kind)["models"]]
    names += [a for row in provider(kind)["models"].values() for a in row.get("aliases") or []]
    match = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    return match[0] if match else None
