"""Compile-time checks of the export block: the schema's new values and FTC160-142."""

from __future__ import annotations

import json

import pytest

from ftc.compiler import compile_recipe


def recipe(tmp_path, **export) -> dict:
    data = tmp_path / "train.jsonl"
    data.write_text(json.dumps({"messages": [{"role": "user", "content": "hi"},
                                             {"role": "assistant", "content": "hello"}]}) + "\n")
    return {"name": "x", "model": {"base": "org/model"}, "method": {"kind": "lora"},
            "data": {"train": str(data)}, "hardware": {"accelerator": "cpu"},
            "training": {"learning_rate": 2e-4}, "export": export}


def diagnostics(tmp_path, body: dict) -> list[str]:
    path = tmp_path / "recipe.yaml"
    path.write_text(json.dumps(body))
    return [f"{d.rule} {d.message}" for d in compile_recipe(path).diagnostics]


def test_every_export_key_and_value_is_accepted(tmp_path):
    body = recipe(tmp_path, merge_adapters=True, formats=["safetensors", "merged", "gguf",
                                                          "onnx"], gguf_quantization="f32",
                  model_card={"license": "mit", "language": ["en", "de"], "tags": ["a"],
                              "datasets": ["org/d"], "base_model": "org/model",
                              "intended_use": "Testing."})
    assert diagnostics(tmp_path, body) == []


def test_unknown_model_card_key_is_a_schema_error(tmp_path):
    found = diagnostics(tmp_path, recipe(tmp_path, model_card={"licence": "mit"}))
    assert any(d.startswith("FTC010") and "licence" in d for d in found), found


@pytest.mark.parametrize("method,export,rule", [
    ({"kind": "prefix"}, {"merge_adapters": True}, "FTC160"),
    ({"kind": "adapter"}, {"formats": ["onnx"]}, "FTC160"),  # llama-adapter by default
    ({"kind": "adapter", "adapter": {"type": "ia3", "adapters": [
        {"name": "a", "train": "a.jsonl"}, {"name": "b", "train": "b.jsonl"}]}},
     {"formats": ["merged"]}, "FTC160"),
    ({"kind": "reward"}, {"formats": ["gguf"]}, "FTC160"),
    ({"kind": "full"}, {"formats": ["merged"]}, "FTC161"),
])
def test_merge_problems(tmp_path, method, export, rule):
    body = recipe(tmp_path, **export)
    body["method"] = method
    assert any(d.startswith(rule) for d in diagnostics(tmp_path, body))


def test_lora_with_every_format_is_clean(tmp_path):
    assert diagnostics(tmp_path, recipe(tmp_path, formats=["merged", "gguf", "onnx"])) == []


def test_gguf_of_an_unsupported_local_base(tmp_path):
    base = tmp_path / "gpt2-base"
    base.mkdir()
    (base / "config.json").write_text(json.dumps({"architectures": ["GPT2LMHeadModel"]}))
    body = recipe(tmp_path, formats=["gguf"])
    body["model"]["base"] = str(base)
    found = diagnostics(tmp_path, body)
    assert any(d.startswith("FTC162") and "GPT2LMHeadModel" in d for d in found), found
    body["export"]["formats"] = ["onnx"]
    assert not any(d.startswith("FTC162") for d in diagnostics(tmp_path, body))
