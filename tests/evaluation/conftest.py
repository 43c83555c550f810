"""A small valid recipe (with its data) for the evaluation block's compile and lint tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

RECIPE = """\
name: eval-recipe
model: {base: models/tiny-llama, max_seq_length: 256}
method: {kind: lora}
data: {train: data/train.jsonl, validation: data/validation.jsonl}
training: {epochs: 2, learning_rate: 2.0e-4, eval: {every: 20}}
hardware: {accelerator: cpu}
"""


@pytest.fixture
def recipe(tmp_path: Path) -> Path:
    rows = [{"messages": [{"role": "user", "content": f"ticket {i}"},
                          {"role": "assistant", "content": f"Category: {'ab'[i % 2]}"}]}
            for i in range(8)]
    for name in ("train", "validation"):
        path = tmp_path / "data" / f"{name}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    path = tmp_path / "recipe.yaml"
    path.write_text(RECIPE, encoding="utf-8")
    return path
