"""Token lengths with the model's own tokenizer.

The tokenizer is loaded lazily with transformers' AutoTokenizer: a local
directory directly, a hub id only from the local cache (no downloads during a
data check).  When none can be loaded the caller reports why and skips token
checks instead of guessing.  Messages are measured through the tokenizer's chat
template when it has one, since that is the sequence the trainer sees.
"""

from __future__ import annotations

import math
import stat
from collections.abc import Sequence
from pathlib import Path

from ftc.dataprep.formats import COMPLETION, MESSAGES, PREFERENCE
from ftc.dataprep.progress import Progress
from ftc.safe_files import FileProblem, kind_of, stat_path

_BATCH = 512


def load_tokenizer(name_or_path: str | None, base_dir: Path | None = None):
    """(tokenizer, None) or (None, reason it could not be loaded)."""
    if not name_or_path:
        return None, "no tokenizer given"
    local = Path(name_or_path)
    if not local.is_absolute() and base_dir is not None:
        local = base_dir / local
    if not local.is_dir():
        reason = _not_cached(name_or_path)
        if reason:
            return None, reason
    else:
        odd = _special_entry(local)
        if odd:  # transformers would open it and block (a FIFO) or read without end
            return None, f"tokenizer {name_or_path!r} could not be loaded: {odd}"
    try:
        from transformers import AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        if local.is_dir():
            return AutoTokenizer.from_pretrained(str(local), trust_remote_code=False), None
        return AutoTokenizer.from_pretrained(name_or_path, local_files_only=True,
                                             trust_remote_code=False), None
    except Exception as exc:  # any load failure means "no token counts", said plainly
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return None, f"tokenizer {name_or_path!r} could not be loaded: {first[:200]}"


def _special_entry(directory: Path) -> str | None:
    """'NAME is a FIFO ...' for the first entry of a model directory that is not a file or dir."""
    for entry in sorted(directory.iterdir()):
        try:
            mode = stat_path(entry).st_mode
        except FileProblem as exc:
            if exc.missing:
                continue
            return f"{entry.name}: {exc.reason}"
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            return f"{entry.name} is {kind_of(mode)}, not a regular file"
    return None


def use_chat_template(tokenizer, setting: str | None) -> None:
    """Render messages the way the runtime will (model.chat_template), not the default."""
    from ftc.runtime.chat_template import template_for

    text = template_for(setting)
    if text:
        tokenizer.chat_template = text


def _not_cached(name: str) -> str | None:
    """Why a non-directory name cannot give a tokenizer offline (None: it is in the cache)."""
    if name.count("/") != 1 or name.startswith((".", "/")):
        return f"tokenizer {name!r} is not a directory"
    try:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(name, "tokenizer_config.json")
    except Exception:  # an invalid repo id, or no huggingface_hub
        cached = None
    if isinstance(cached, str):
        return None
    return f"tokenizer {name!r} is not a local directory and not in the local hub cache"


def _plain(messages: list[dict]) -> str:
    return "".join(f"{m['role']}: {m['content']}\n" for m in messages)


def _as_messages(item, role: str) -> list[dict]:
    return item if isinstance(item, list) else [{"role": role, "content": item}]


def _sequences(example: dict, fmt: str, chat: bool) -> list:
    """The text(s) whose length bounds the example: one, or two for preference pairs."""
    if fmt == MESSAGES:
        return [example["messages"]]
    if fmt == COMPLETION:
        if chat and isinstance(example["prompt"], list):
            return [example["prompt"] + _as_messages(example["completion"], "assistant")]
        return [str(example["prompt"]) + str(example["completion"])]
    assert fmt == PREFERENCE
    seqs = []
    for key in ("chosen", "rejected"):
        if isinstance(example["prompt"], list) or isinstance(example[key], list):
            seqs.append(_as_messages(example["prompt"], "user")
                        + _as_messages(example[key], "assistant"))
        else:
            seqs.append(example["prompt"] + example[key])
    return seqs


