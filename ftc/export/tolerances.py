"""How far an exported file may drift from the trained model before the export is refused.

Limits are on the max absolute logit difference over the probe, relative to the
largest reference logit (so they carry over from the tiny test model to real
ones), with measured values on the tiny model noted beside each. An exporter
bug (a wrong permutation, a missing tensor, a broken tokenizer) moves logits by
the order of the logits themselves, far past these limits.
"""

from __future__ import annotations

# check name -> max |diff| / max(1, max |reference logit|)
# measured (max |diff| / largest logit) on the tiny model, random LoRA and after the
# quickstart's training: merged 2e-6 / 6e-7, onnx 1.2e-6 / 3.5e-7, f32 1.5e-6 / 6e-7,
# f16 2.1e-3 / 6e-4, bf16 2.1e-2 / 4.1e-3, q8_0 5.4e-2 / 2.0e-2
LIMITS = {
    "merged": 1e-4,      # fp32 merge
    "onnx": 1e-4,        # fp32 graph in onnxruntime
    "gguf f32": 1e-4,
    "gguf f16": 1e-2,
    "gguf bf16": 5e-2,
    "gguf q8_0": 1e-1,
}


def verify(checks: dict[str, dict]) -> list[str]:
    """One line per check over its limit (empty: all within)."""
    failures = []
    for name, result in checks.items():
        limit = LIMITS.get(name)
        if limit is None or "max_abs_diff" not in result:
            continue
        allowed = limit * max(1.0, result.get("logit_scale", 1.0))
        if result["max_abs_diff"] > allowed:
            failures.append(f"{name}: max |logit diff| {result['max_abs_diff']:.3g} > "
                            f"{allowed:.3g}")
        if result.get("tokenizer_match") is False:
            failures.append(f"{name}: llama.cpp tokenizes text differently from the model's "
                            "tokenizer")
    return failures
