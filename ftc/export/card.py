"""README.md for the export: Hugging Face model-card metadata, then what a reader needs.

The YAML front matter carries the keys the Hub reads (base_model, library_name,
license, language, tags, datasets, pipeline_tag, model-index with the run's
evaluation losses); the body has the training summary, the evaluation table,
intended use, the export's own checks and how to serve it. `base_model` must
be a Hub id, so a local base is named in the text instead (or set
export.model_card.base_model to the Hub id it mirrors).
"""

from __future__ import annotations

import json
import math
from pathlib import Path


def card_settings(export_block: dict) -> dict | None:
    """export.model_card: false -> None (no card), true -> {}, a mapping -> its metadata."""
    value = export_block.get("model_card", True)
    if not value:
        return None
    return dict(value) if isinstance(value, dict) else {}


def build_card(facts: dict, card: dict) -> str:
    """The card's text. facts: name, base, method, lock, summary, metrics, files, checks, notes."""
    meta = front_matter(facts, card)
    body = [f"# {facts['name']}", "", _description(facts), "",
            *_model_section(facts, meta), *_training_section(facts),
            *_evaluation_section(facts), *_intended_use(facts, card),
            *_checks_section(facts), *_serving_section(facts)]
    return "---\n" + _yaml(meta) + "---\n\n" + "\n".join(body).rstrip() + "\n"


def front_matter(facts: dict, card: dict) -> dict:
    """Hub metadata: only keys with a value (the Hub rejects some empty ones)."""
    from ftc.compiler import is_hub_id

    lock = facts.get("lock") or {}
    base = card.get("base_model") or (facts["base"] if is_hub_id(facts["base"]) else None)
    tags = ["ftc", facts["method"], *(["peft", "lora"] if facts.get("adapter_only") else []),
            *(["gguf"] if facts["files"].get("gguf") else []),
            *(["onnx"] if facts["files"].get("onnx") else []), *(card.get("tags") or [])]
    meta = {
        "base_model": base,
        "library_name": "peft" if facts.get("adapter_only") else "transformers",
        "license": card.get("license"),
        "language": _as_list(card.get("language")),
        "tags": list(dict.fromkeys(tags)),
        "datasets": _as_list(card.get("datasets")) or _hub_datasets(lock),
        "pipeline_tag": "text-generation",
        "model-index": _model_index(facts),
    }
    return {k: v for k, v in meta.items() if v}


def _description(facts: dict) -> str:
    lock = facts.get("lock") or {}
    what = lock.get("description") or "A fine-tuned causal language model."
    return f"{what} Fine-tuned with ftc ({facts['method']}) from " \
           f"`{_base_name(facts['base'])}`."


def _model_section(facts: dict, meta: dict) -> list[str]:
    lock = facts.get("lock") or {}
    lines = ["## Model", "", f"- base model: `{_base_name(facts['base'])}`"
             + ("" if meta.get("base_model") else " (a local directory)"),
             f"- method: {facts['method']}"]
    lora = (lock.get("method") or {}).get("lora")
    if lora:
        lines.append(f"- LoRA: r {lora.get('r')}, alpha {lora.get('alpha')}, targets "
                     f"{', '.join(lora.get('target_modules') or [])}")
    for key, label in (("merged", "merged model (safetensors)"), ("adapter", "adapter (PEFT)"),
                       ("model", "full model (safetensors)"), ("gguf", "GGUF (llama.cpp)"),
                       ("onnx", "ONNX (onnxruntime)")):
        for path in _as_list(facts["files"].get(key)):
            lines.append(f"- {label}: `{path}`")
    return lines + [""]


def _training_section(facts: dict) -> list[str]:
    summary, lock = facts.get("summary") or {}, facts.get("lock") or {}
    training = lock.get("training") or {}
    examples = summary.get("examples") or {}
    rows = [("steps", summary.get("steps")), ("epochs", summary.get("epochs")),
            ("learning rate", training.get("learning_rate")),
            ("effective batch size", training.get("batch_size")),
            ("precision", training.get("precision")),
            ("max sequence length", (lock.get("model") or {}).get("max_seq_length")),
            ("training examples", examples.get("train")),
            ("validation examples", examples.get("validation")),
            ("tokens trained", summary.get("tokens_trained")),
            ("training time (s)", summary.get("train_seconds"))]
    rows = [(k, v) for k, v in rows if v is not None]
    if not rows:
        return []
    return ["## Training", "", "| setting | value |", "|---|---|",
            *(f"| {k} | {v} |" for k, v in rows), ""]


