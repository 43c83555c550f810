"""The run's data: the lock's files, checked and loaded as `datasets.Dataset` splits.

The seam with ftc/dataprep (issue 4) is `split_files()`: today it returns the
lock's own train/validation/test files; when `ftc.dataprep.prepare_for_run`
lands, that one call replaces its body (it dedups, cleans and splits, and
returns normalized JSONL files), and everything below stays as it is.

Everything that can be wrong with a file is reported as `file:line:col` before
any model is loaded: missing files, lines that are not JSON, records of the
wrong shape for the method (e.g. preference pairs given to SFT).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftc.diagnostics import ERROR, Diagnostic
from ftc.runtime.run_lock import RunFailure, RunLock

SFT_KINDS = ("full", "lora", "qlora")
SFT_FORMATS = ("messages", "completion")
ROLES = ("system", "user", "assistant", "tool")
MAX_REPORTED = 5  # problems listed per file before stopping


@dataclass
class Splits:
    """Records per split (plain dicts), in the one format the method trains on."""

    format: str
    train: list[dict]
    validation: list[dict] = field(default_factory=list)
    test: list[dict] = field(default_factory=list)
    sources: dict[str, list[str]] = field(default_factory=dict)


def split_files(lock: RunLock) -> dict[str, list[Path]]:
    """The seam: data files per split (train always; validation/test when given)."""
    files: dict[str, list[Path]] = {}
    for split in ("train", "validation", "test"):
        entries = lock.get(f"data.{split}") or []
        if isinstance(entries, str):
            entries = [entries]
        missing = [e for e in entries if not lock.local(e).is_file()]
        if missing:
            raise RunFailure([lock.error(
                f"data.{split}", "FTC502",
                f"data file not found: {missing[0]} (resolved to {lock.local(missing[0])})",
                "check the path in the recipe (relative to the recipe file) and compile again",
            )])
        if entries:
            files[split] = [lock.local(e) for e in entries]
    return files


def load_splits(lock: RunLock) -> Splits:
    """Check and load every split; carve validation/test from train by data.split."""
    kind = lock.get("method.kind")
    if kind not in SFT_KINDS:
        raise lock.fail("method.kind", "FTC506",
                        f"method.kind {kind!r} is not run by this runtime yet",
                        "supported here: full, lora, qlora")
    declared = lock.get("data.format", "auto")
    if declared not in ("auto", *SFT_FORMATS):
        raise lock.fail("data.format", "FTC503",
                        f"data.format is {declared!r}, but method.kind {kind!r} trains on "
                        "'messages' or 'completion' (prompt/completion) examples",
                        "preference pairs (prompt/chosen/rejected) train with method.kind dpo "
                        "or reward; for SFT keep only the chosen answer as the completion")
    files = split_files(lock)
    records = {split: _read_all(paths) for split, paths in files.items()}
    fmt = declared if declared != "auto" else _detect(records["train"], files["train"][0])
    for rows in records.values():
        _check(rows, fmt, kind)
    system = lock.get("data.system_prompt")
    plain = {split: [_normalise(rec, fmt, system) for _, _, rec in rows]
             for split, rows in records.items()}
    splits = Splits(format=fmt, train=plain["train"],
                    validation=plain.get("validation", []), test=plain.get("test", []),
                    sources={k: [str(p) for p in v] for k, v in files.items()})
    if "validation" not in files and "test" not in files:
        _carve(splits, lock.get("data.split") or {}, int(lock.get("training.seed", 0)))
    if not splits.train:
        raise lock.fail("data.train", "FTC503", "no training examples left after the split",
                        "give more data or a larger data.split.train")
    return splits


def to_dataset(records: list[dict]):
    """A datasets.Dataset of the records (None for an empty split)."""
    if not records:
        return None
    from datasets import Dataset

    return Dataset.from_list(records)


# ------------------------------------------------------------------ reading


Row = tuple[Path, int, Any]  # file, line (1-based; row number for tables), record


def _read_all(paths: list[Path]) -> list[Row]:
    rows: list[Row] = []
    for path in paths:
        rows.extend(_read(path))
    return rows


def _read(path: Path) -> list[Row]:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return _read_jsonl(path)
    if suffix == ".json":
        return _read_json(path)
    if suffix in (".csv", ".parquet"):
        return _read_table(path, suffix[1:])
    raise RunFailure([_diag(path, 1, f"unsupported data file type {suffix or '(none)'!r}",
                            "use JSONL, JSON, CSV or Parquet")])


def _read_jsonl(path: Path) -> list[Row]:
    rows, problems = [], []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rows.append((path, number, json.loads(line)))
            except ValueError as exc:
                problems.append(_diag(path, number, f"not a JSON object: {exc}"))
                if len(problems) >= MAX_REPORTED:
                    break
    if problems:
        raise RunFailure(problems)
    return rows


def _read_json(path: Path) -> list[Row]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        line = getattr(exc, "lineno", 1)
        raise RunFailure([_diag(path, line, f"not valid JSON: {exc}")]) from None
    if not isinstance(data, list):
        raise RunFailure([_diag(path, 1, "a JSON data file must hold a list of records")])
    return [(path, i + 1, rec) for i, rec in enumerate(data)]


def _read_table(path: Path, kind: str) -> list[Row]:
    from datasets import load_dataset

    table = load_dataset(kind, data_files=str(path), split="train")
    out = []
    for i, rec in enumerate(table):
        for key in ("messages", "prompt", "completion"):
            if isinstance(rec.get(key), str) and rec[key].lstrip().startswith("["):
                try:
                    rec[key] = json.loads(rec[key])  # chat lists stored as JSON text in CSV
                except ValueError:
                    pass
        out.append((path, i + 2 if kind == "csv" else i + 1, rec))
    return out


# ------------------------------------------------------------------ checking


def _detect(rows: list[Row], path: Path) -> str:
    if not rows:
        raise RunFailure([_diag(path, 1, "the training file holds no examples")])
    first = rows[0][2]
    if isinstance(first, dict) and "messages" in first:
        return "messages"
    if isinstance(first, dict) and "prompt" in first and "completion" in first:
        return "completion"
    file, line, _ = rows[0]
    keys = sorted(first) if isinstance(first, dict) else type(first).__name__
    raise RunFailure([_diag(file, line, f"cannot tell the data format from this record ({keys})",
                            "SFT takes {'messages': [...]} or {'prompt': ..., 'completion': ...}")])


def _check(rows: list[Row], fmt: str, kind: str) -> None:
    problems = []
    for file, line, rec in rows:
        message = _problem(rec, fmt, kind)
        if message:
            problems.append(_diag(file, line, message[0], message[1]))
            if len(problems) >= MAX_REPORTED:
                break
    if problems:
        raise RunFailure(problems)


def _problem(rec: Any, fmt: str, kind: str) -> tuple[str, str | None] | None:
    if not isinstance(rec, dict):
        return f"a record must be a JSON object, got {type(rec).__name__}", None
    if {"chosen", "rejected"} <= set(rec):
        return (f"this is a preference pair (chosen/rejected), but method.kind {kind!r} "
                f"trains on {fmt} examples",
                "use method.kind dpo or reward for preference data, or convert it to "
                "prompt/completion with the chosen answer")
    if fmt == "messages":
        msgs = rec.get("messages")
        if not isinstance(msgs, list) or not msgs:
            return "record has no 'messages' list (data.format is messages)", None
        for i, m in enumerate(msgs):
            if not isinstance(m, dict) or not isinstance(m.get("content"), str):
                return f"messages[{i}] needs a string 'content'", None
            if m.get("role") not in ROLES:
                return (f"messages[{i}] has role {m.get('role')!r}",
                        f"roles are {', '.join(ROLES)}")
        if not any(m["role"] == "assistant" for m in msgs):
            return ("no assistant message: nothing to train on (the loss covers only the "
                    "assistant's turns)"), None
        return None
    prompt, completion = rec.get("prompt"), rec.get("completion")
    if prompt is None or completion is None:
        return "record needs 'prompt' and 'completion' (data.format is completion)", None
    if not completion:
        return "empty 'completion': nothing to train on", None
    return None


def _diag(path: Path, line: int, message: str, hint: str | None = None) -> Diagnostic:
    return Diagnostic(str(path), line, 1, ERROR, "FTC503", message, hint)


# ------------------------------------------------------------------ shaping


def _normalise(rec: dict, fmt: str, system: str | None) -> dict:
    """Only the columns the trainer reads; the system prompt where one is missing."""
    if fmt == "messages":
        msgs = [{"role": m["role"], "content": m["content"]} for m in rec["messages"]]
        if system and msgs[0]["role"] != "system":
            msgs.insert(0, {"role": "system", "content": system})
        return {"messages": msgs}
    return {"prompt": rec["prompt"], "completion": rec["completion"]}


def _carve(splits: Splits, fractions: dict, seed: int) -> None:
    """Deterministic validation/test carve-out from train (same seed, same split)."""
    n = len(splits.train)
    val_n = int(round(n * float(fractions.get("validation", 0) or 0)))
    test_n = int(round(n * float(fractions.get("test", 0) or 0)))
    if not val_n and not test_n:
        return
    order = list(range(n))
    random.Random(seed).shuffle(order)
    pick = [splits.train[i] for i in order]
    train_n = fractions.get("train")
    end = n if train_n is None else min(n, val_n + test_n + int(round(n * float(train_n))))
    splits.validation = pick[:val_n]
    splits.test = pick[val_n:val_n + test_n]
    splits.train = pick[val_n + test_n:end]
