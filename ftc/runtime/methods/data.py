"""The data each method trains on, from the files ftc.dataprep prepared for the run.

The runtime prepares the lock's data once (ftc.runtime.data_loading.prepare:
format checks with file:line, dedup, length policy, split); this module reads
the prepared files in the shape each method needs:

- prefix, adapter, distill: supervised examples (messages or prompt/completion),
  exactly as SFT reads them (the interface's default).
- dpo, reward: preference pairs (prompt/chosen/rejected); any other format is refused.
- rlhf: prompts only. Any format gives them: a messages example up to its last
  assistant turn, the prompt of a completion or preference example.

Named adapters (method.adapter.adapters) each prepare their own files the same
way, through a view of the lock whose data section is the adapter's.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from ftc.runtime.data_loading import Splits
from ftc.runtime.run_lock import RunLock


def preference_splits(lock: RunLock, prepared) -> Splits:
    """Preference pairs (prompt/chosen/rejected) for dpo and reward; any other format refused."""
    if prepared.format != "preference":
        raise lock.fail("data.format", "FTC503",
                        f"method.kind {lock.get('method.kind')} trains on preference pairs, but "
                        f"the data is in {prepared.format!r} format",
                        "each example needs 'prompt', 'chosen' and 'rejected'")
    return _splits(prepared, "preference", lambda r: {
        "prompt": r["prompt"], "chosen": r["chosen"], "rejected": r["rejected"]})


def prompt_splits(prepared) -> Splits:
    """Prompts only (rlhf), from any format: see prompt_of."""
    return _splits(prepared, "prompt", lambda r: {"prompt": prompt_of(r)})


def prompt_of(record) -> str | list | None:
    """A record's prompt: 'prompt' (text or messages), or messages before the last answer."""
    if not isinstance(record, dict):
        return None
    if isinstance(record.get("messages"), list):
        msgs = _messages(record["messages"])
        while msgs and msgs[-1]["role"] == "assistant":
            msgs.pop()
        return msgs if msgs and msgs[-1]["role"] == "user" else None
    prompt = record.get("prompt")
    if isinstance(prompt, str) and prompt.strip():
        return prompt
    if isinstance(prompt, list):
        msgs = _messages(prompt)
        return msgs if msgs and msgs[-1]["role"] == "user" else None
    return None


def _messages(items: list) -> list[dict] | None:
    """role/content messages, or None when any item is not a chat message."""
    msgs = []
    for m in items:
        if not (isinstance(m, dict) and m.get("role") in ("system", "user", "assistant")
                and isinstance(m.get("content"), str)):
            return None
        msgs.append({"role": m["role"], "content": m["content"]})
    return msgs


def adapter_view(lock: RunLock, item: dict) -> RunLock:
    """The lock with one named adapter's train (and validation) files as its data."""
    values = copy.deepcopy(lock.values)
    data = values["data"]
    data["train"] = _as_list(item["train"])
    data.pop("test", None)
    if item.get("validation"):
        data["validation"] = _as_list(item["validation"])
        data.pop("split", None)
    else:
        data.pop("validation", None)
        held_out = float((data.get("split") or {}).get("validation", 0.1)) or 0.1
        data["split"] = {"train": 1.0 - held_out, "validation": held_out, "test": 0.0}
    return RunLock(path=lock.path, values=values, positions=lock.positions)


def adapter_splits(lock: RunLock, item: dict, staging: Path) -> Splits:
    """Prepare and load one named adapter's data (its files checked like data.train)."""
    from ftc.runtime.data_loading import load_prepared, prepare

    check_adapter_files(lock)
    view = adapter_view(lock, item)
    return load_prepared(view, prepare(view, staging / item["name"]))


def check_adapter_files(lock: RunLock) -> None:
    """Every named adapter's files exist (reported at the adapters' line in the lock)."""
    for i, item in enumerate(lock.get("method.adapter.adapters") or []):
        for key in ("train", "validation"):
            for f in _as_list(item.get(key) or []):
                if not lock.local(f).is_file():
                    raise lock.fail(
                        "method.adapter.adapters", "FTC502",
                        f"adapter {item.get('name', i)!r}: {key} file not found: {f} "
                        f"(resolved to {lock.local(f)})",
                        "check the path in the recipe (relative to the recipe file)")


def _splits(prepared, fmt: str, shape) -> Splits:
    return Splits(format=fmt,
                  train=[shape(r) for r in _read_jsonl(prepared.train)],
                  validation=[shape(r) for r in _read_jsonl(prepared.validation)],
                  test=[shape(r) for r in _read_jsonl(prepared.test)],
                  report=prepared.report, warnings=list(prepared.diagnostics))


def _read_jsonl(path: Path | None) -> list[dict]:
    if path is None or not Path(path).is_file():
        return []
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _as_list(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)
