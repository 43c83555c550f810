"""Resolve rules for a provider backend: what a hosted fine-tuning job needs, and nothing else.

A provider job has no GPUs, precision, LoRA rank or batch split to choose, so
the local rules (ftc.compiler.resolve.RULES) do not run; these do:

- backend.hyperparameters: each key the recipe sets, else the matching
  training/method value the recipe sets (so one recipe serves both backends:
  training.epochs -> epochs, training.batch_size -> batch_size,
  method.dpo.beta -> beta), else `auto` (the provider chooses);
- backend.suffix from the recipe name; training.seed from the table (the job's
  seed, so that a relaunch asks for the same run);
- data: file lists, the format (the provider's own preference layout counts as
  preference), a train/validation split when no validation file is given;
- paths: data files and output_dir absolute; model.base is a provider model
  name, never a path.
"""

from __future__ import annotations

import json
from pathlib import Path

from ftc.compiler.resolve import (
    Resolved,
    _abs,
    _t,
    data_ref,
    detect_format,
    rule_top,
)
from ftc.source_spec import entry_path, with_path

INHERITED = {
    "epochs": "training.epochs",
    "batch_size": "training.batch_size",
    "learning_rate_multiplier": None,
    "beta": "method.dpo.beta",
}
NATIVE_PREFERENCE = ("input", "preferred_output", "non_preferred_output")


def rule_hyperparameters(r: Resolved, t: dict) -> None:
    dpo = r.get("method.kind") == "dpo"
    for key, source in INHERITED.items():
        path = f"backend.hyperparameters.{key}"
        if r.has(path) or (key == "beta" and not dpo):
            continue  # a beta on a supervised job stays as written; lint warns
        if source and r.user_set(source):
            r.set(path, r.get(source), f"rule:from-{source}")
        else:
            r.set(path, _t(t, "provider", "hyperparameters"), "table:provider")


def rule_job(r: Resolved, t: dict) -> None:
    r.default("backend.suffix", r.get("name"), "rule:suffix-from-name")
    r.default("training.seed", _t(t, "training", "seed"), "table:training")


def rule_data(r: Resolved, t: dict) -> None:
    for key in ("train", "validation", "test"):
        value = r.get(f"data.{key}")
        if isinstance(value, str):
            r.set(f"data.{key}", [value], r.source(f"data.{key}"))
    r.default("data.format", "auto", "table:data")
    if r.get("data.format") == "auto":
        detected = detect_format(r.get("data.train"), r.base_dirs.get("data.train"))
        if detected is None and _first_record_is_native_preference(r):
            detected = "preference"
        if detected:
            r.set("data.format", detected, "rule:format-detected")
    if not r.has("data.validation"):
        for key, value in t["provider"]["split"].items():
            r.default(f"data.split.{key}", value, "table:provider")


def _first_record_is_native_preference(r: Resolved) -> bool:
    files, base = r.get("data.train"), r.base_dirs.get("data.train")
    if not files or base is None or not isinstance(files[0], str):
        return False
    try:
        with open(base / files[0], encoding="utf-8-sig") as fh:
            for line in fh:
                if line.strip():
                    record = json.loads(line)
                    return isinstance(record, dict) and set(NATIVE_PREFERENCE) <= set(record)
    except (OSError, ValueError):
        return False
    return False


def rule_paths(r: Resolved, t: dict) -> None:
    """Data files and output_dir absolute (relative to the file that named them)."""
    for path in ("data.train", "data.validation", "data.test", "output_dir"):
        value = r.get(path)
        if value is None:
            continue
        base = r.base_dirs.get(path, r.recipe_dir or Path.cwd())
        new = [with_path(v, data_ref(base, entry_path(v))) for v in value] \
            if path.startswith("data.") else _abs(base, value)
        if new != value:
            r.set(path, new, r.source(path))


PROVIDER_RULES = [rule_top, rule_hyperparameters, rule_job, rule_data, rule_paths]
