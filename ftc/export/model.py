"""Load the trained model for export: a full model as saved, or base + adapter merged.

Everything is loaded in fp32 on the CPU. Merging in fp32 is exact up to
rounding (`merge_and_unload` adds B@A*scale to each weight), the converters
then write each format's own dtype from full-precision tensors, and the
checks compare every exported file with the same fp32 reference. A QLoRA
adapter is merged into the unquantized base: the adapter was trained against
the 4-bit weights, so the merged model differs from the trained one by the
quantization gap, which is measured when bitsandbytes can load the base.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftc.export.errors import problem
from ftc.export.source import MERGEABLE, Source

PROBE_TEXT = "My order #1042 arrived damaged. Can I get a refund or a replacement?"


@dataclass
class Loaded:
    """The model to export (fp32, no adapter layers left) and what was measured on the way."""

    model: Any
    tokenizer: Any
    probe: list[int]                   # token ids every check runs on
    reference: Any                     # the trained model's logits on probe (torch, fp32)
    merged: bool = False
    save_dtype: Any = None             # the base's own dtype: what merged/ is saved in
    checks: dict[str, dict] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def mergeable_or_fail(source: Source) -> None:
    """FTC603/FTC604: there must be exactly one adapter whose weights fold into the base."""
    if not source.adapter:
        raise problem(source.weights, "FTC603",
                      "nothing to merge: this run trained the full model, which is already "
                      "a standalone model", "drop --merge (and merge_adapters/merged from "
                      "export); gguf and onnx export the model directly")
    if source.adapter_names:
        raise problem(source.weights, "FTC604",
                      f"the run trained {len(source.adapter_names)} named adapters "
                      f"({', '.join(source.adapter_names)}); a merged model holds one",
                      f"export one of them: ftc export {source.weights}/NAME --merge")
    if source.peft_type not in MERGEABLE:
        kind = {"PREFIX_TUNING": "prefix tuning", "ADAPTION_PROMPT": "LLaMA-Adapter",
                "PROMPT_TUNING": "prompt tuning", "P_TUNING": "p-tuning"}.get(
                    source.peft_type or "", source.peft_type or "this adapter")
        raise problem(source.weights, "FTC604",
                      f"{kind} cannot be merged: it adds learned virtual tokens (key/value "
                      "prefixes) at run time instead of changing the base's weights, so "
                      "there is nothing to fold into them",
                      "serve the adapter with PEFT on its base (see SERVING.md), or train "
                      "LoRA (method.kind: lora) to get a mergeable adapter")


def load_for_export(source: Source, need_standalone: bool) -> Loaded:
    """The fp32 model ready for writing; merges an adapter (checked against it) when needed."""
    import torch

    if source.adapter and need_standalone:
        mergeable_or_fail(source)
    tokenizer = _tokenizer(source)
    probe = probe_ids(tokenizer)
    if not source.adapter:
        trust = {"trust_remote_code": source.load_kwargs()["trust_remote_code"]}
        model = _from_pretrained(source.weights, source.weights, **trust)
        with torch.no_grad():
            reference = model(torch.tensor([probe])).logits[0]
        return Loaded(model, tokenizer, probe, reference,
                      save_dtype=_saved_dtype(source.weights, trust))
    from peft import PeftModel

    base = _from_pretrained(source.base, source.weights, **source.load_kwargs())
    save_dtype = _saved_dtype(source.base, source.load_kwargs())
    try:
        adapted = PeftModel.from_pretrained(base, str(source.weights))
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise problem(source.weights, "FTC609", f"the adapter does not load onto its base "
                      f"{source.base}: {_first_line(exc)}",
                      "export with the base model the adapter was trained on") from None
    adapted.eval()
    with torch.no_grad():
        reference = adapted(torch.tensor([probe])).logits[0]
    loaded = Loaded(adapted, tokenizer, probe, reference, save_dtype=save_dtype)
    if need_standalone:
        merge(loaded)
    return loaded


def merge(loaded: Loaded) -> None:
    """merge_and_unload, then compare the merged model's logits with the adapter model's."""
    import torch

    loaded.model = loaded.model.merge_and_unload()
    loaded.model.eval()
    loaded.merged = True
    with torch.no_grad():
        logits = loaded.model(torch.tensor([loaded.probe])).logits[0]
    loaded.checks["merged"] = compare(loaded.reference, logits)


def save_merged(loaded: Loaded, out: Path) -> Path:
    """merged/: safetensors in the base's dtype, config, generation config and tokenizer."""
    model = loaded.model
    if loaded.save_dtype is not None and loaded.save_dtype != next(model.parameters()).dtype:
        import copy

        model = copy.deepcopy(model).to(loaded.save_dtype)
    model.save_pretrained(str(out), safe_serialization=True)
    loaded.tokenizer.save_pretrained(str(out))
    return out


def probe_ids(tokenizer) -> list[int]:
    """Fixed input ids: a chat turn in the model's template when it has one, else plain text."""
    if getattr(tokenizer, "chat_template", None):
        try:
            ids = tokenizer.apply_chat_template([{"role": "user", "content": PROBE_TEXT}],
                                                add_generation_prompt=True, tokenize=True)
            ids = ids["input_ids"] if isinstance(ids, dict) or hasattr(ids, "keys") else ids
            return [int(i) for i in ids]
        except Exception:  # noqa: BLE001 - a template that needs other roles: plain text
            pass
    return [int(i) for i in tokenizer(PROBE_TEXT)["input_ids"]]


def compare(reference, other) -> dict:
    """Max and mean absolute logit difference, and how often the top token agrees."""
    import torch

    a, b = reference.float(), torch.as_tensor(other).float().reshape(reference.shape)
    diff = (a - b).abs()
    return {"max_abs_diff": float(diff.max()), "mean_abs_diff": float(diff.mean()),
            "top1_agreement": float((a.argmax(-1) == b.argmax(-1)).float().mean()),
            "logit_scale": float(a.abs().max())}


def _tokenizer(source: Source):
    from transformers import AutoTokenizer

    where = source.weights
    if not any((where / f).is_file() for f in ("tokenizer.json", "tokenizer_config.json",
                                                "tokenizer.model")):
        where = source.base  # a bare adapter: the base's tokenizer
    try:
        return AutoTokenizer.from_pretrained(
            str(where), trust_remote_code=source.load_kwargs()["trust_remote_code"])
    except (OSError, ValueError) as exc:
        raise problem(source.weights, "FTC609", f"cannot load the tokenizer from {where}: "
                      f"{_first_line(exc)}") from None


def _from_pretrained(ref, blame: Path, **kwargs):
    import torch
    from transformers import AutoModelForCausalLM

    try:
        model = AutoModelForCausalLM.from_pretrained(str(ref), dtype=torch.float32, **kwargs)
    except (OSError, ValueError) as exc:
        raise problem(blame, "FTC609", f"cannot load the model {ref}: {_first_line(exc)}",
                      "the base must be where the run found it (or on the hub)") from None
    model.eval()
    return model


def _saved_dtype(ref, kwargs: dict):
    """The dtype the checkpoint was saved in (config.json's dtype), which merged/ keeps."""
    import torch
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(str(ref), **kwargs)
    dtype = getattr(config, "dtype", None) or getattr(config, "torch_dtype", None)
    if isinstance(dtype, str):
        dtype = getattr(torch, dtype, None)
    return dtype if isinstance(dtype, torch.dtype) else torch.float32


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
