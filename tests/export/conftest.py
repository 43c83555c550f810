"""Pieces for the export tests: the runtime tests' tiny Llama, adapters made on it with
PEFT (LoRA with non-zero B, so merging changes the weights; prefix tuning, which cannot
merge), and a helper running the real `ftc` CLI in-process or as a subprocess."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

# the runtime tests' fixtures (one tiny Llama, the ticket data), shared rather than rebuilt
from tests.runtime.conftest import tickets, tiny_model  # noqa: F401

LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


@pytest.fixture(scope="session", autouse=True)
def _modest_threads():
    import torch

    torch.set_num_threads(2)


@pytest.fixture(scope="session")
def lora_adapter(tiny_model, tmp_path_factory) -> Path:  # noqa: F811
    """A LoRA adapter on every projection of the tiny model, B initialised randomly."""
    return make_adapter(tiny_model, tmp_path_factory.mktemp("lora") / "adapter", "lora")


@pytest.fixture(scope="session")
def prefix_adapter(tiny_model, tmp_path_factory) -> Path:  # noqa: F811
    return make_adapter(tiny_model, tmp_path_factory.mktemp("prefix") / "adapter", "prefix")


def make_adapter(base: Path, out: Path, kind: str) -> Path:
    import torch
    from peft import LoraConfig, PrefixTuningConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(base)
    torch.manual_seed(3)
    if kind == "lora":
        config = LoraConfig(r=8, lora_alpha=16, target_modules=LORA_TARGETS,
                            init_lora_weights=False, task_type="CAUSAL_LM")
    else:
        config = PrefixTuningConfig(num_virtual_tokens=4, task_type="CAUSAL_LM")
    get_peft_model(model, config).save_pretrained(out)
    AutoTokenizer.from_pretrained(base).save_pretrained(out)
    return out


def fake_run(run_dir: Path, weights: Path, kind: str = "lora", summary: bool = True) -> Path:
    """A run directory laid out like the runtime's, around existing weights (copied)."""
    import shutil

    run_dir.mkdir(parents=True)
    sub = "adapter" if (weights / "adapter_config.json").is_file() else "model"
    shutil.copytree(weights, run_dir / sub)
    (run_dir / "ftc_run.json").write_text(json.dumps({"identity": {}}), encoding="utf-8")
    lock = {"name": "demo", "description": "Sorts support tickets.",
            "model": {"base": "models/tiny-llama", "max_seq_length": 256},
            "method": {"kind": kind, "lora": {"r": 8, "alpha": 16,
                                              "target_modules": LORA_TARGETS}},
            "data": {"train": ["data/train.jsonl"]},
            "training": {"learning_rate": 2e-3, "batch_size": 8, "precision": "fp32"},
            "export": {"merge_adapters": False, "formats": ["safetensors"],
                       "gguf_quantization": "f16", "model_card": True}}
    (run_dir / "recipe.lock.yaml").write_text(json.dumps(lock), encoding="utf-8")
    if summary:
        (run_dir / "summary.json").write_text(json.dumps({
            "name": "demo", "method": kind, "steps": 12, "epochs": 0.5,
            "train_loss": {"first": 6.9, "last": 3.1}, "eval_loss": {"first": 6.8, "last": 3.3},
            "test_loss": 3.4, "tokens_trained": 5120, "train_seconds": 9.5,
            "examples": {"train": 160, "validation": 32, "test": 16}}), encoding="utf-8")
    return run_dir


def cli(*args: str) -> tuple[int, str, str]:
    """ftc's main() in this process (fast; the libraries stay imported between tests)."""
    from ftc.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def llama_cpp_or_skip():
    """Skip (with the reason printed) where llama-cpp-python is not built."""
    from ftc.export.llama_check import unavailable

    reason = unavailable()
    if reason:
        pytest.skip(reason)


def logits(model, ids):
    import torch

    with torch.no_grad():
        return model(torch.tensor(ids)).logits
