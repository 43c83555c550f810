"""Trainable-parameter counts of the PEFT methods, from the model's shapes.

LoRA adds A (r x d_in) and B (d_out x r) to each target module of each block:
N = L * r * sum(d_in + d_out) over the targets (memory-oracle 2.3; matches
PEFT's print_trainable_parameters exactly).
"""

from __future__ import annotations

from collections.abc import Iterable

from ftc.memory.shapes import ENCODER_NAMES, ModelShape

# The named sets the recipe schema allows (ftc/tables/hyperparameters.yaml
# target_module_sets, Llama-family names).
NAMED_TARGETS = {
    "attention": ("q_proj", "k_proj", "v_proj", "o_proj"),
    "attention+mlp": ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                      "down_proj"),
    "all-linear": ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"),
}
# Other spellings of the same modules (GPT-NeoX/Phi/BERT naming, torchtune's).
SYNONYMS = {"qkv_proj": ("q_proj", "k_proj", "v_proj"), "gate_up_proj": ("gate_proj", "up_proj"),
            "output_proj": ("o_proj",), "w1": ("gate_proj",), "w3": ("up_proj",),
            "w2": ("down_proj",), **{k: (v,) for k, v in ENCODER_NAMES.items()}}


def target_modules(targets: str | Iterable[str] | None) -> tuple[str, ...]:
    """Canonical (Llama) module names of a target set or list; unknown names are kept."""
    if targets is None:
        return NAMED_TARGETS["attention"]
    if isinstance(targets, str):
        return NAMED_TARGETS.get(targets, (targets,))
    out: list[str] = []
    for name in targets:
        for canon in SYNONYMS.get(name, (name,)):
            if canon not in out:
                out.append(canon)
    return tuple(out)


def lora_parameters(shape: ModelShape, r: int, targets: Iterable[str],
                    modules_to_save: Iterable[str] = ()) -> int:
    """LoRA's trainable parameters (plus full copies of modules_to_save)."""
    dims = shape.module_dims()
    per_block = 0
    for name in targets:
        if name in dims:
            d_in, d_out = dims[name]
            copies = shape.experts if name in ("gate_proj", "up_proj", "down_proj") else 1
            per_block += copies * (d_in + d_out)
    total = shape.layers * r * per_block
    for name in modules_to_save:
        if name in ("embed_tokens", "lm_head", "word_embeddings"):
            total += shape.vocab * shape.hidden
    return total


def prefix_parameters(shape: ModelShape, virtual_tokens: int, projection: bool = False,
                      projection_hidden: int | None = None) -> int:
    """PEFT PrefixEncoder: past key/values for every layer (token_dim = hidden_size)."""
    per_token = shape.layers * 2 * shape.hidden
    if not projection:
        return virtual_tokens * per_token
    p = projection_hidden or shape.hidden
    return virtual_tokens * shape.hidden + shape.hidden * p + p + p * per_token + per_token


def adapter_parameters(shape: ModelShape, kind: str, adapter_len: int = 10,
                       adapter_layers: int = 2) -> int:
    """IA3 scaling vectors (k, v outputs and down_proj input) or LLaMA-Adapter prompts."""
    if kind == "ia3":
        return shape.layers * (2 * shape.kv_width + shape.intermediate)
    layers = min(adapter_layers, shape.layers)
    return layers * (adapter_len * shape.hidden + 1)  # prompt + zero-init gate per layer
