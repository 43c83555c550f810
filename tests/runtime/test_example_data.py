"""The quickstart's example data: deterministic, committed as generated, and clean
enough for the data pipeline (no duplicates, no train/validation leaks)."""

from __future__ import annotations

import subprocess
import sys

from ftc.runtime import example_data

from .conftest import REPO


def test_generator_is_deterministic():
    a = list(example_data.generate(50, seed=3))
    b = list(example_data.generate(50, seed=3))
    assert a == b
    assert a != list(example_data.generate(50, seed=4))


def test_committed_files_are_what_the_script_writes(tmp_path):
    out = tmp_path / "tickets"
    subprocess.run([sys.executable, str(REPO / "recipes/data/make_tickets.py"), "--out", str(out)],
                   check=True, capture_output=True)
    for split in ("train", "validation"):
        committed = (REPO / "recipes/data/tickets" / f"{split}.jsonl").read_bytes()
        assert (out / f"{split}.jsonl").read_bytes() == committed, f"regenerate {split}.jsonl"


def test_every_example_is_a_labelled_chat():
    for ex in example_data.default_splits()["validation"]:
        user, assistant = ex["messages"]
        assert user["role"] == "user" and user["content"]
        category, reply = assistant["content"].split("\n")
        assert category.removeprefix("Category: ") in example_data.CATEGORIES
        assert reply.startswith("Reply: ")


def test_skewed_lengths_for_the_packing_benchmark():
    examples = list(example_data.generate(200, seed=5, long_fraction=0.1))
    lengths = sorted(len(e["messages"][0]["content"]) for e in examples)
    assert lengths[-1] > 5 * lengths[len(lengths) // 2]


def test_shipped_data_passes_the_data_pipeline(tmp_path):
    from ftc.dataprep import prepare_for_run

    lock = {"name": "q", "model": {"base": "none", "max_seq_length": 512},
            "method": {"kind": "lora"}, "training": {"seed": 42},
            "data": {"format": "messages", "train": ["tickets/train.jsonl"],
                     "validation": ["tickets/validation.jsonl"]}}
    prepared = prepare_for_run(lock, REPO / "recipes/data", tmp_path / "out")
    report = prepared.report
    assert report["leakage"] == 0
    # two templated tickets differ in a greeting and a clause only (edit similarity 0.85-0.86)
    assert report["duplicates"]["exact"] == 0 and report["duplicates"]["near"] == 2
    assert report["splits"] == {"train": example_data.TRAIN_SIZE - 2,
                                "validation": example_data.VALIDATION_SIZE}