def _evaluation_section(facts: dict) -> list[str]:
    summary = facts.get("summary") or {}
    rows = []
    for label, pair in (("train loss", summary.get("train_loss")),
                        ("validation loss", summary.get("eval_loss"))):
        if pair:
            rows.append(f"| {label} | {pair['first']:.4f} | {pair['last']:.4f} |")
    if pair := summary.get("eval_loss"):
        rows.append(f"| validation perplexity | {_ppl(pair['first']):.2f} | "
                    f"{_ppl(pair['last']):.2f} |")
    if "test_loss" in summary:
        rows.append(f"| test loss | | {summary['test_loss']:.4f} |")
    if not rows:
        return ["## Evaluation", "", "No evaluation was run.", ""]
    return ["## Evaluation", "", "| metric | start | end |", "|---|---|---|", *rows, ""]


def _intended_use(facts: dict, card: dict) -> list[str]:
    text = card.get("intended_use") or (
        "The task of the training data above. It has been evaluated only by the losses in "
        "this card: check its answers on your own cases before relying on them, and do not "
        "use it for decisions about people without human review.")
    return ["## Intended use", "", text, ""]


def _checks_section(facts: dict) -> list[str]:
    checks, notes = facts.get("checks") or {}, facts.get("notes") or []
    if not checks and not notes:
        return []
    lines = ["## Export checks", "",
             "Each exported file was loaded back and compared with the trained model "
             "on fixed input ids (max absolute logit difference; top-1 agreement):", ""]
    for name, result in checks.items():
        if "max_abs_diff" in result:
            lines.append(f"- {name}: {result['max_abs_diff']:.2e}; "
                         f"{result['top1_agreement']:.0%}" + _greedy(result))
        elif "skipped" in result:
            lines.append(f"- {name}: not checked ({result['skipped']})")
    lines += [f"- note: {n}" for n in notes]
    return lines + [""]


def _serving_section(facts: dict) -> list[str]:
    return ["## Serving", "", "Commands for vLLM, TGI, llama.cpp, Ollama and onnxruntime "
            "are in [SERVING.md](SERVING.md).", ""]


def _greedy(result: dict) -> str:
    if "greedy_match" not in result:
        return ""
    return "; greedy tokens " + ("identical" if result["greedy_match"] else "differ")


def _model_index(facts: dict) -> list | None:
    summary = facts.get("summary") or {}
    metrics = []
    if summary.get("eval_loss"):
        last = summary["eval_loss"]["last"]
        metrics += [{"type": "loss", "name": "validation loss", "value": round(last, 4)},
                    {"type": "perplexity", "name": "validation perplexity",
                     "value": round(_ppl(last), 4)}]
    if "test_loss" in summary:
        metrics.append({"type": "loss", "name": "test loss",
                        "value": round(summary["test_loss"], 4)})
    if not metrics:
        return None
    return [{"name": facts["name"], "results": [{
        "task": {"type": "text-generation", "name": "Text Generation"},
        "dataset": {"type": "json", "name": f"{facts['name']} held-out data"},
        "metrics": metrics}]}]


def _hub_datasets(lock: dict) -> list[str]:
    from ftc.compiler import is_hub_id

    data = lock.get("data") or {}
    refs = [data.get(k) for k in ("train", "validation", "test")]
    flat = [r for ref in refs for r in _as_list(ref)]
    return list(dict.fromkeys(r for r in flat if isinstance(r, str) and is_hub_id(r)
                              and not Path(r).suffix))


def _ppl(loss: float) -> float:
    return math.exp(min(loss, 50.0))


def _base_name(base: str) -> str:
    from ftc.compiler import is_hub_id

    return base if is_hub_id(base) else Path(base).name


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _yaml(meta: dict) -> str:
    """Block-style YAML for the front matter."""
    import io

    from ruamel.yaml import YAML

    stream = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.dump(json.loads(json.dumps(meta)), stream)
    return stream.getvalue()
