"""Helpers for compiler tests: write recipes into tmp dirs, run the CLI in-process."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from ftc.cli import main

BASE_RECIPE = """\
name: support-bot-lora
model:
  base: models/tiny-llama
  max_seq_length: 512
method:
  kind: lora
  lora: {r: 16}
data:
  train: data/train.jsonl
training:
  epochs: 3
  learning_rate: 2.0e-4
hardware:
  gpus: 1
  nodes: 1
  strategy: auto
"""


@pytest.fixture
def write(tmp_path: Path):
    """write(name, text) -> Path of a file under tmp_path (dedented)."""
    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path
    return _write


@pytest.fixture
def recipe(write, tmp_path: Path) -> Path:
    """A valid LoRA recipe with its data file present."""
    data = tmp_path / "data" / "train.jsonl"
    data.parent.mkdir(parents=True, exist_ok=True)
    data.write_text(json.dumps({"messages": [{"role": "user", "content": "hi"},
                                             {"role": "assistant", "content": "hello"}]}) + "\n")
    return write("recipe.yaml", BASE_RECIPE)


@pytest.fixture
def ftc(capsys):
    """ftc(*argv) -> (exit code, stdout, stderr), run in-process."""
    def _run(*argv: str):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:  # argparse usage errors
            code = exc.code
        out = capsys.readouterr()
        return code, out.out, out.err
    return _run
