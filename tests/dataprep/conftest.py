"""Fixtures for the data pipeline tests: data files in tmp dirs, a tiny tokenizer, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftc.cli import main

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}"
)


def chat(user: str, assistant: str, system: str | None = None) -> dict:
    messages = [{"role": "system", "content": system}] if system else []
    messages += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    return {"messages": messages}


def distinct_rows(n: int, start: int = 0) -> list[dict]:
    """n chat examples that share no word 3-shingles with each other."""
    return [chat(f"question {i} about topic t{i} with detail d{i * 7} and note n{i * 13}",
                 f"answer a{i} explains e{i * 3} carefully c{i * 11}")
            for i in range(start, start + n)]


def write_jsonl(path: Path, rows: list) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write((row if isinstance(row, str) else json.dumps(row)) + "\n")
    return path


def make_lock(train: list[str], **data) -> dict:
    """A resolved recipe as the compiler writes it (only the keys dataprep reads)."""
    lock_data = {"format": "auto", "train": train,
                 "dedup": {"exact": True, "near": True, "threshold": 0.85},
                 "balance": {"max_ratio": 10, "class_weighting": False},
                 "length_policy": "drop", "packing": False}
    if not data.get("validation") and not data.get("test"):
        lock_data["split"] = {"train": 0.8, "validation": 0.1, "test": 0.1}
    lock_data.update(data)
    return {"name": "t", "model": {"base": "no-such-org/no-such-model", "max_seq_length": 512},
            "data": lock_data, "training": {"seed": 42, "epochs": 3}}


@pytest.fixture(scope="session")
def tiny_tokenizer_dir(tmp_path_factory) -> Path:
    """A byte-level BPE tokenizer with a ChatML template, saved like a real model's."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["<|im_start|>", "<|im_end|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    core.train_from_iterator([f"question answer topic detail {i}" for i in range(200)],
                             trainer=trainer)
    tok = PreTrainedTokenizerFast(tokenizer_object=core, eos_token="<|im_end|>",
                                  additional_special_tokens=["<|im_start|>"])
    tok.chat_template = CHATML
    out = tmp_path_factory.mktemp("tokenizer")
    tok.save_pretrained(out)
    return out


@pytest.fixture
def cli(capsys):
    """cli(*argv) -> (exit code, stdout, stderr), running `ftc` in-process."""
    def _run(*argv: str) -> tuple[int, str, str]:
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:  # argparse usage errors
            code = exc.code
        out = capsys.readouterr()
        return code, out.out, out.err
    return _run
