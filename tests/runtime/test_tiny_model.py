"""`ftc init-tiny-model`: a real (tiny) Llama that loads and generates through
from_pretrained, with a chat template that marks the assistant's turns."""

from __future__ import annotations

import hashlib

import pytest

from .conftest import ftc


def test_loads_through_from_pretrained_and_generates(tiny_model):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    cfg = model.config
    assert cfg.model_type == "llama"
    assert 64 <= cfg.hidden_size <= 128 and 2 <= cfg.num_hidden_layers <= 4
    assert cfg.vocab_size == len(tokenizer)
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "My order is late."}],
                                           add_generation_prompt=True, return_tensors="pt",
                                           return_dict=True)
    with torch.no_grad():
        out = model.generate(**prompt, max_new_tokens=5, do_sample=False)
    assert out.shape[1] > prompt["input_ids"].shape[1]


def test_chat_template_masks_exactly_the_assistant_turn(tiny_model):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    chat = [{"role": "user", "content": "Where is order #12345?"},
            {"role": "assistant", "content": "Category: shipping\nReply: On its way."}]
    out = tokenizer.apply_chat_template(chat, tokenize=True, return_dict=True,
                                        return_assistant_tokens_mask=True)
    ids, mask = out["input_ids"], out["assistant_masks"]
    assistant = tokenizer.decode([i for i, m in zip(ids, mask, strict=True) if m])
    others = tokenizer.decode([i for i, m in zip(ids, mask, strict=True) if not m])
    # the end-of-turn token is trained too, or the model never learns to stop
    assert assistant == "Category: shipping\nReply: On its way.<|im_end|>"
    assert "Where is order #12345?" in others and "shipping" not in others
    assert tokenizer.eos_token == "<|im_end|>" and tokenizer.pad_token != tokenizer.eos_token


def test_same_inputs_same_bytes(tmp_path):
    from ftc.runtime.tiny_model import TinySpec, init_tiny_model

    texts = ["Where is my parcel?", "Category: shipping\nReply: on its way"] * 20
    spec = TinySpec(hidden_size=64, heads=2, kv_heads=1, intermediate_size=176, vocab_size=300)
    a = init_tiny_model(tmp_path / "a", texts, spec)
    b = init_tiny_model(tmp_path / "b", texts, spec)
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        assert _sha(a / name) == _sha(b / name), name


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_cli_builds_once_and_refuses_a_foreign_directory(tmp_path):
    target = tmp_path / "tiny"
    made = ftc("init-tiny-model", str(target), "--layers", "3", "--hidden-size", "64")
    assert made.returncode == 0, made.stderr
    assert (target / "config.json").is_file() and (target / "tokenizer.json").is_file()
    assert '"num_hidden_layers": 3' in (target / "config.json").read_text()
    again = ftc("init-tiny-model", str(target))
    assert again.returncode == 0 and "already holds a model" in again.stdout

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    refused = ftc("init-tiny-model", str(foreign))
    assert refused.returncode == 2
    assert "FTC520" in refused.stderr and "Traceback" not in refused.stderr
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]
