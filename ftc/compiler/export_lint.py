"""Lint checks for the `export:` block (compiler side: no torch, no transformers).

Each returns (dotted path, message, hint) findings for ftc.compiler.lint_rules:

- merge_blockers (error): a merged model, GGUF or ONNX needs the adapter folded
  into the base; prefix tuning and LLaMA-Adapter add virtual tokens instead of
  changing weights, several named adapters make several models, and a reward
  model is a classifier, not a text generator;
- needless_merge (warning): merging asked for a run that trains every weight;
- gguf_architecture (error): GGUF asked for a local base whose config.json names
  an architecture ftc's GGUF writer does not cover (a hub base is checked when
  the run exports).
"""

from __future__ import annotations

import json
from pathlib import Path

from ftc.tables import load_table

Finding = tuple[str, str, str | None]
STANDALONE = ("merged", "gguf", "onnx")


def wants(r, what: tuple[str, ...] = STANDALONE) -> list[str]:
    """Which of `what` the export block asks for (merge_adapters counts as merged)."""
    formats = list(r.get("export.formats") or [])
    if r.get("export.merge_adapters"):
        formats.append("merged")
    return [f for f in what if f in formats]


def merge_blockers(r) -> list[Finding]:
    asked = wants(r)
    if not asked:
        return []
    kind = r.get("method.kind")
    why = None
    if kind == "prefix":
        why = "prefix tuning adds learned key/value prefixes at run time"
    elif kind == "adapter" and r.get("method.adapter.type", "llama-adapter") != "ia3":
        why = "LLaMA-Adapter adds learned adaption prompts at run time"
    elif kind == "reward":
        return [("export.formats" if r.get("export.formats") else "export.merge_adapters",
                 f"{', '.join(asked)} write text-generation models, and a reward model is a "
                 "sequence classifier", "remove them; the run's model/ holds the merged "
                 "reward model that rlhf loads")]
    elif kind == "adapter" and len(r.get("method.adapter.adapters") or []) > 1:
        return [("export.formats", f"{', '.join(asked)} need one model, but this run trains "
                 f"{len(r.get('method.adapter.adapters'))} named adapters",
                 "export one adapter after the run: ftc export RUN_DIR/adapters/NAME --merge")]
    if why is None:
        return []
    return [("export.formats" if r.get("export.formats") else "export.merge_adapters",
             f"{', '.join(asked)} need the adapter merged into the base, and {why} instead "
             "of changing the base's weights: there is nothing to merge",
             "remove them from export (the adapter is saved either way), or train "
             "method.kind: lora")]


def needless_merge(r) -> list[Finding]:
    if "merged" not in wants(r, ("merged",)):
        return []
    kind = r.get("method.kind")
    full = kind == "full" or (kind in ("distill", "dpo", "reward", "rlhf")
                              and r.get("method.tuning") == "full")
    if not full:
        return []
    return [("export.merge_adapters" if r.get("export.merge_adapters") else "export.formats",
             "nothing to merge: this run trains every weight, so model/ is already a "
             "standalone model", "drop merge_adapters/merged; gguf and onnx export model/ "
             "directly")]


def gguf_architecture(r) -> list[Finding]:
    if not wants(r, ("gguf",)):
        return []
    base = r.get("model.base")
    config = Path(base) / "config.json" if base and Path(base).is_absolute() else None
    if config is None or not config.is_file():
        return []
    try:
        names = json.loads(config.read_text(encoding="utf-8")).get("architectures") or []
    except (OSError, ValueError, AttributeError):
        return []
    supported = load_table("export")["gguf_architectures"]
    if not names or any(n in supported for n in names):
        return []
    return [("export.formats", f"GGUF export does not support the base's architecture "
             f"{', '.join(names)}", f"supported: {', '.join(sorted(supported))}; export onnx "
             "or merged and convert with llama.cpp's convert_hf_to_gguf.py")]
