"""The estimator's dtype assumptions checked on PEFT itself (the pinned version): LoRA
matrices are upcast to fp32, modules_to_save copies keep the base's dtype. The day PEFT
changes either, this fails and ftc/memory/estimator.py must follow."""

from __future__ import annotations

import pytest

from ftc.memory.estimator import saved_module_bytes
from ftc.memory.workload import from_values

from .conftest import lock


def test_peft_keeps_modules_to_save_in_the_base_dtype():
    torch = pytest.importorskip("torch")
    peft = pytest.importorskip("peft")
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(vocab_size=128, hidden_size=32, intermediate_size=64,
                         num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2)
    model = LlamaForCausalLM(config).to(torch.bfloat16)
    lora = peft.LoraConfig(r=4, target_modules=["q_proj", "v_proj"],
                           modules_to_save=["embed_tokens", "lm_head"])
    tuned = peft.get_peft_model(model, lora)
    dtypes = {name: p.dtype for name, p in tuned.named_parameters() if p.requires_grad}
    saved = {d for n, d in dtypes.items() if "modules_to_save" in n}
    adapters = {d for n, d in dtypes.items() if "lora_" in n}
    assert saved == {torch.bfloat16} and adapters == {torch.float32}
    w = from_values(lock(**{"model.dtype": "bf16",
                            "method.lora.modules_to_save": ["embed_tokens", "lm_head"]}))
    assert saved_module_bytes(w) == 2 and w.adapter_bytes == 4
