"""Merged weights: PEFT's merge_and_unload, saved as safetensors, equal to the adapter model."""

from __future__ import annotations

import json

import pytest

from .conftest import exported, logits

FIXED = [[5, 17, 200, 33, 9, 400, 12, 7], [1, 300, 301, 302, 2, 3, 900, 44]]


@pytest.fixture(scope="module")
def merged_export(lora_adapter, tmp_path_factory):
    return exported(tmp_path_factory, "merge", lora_adapter, "--merge")


def test_merged_logits_equal_the_adapter_models(merged_export, lora_adapter, tiny_model):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    adapted = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model),
                                        lora_adapter).eval()
    merged = AutoModelForCausalLM.from_pretrained(merged_export / "merged").eval()
    base = AutoModelForCausalLM.from_pretrained(tiny_model).eval()
    want, got = logits(adapted, FIXED), logits(merged, FIXED)
    assert float((want - got).abs().max()) < 1e-4  # measured 8e-6 (fp32)
    assert float((want - logits(base, FIXED)).abs().max()) > 0.1  # the adapter did change it
    assert not any("lora" in n for n, _ in merged.named_parameters())


def test_merged_folder_is_a_standalone_model(merged_export):
    files = {p.name for p in (merged_export / "merged").iterdir()}
    assert {"model.safetensors", "config.json", "generation_config.json", "tokenizer.json",
            "tokenizer_config.json", "README.md"} <= files
    assert not any(f.endswith((".bin", ".pt")) for f in files)
    report = json.loads((merged_export / "export.json").read_text())
    assert report["checks"]["merged"]["max_abs_diff"] < 1e-4
    assert report["checks"]["merged"]["top1_agreement"] == 1.0
