"""Pieces for the export tests: adapters made with PEFT on the suite's tiny Llama
(tests/conftest.py; LoRA with non-zero B, so merging changes the weights; prefix
tuning, which cannot merge), and a helper running the real `ftc` CLI in-process or as
a subprocess."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


@pytest.fixture(scope="session", autouse=True)
def _modest_threads():
    import torch

    torch.set_num_threads(2)


@pytest.fixture(scope="session")
def lora_adapter(tiny_model, tmp_path_factory) -> Path:
    """A LoRA adapter on every projection of the tiny model, B initialised randomly."""
    return make_adapter(tiny_model, tmp_path_factory.mktemp("lora") / "adapter", "lora")


@pytest.fixture(scope="session")
def prefix_adapter(tiny_model, tmp_path_factory) -> Path:
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


def exported(tmp_path_factory, name: str, *flags) -> Path:
    """`ftc export SOURCE FLAGS -o <fresh dir>/out`, asserted to succeed; the output folder."""
    out = tmp_path_factory.mktemp(name) / "out"
    code, _, err = cli("export", *flags, "-o", out)
    assert code == 0, err
    return out


def greedy_pair(model, tokenizer, ids: list[int], gguf: Path, n: int = 20):
    """(transformers, llama.cpp) greedy continuations of ids: n tokens, or fewer ending at
    end-of-sequence. llama.cpp runs with its default (f16) KV cache, as llama-server does."""
    import torch
    from llama_cpp import Llama

    eos = tokenizer.eos_token_id
    with torch.no_grad():
        out = model.generate(input_ids=torch.tensor([ids]), do_sample=False, max_new_tokens=n,
                             eos_token_id=eos, pad_token_id=tokenizer.pad_token_id)
    llm = Llama(model_path=str(gguf), n_ctx=len(ids) + n + 8, verbose=False, n_threads=2)
    try:
        got: list[int] = []
        for token in llm.generate(ids, top_k=1, top_p=1.0, min_p=0.0, temp=0.0,
                                  repeat_penalty=1.0):
            got.append(int(token))
            if len(got) == n or token == eos:
                break
    finally:
        llm.close()
    return out[0, len(ids):].tolist(), got
