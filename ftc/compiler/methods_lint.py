"""Lint checks for the methods beyond SFT (compiler side: no torch, no transformers).

`check(resolved)` returns the errors and `advise(resolved)` the warnings, each
as (dotted path, message, hint) for ftc.compiler.lint_rules to register under rule ids:

- distill: the student's tokenizer (model.tokenizer or model.base) and the
  teacher's must be the same when both are local directories (logit
  distillation compares next-token distributions token by token);
- adapter: named adapters need distinct names; keys of the other tuner type
  are ignored (warning); a named adapter's data file that is missing (warning,
  like FTC120 for data.train);
- rlhf: the effective batch (completions) must be a multiple of
  num_generations. (A reward model that is not there yet is no warning: a
  reward recipe and the rlhf recipe that uses its runs are compiled together.)
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ftc.safe_files import FileProblem, read_regular

Finding = tuple[str, str, str | None]

# Files that define a tokenizer's vocabulary, in the order they are compared.
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json", "merges.txt", "vocab.txt")
IA3_ONLY = ("target_modules", "feedforward_modules")
MAX_TOKENIZER_BYTES = 1 << 30
LLAMA_ADAPTER_ONLY = ("adapter_len", "adapter_layers")


def check(resolved) -> list[Finding]:
    """Errors for the distill/adapter/rlhf settings of a resolved recipe."""
    kind = resolved.get("method.kind")
    if kind == "distill":
        return list(_tokenizer_mismatch(resolved))
    if kind == "adapter":
        return list(_adapter_names(resolved))
    if kind == "rlhf":
        return list(_grpo_batch(resolved))
    return []


def advise(resolved) -> list[Finding]:
    """Warnings: settings that are ignored, and local files that are not there (yet)."""
    kind = resolved.get("method.kind")
    out: list[Finding] = []
    if kind == "adapter":
        out += _adapter_keys(resolved)
        out += _adapter_files(resolved)
    return out


# ------------------------------------------------------------------ distill


def tokenizer_fingerprint(model_dir: Path) -> dict[str, str] | None:
    """sha256 of the vocabulary-defining content of a local tokenizer (None: none found).

    tokenizer.json is compared on its model (vocabulary and merges) and added tokens,
    so formatting or a changed truncation setting does not count as a difference.
    """
    found = {}
    for name in TOKENIZER_FILES:
        try:
            data = read_regular(model_dir / name, MAX_TOKENIZER_BYTES, name)
        except FileProblem:  # absent, or not a file fit to read: compare the others
            continue
        if name == "tokenizer.json":
            try:
                tree = json.loads(data)
                if isinstance(tree, dict):
                    data = json.dumps({"model": tree.get("model"),
                                       "added_tokens": tree.get("added_tokens")},
                                      sort_keys=True).encode()
            except (ValueError, RecursionError):
                pass
        found[name] = hashlib.sha256(data).hexdigest()
    return found or None


def _tokenizer_mismatch(r):
    teacher = r.get("method.distill.teacher")
    student = r.get("model.tokenizer") or r.get("model.base")
    if not teacher or not student:
        return
    t_dir, s_dir = Path(teacher), Path(student)
    if not (t_dir.is_absolute() and s_dir.is_absolute() and t_dir.is_dir() and s_dir.is_dir()):
        return  # hub ids, or directories not here: the runtime checks the vocabulary
    t_print, s_print = tokenizer_fingerprint(t_dir), tokenizer_fingerprint(s_dir)
    if t_print is None or s_print is None:
        return
    shared = sorted(set(t_print) & set(s_print))
    differs = [n for n in shared if t_print[n] != s_print[n]]
    if differs or not shared:
        what = ", ".join(differs) if differs else "they hold different tokenizer files"
        yield ("method.distill.teacher",
               f"the teacher's tokenizer differs from the student's ({what}): logit "
               "distillation needs the same vocabulary",
               "distill from a teacher of the same model family, or set model.tokenizer to "
               "the teacher's tokenizer if the student was trained with it")


# ------------------------------------------------------------------ adapters


def _adapter_names(r):
    names = [a.get("name") for a in (r.get("method.adapter.adapters") or [])]
    seen = set()
    for name in names:
        if name in seen:
            yield ("method.adapter.adapters", f"two adapters are named {name!r}",
                   "each adapter needs its own name (it selects the adapter at inference)")
        seen.add(name)


def _adapter_keys(r):
    block = r.get("method.adapter") or {}
    kind = block.get("type", "llama-adapter")
    other = LLAMA_ADAPTER_ONLY if kind == "ia3" else IA3_ONLY
    for key in other:
        if key in block and not r.source(f"method.adapter.{key}").startswith(("table:", "rule:")):
            yield (f"method.adapter.{key}", f"method.adapter.{key} does not apply to adapter "
                   f"type {kind} and is ignored", None)


def _adapter_files(r):
    for item in r.get("method.adapter.adapters") or []:
        for key in ("train", "validation"):
            files = item.get(key) or []
            for f in [files] if isinstance(files, str) else files:
                if Path(f).is_absolute() and not Path(f).exists():
                    yield ("method.adapter.adapters",
                           f"adapter {item.get('name')!r}: {key} file not found: {f}",
                           "ftc run stops here; compiling is allowed")


# ------------------------------------------------------------------ rlhf


def _grpo_batch(r):
    n = r.get("method.rlhf.num_generations")
    batch = r.get("training.batch_size")
    if isinstance(n, int) and isinstance(batch, int) and batch % n:
        yield ("training.batch_size",
               f"GRPO samples {n} completions per prompt (num_generations), so the effective "
               f"batch of {batch} completions must be a multiple of {n}",
               f"use training.batch_size {max(n, batch // n * n)}")