class TemplateBroken(Exception):
    """The chat template does not compile: (template line, message), for every example alike."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line, self.message = line, message


def count_tokens(tokenizer, examples: Sequence[dict],
                 fmt: str) -> tuple[list[int], str, dict[int, str]]:
    """Tokens per example (the longer side of a preference pair), how they were counted, and
    {example index: message} for examples the chat template refuses (raise_exception, a
    missing key).  TemplateBroken when the template itself does not compile."""
    from jinja2 import TemplateError, TemplateSyntaxError

    chat = bool(getattr(tokenizer, "chat_template", None))
    method = "chat template" if chat else "plain text (the tokenizer has no chat template)"
    flat: list[str] = []
    owner: list[int] = []
    refused: dict[int, str] = {}
    for index, example in enumerate(examples):
        try:
            texts = [(tokenizer.apply_chat_template(seq, tokenize=False) if chat
                      else _plain(seq)) if isinstance(seq, list) else seq
                     for seq in _sequences(example, fmt, chat)]
        except TemplateSyntaxError as exc:
            raise TemplateBroken(exc.lineno or 1, exc.message or "syntax error") from None
        except TemplateError as exc:
            refused[index] = (str(exc).strip().splitlines() or ["template error"])[0][:200]
            continue
        flat += texts
        owner += [index] * len(texts)
    counts = [0] * len(examples)
    for start in range(0, len(flat), _BATCH):
        batch = flat[start:start + _BATCH]
        ids = tokenizer(batch, add_special_tokens=not chat)["input_ids"]
        for offset, seq_ids in enumerate(ids):
            i = owner[start + offset]
            counts[i] = max(counts[i], len(seq_ids))
    return counts, method, refused


def percentiles(values: Sequence[int]) -> dict:
    """min/p50/p90/p95/p99/max/mean/total of token counts (nearest-rank percentiles)."""
    if not values:
        return {}
    ordered = sorted(values)

    def rank(q: float) -> int:
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)]

    return {"min": ordered[0], "p50": rank(0.5), "p90": rank(0.9), "p95": rank(0.95),
            "p99": rank(0.99), "max": ordered[-1],
            "mean": round(sum(ordered) / len(ordered), 1), "total": sum(ordered)}


_CHUNK = 1024  # examples per task when counting on several processes


def _count_chunk(task: tuple[int, int]) -> tuple:
    import json

    from ftc.dataprep.procs import state

    tokenizer, blobs, fmt = state()
    start, stop = task
    try:
        examples = [json.loads(b) for b in blobs[start:stop]]
        return ("ok", *count_tokens(tokenizer, examples, fmt))
    except TemplateBroken as exc:  # its two arguments do not survive pickling: sent as a tuple
        return ("broken", exc.line, exc.message)


def count_tokens_of(tokenizer, blobs: Sequence[str], fmt: str,
                    procs: int = 1) -> tuple[list[int], str, dict[int, str]]:
    """`count_tokens` for examples given as JSON texts, on `procs` forked processes.

    `blobs` is any sequence whose slices are lists of JSON texts (a list, or the
    row store's view): each task reads its own chunk, so memory stays bounded
    (one chunk of decoded examples per process).  The rendering through the chat
    template is Python, so processes, not threads.
    """
    import os

    from ftc.dataprep.procs import ordered_map, ranges

    tasks = ranges(len(blobs), _CHUNK)
    # One thread per process: the Rust tokenizer's own thread pool on top of the
    # processes oversubscribes the cores (measured slower even alone on 2 busy cores).
    threads = os.environ.get("TOKENIZERS_PARALLELISM")
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    name = f"tokens ({procs} processes)" if procs > 1 and len(tasks) > 1 else "tokens"
    counts: list[int] = []
    refused: dict[int, str] = {}
    method = "chat template" if getattr(tokenizer, "chat_template", None) else \
        "plain text (the tokenizer has no chat template)"
    try:
        with Progress(name, len(blobs)) as shown:
            results = ordered_map(_count_chunk, tasks, procs, (tokenizer, blobs, fmt))
            for (start, stop), result in zip(tasks, results, strict=True):
                if result[0] == "broken":
                    raise TemplateBroken(result[1], result[2])
                _, chunk_counts, method, chunk_refused = result
                counts += chunk_counts
                refused.update({start + i: m for i, m in chunk_refused.items()})
                shown.advance(stop - start)
    finally:
        if threads is None:
            os.environ.pop("TOKENIZERS_PARALLELISM", None)
        else:
            os.environ["TOKENIZERS_PARALLELISM"] = threads
    return counts, method, refused
