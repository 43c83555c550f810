"""Shared helpers for the memory tests: lock-shaped values, the oracle file, the CLI."""

from __future__ import annotations

import copy
import textwrap
from pathlib import Path

import pytest

from ftc.memory.oracle import ORACLE

LOCK = {
    "name": "job",
    "model": {"base": "meta-llama/Llama-3.1-8B", "max_seq_length": 2048,
              "attn_implementation": "sdpa", "dtype": "bf16"},
    "method": {"kind": "lora",
               "lora": {"r": 16, "alpha": 32, "dropout": 0.05,
                        "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"]}},
    "training": {"micro_batch_size": 4, "gradient_accumulation": 4, "batch_size": 16,
                 "precision": "bf16", "gradient_checkpointing": False,
                 "optimizer": "adamw_torch"},
    "hardware": {"accelerator": "gpu", "gpus": 1, "nodes": 1, "world_size": 1,
                 "strategy": "none", "offload": "none", "fit": "check"},
    "data": {"packing": False},
}


def lock(**changes) -> dict:
    """A resolved recipe (lock content) with dotted-path changes: lock(**{"a.b": 1})."""
    out = copy.deepcopy(LOCK)
    for path, value in changes.items():
        parts = path.split(".")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        if value is None:
            node.pop(parts[-1], None)
        else:
            node[parts[-1]] = value
    return out


@pytest.fixture
def oracle_path() -> Path:
    if not ORACLE.is_file():
        pytest.skip(f"oracle file not present: {ORACLE}")
    return ORACLE


@pytest.fixture
def recipe(tmp_path: Path):
    """recipe(text, name='r.yaml') -> path of a recipe file with a data file beside it."""
    (tmp_path / "train.jsonl").write_text(
        '{"messages": [{"role": "user", "content": "hi"}, '
        '{"role": "assistant", "content": "hello"}]}\n', encoding="utf-8")

    def _write(text: str, name: str = "r.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path
    return _write
