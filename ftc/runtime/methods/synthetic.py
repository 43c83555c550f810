"""The distill `generate` step: the teacher answers a prompt file, making synthetic SFT data.

method.distill.generate names prompt files (messages or completion examples,
or bare {"prompt": ...}; any answers in them are ignored) and an output JSONL.
The teacher completes every prompt (greedy at temperature 0, else sampled with
training.seed) and the output holds ordinary SFT examples: messages for chat
prompts, prompt/completion for text prompts. The output is written whole
(temporary file, then renamed), with a provenance file beside it
(<output>.ftc.json: synthetic, teacher, prompt files and their sha256,
settings); a later run with the same teacher, prompts and settings reuses the
output instead of generating again.

The generated file joins data.train (`with_synthetic`), and the run's data
report marks it `"synthetic": true` with its provenance (`mark_synthetic`).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from ftc.diagnostics import ERROR, Diagnostic
from ftc.runtime.methods.data import prompt_of
from ftc.runtime.run_lock import RunFailure, RunLock

KEY = "method.distill.generate"
PROVENANCE_SUFFIX = ".ftc.json"
DEFAULT_MAX_NEW_TOKENS = 256
BATCH = 16


@dataclass
class Generated:
    path: Path
    rows: int
    reused: bool
    provenance: dict


def output_path(lock: RunLock) -> Path:
    """Where the synthetic data goes: generate.output, else <output_dir>/<name>/synthetic.jsonl."""
    out = lock.get(f"{KEY}.output")
    if out:
        return lock.local(out)
    return lock.local(lock.get("output_dir", "runs")) / lock.name / "synthetic.jsonl"


def settings(lock: RunLock) -> dict:
    block = lock.get(KEY) or {}
    return {"max_new_tokens": int(block.get("max_new_tokens", DEFAULT_MAX_NEW_TOKENS)),
            "temperature": float(block.get("temperature", 0.0)),
            "seed": int(lock.get("training.seed", 42))}


def read_prompts(lock: RunLock) -> tuple[list, list[dict]]:
    """(prompts, [{path, sha256, rows}]) from the prompt files; problems as file:line."""
    files = lock.get(f"{KEY}.prompts") or []
    files = [files] if isinstance(files, str) else list(files)
    if not files:
        raise lock.fail(KEY, "FTC514", "method.distill.generate needs prompts: a file of prompts",
                        "set method.distill.generate.prompts to a JSONL file")
    prompts, sources, problems = [], [], []
    for name in files:
        path = lock.local(name)
        if not path.is_file():
            raise lock.fail(f"{KEY}.prompts", "FTC502",
                            f"prompt file not found: {name} (resolved to {path})",
                            "check the path in the recipe (relative to the recipe file)")
        data = path.read_bytes()
        count = 0
        for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
            if not line.strip():
                continue
            try:
                prompt = prompt_of(json.loads(line))
            except ValueError as exc:
                problems.append(_problem(path, number, f"not a JSON prompt record: {exc}"))
                continue
            if prompt is None:
                problems.append(_problem(path, number, "no prompt in this record",
                                         "use {'prompt': ...} or {'messages': [...]}"))
                continue
            prompts.append(prompt)
            count += 1
        sources.append({"path": name, "sha256": hashlib.sha256(data).hexdigest(), "rows": count})
    if problems:
        raise RunFailure(problems[:20])
    if not prompts:
        raise lock.fail(f"{KEY}.prompts", "FTC514", "the prompt files hold no prompts", None)
    return prompts, sources


def generate_synthetic(lock: RunLock, teacher=None, tokenizer=None) -> Generated:
    """Write (or reuse) the teacher's completions for the prompt files."""
    prompts, sources = read_prompts(lock)
    out = output_path(lock)
    provenance = {"synthetic": True, "generator": "teacher",
                  "teacher": lock.get("method.distill.teacher"),
                  "teacher_revision": lock.get("method.distill.teacher_revision"),
                  "prompts": sources, "settings": settings(lock)}
    previous = read_provenance(out)
    if previous and {k: previous.get(k) for k in provenance} == provenance \
            and previous.get("sha256") == _sha256(out):
        return Generated(out, previous["rows"], True, previous)
    if teacher is None or tokenizer is None:
        teacher, tokenizer = load_teacher_and_tokenizer(lock)
    completions = complete(teacher, tokenizer, prompts, **provenance["settings"])
    rows = [{"messages": [*p, {"role": "assistant", "content": c}]} if isinstance(p, list)
            else {"prompt": p, "completion": c}
            for p, c in zip(prompts, completions, strict=True)]
    _write_atomic(out, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    provenance.update(rows=len(rows), sha256=_sha256(out), output=str(out.name))
    _write_atomic(Path(str(out) + PROVENANCE_SUFFIX),
                  json.dumps(provenance, indent=2, sort_keys=True) + "\n")
    return Generated(out, len(rows), False, provenance)


def complete(model, tokenizer, prompts: list, max_new_tokens: int, temperature: float,
             seed: int) -> list[str]:
    """The model's completion of each prompt (chat prompts through the chat template)."""
    import torch

    torch.manual_seed(seed)
    side, tokenizer.padding_side = tokenizer.padding_side, "left"
    texts = [tokenizer.apply_chat_template(p, add_generation_prompt=True, tokenize=False)
             if isinstance(p, list) else p for p in prompts]
    sample = {"do_sample": True, "temperature": temperature, "top_k": 0} if temperature > 0 \
        else {"do_sample": False}
    out: list[str] = []
    try:
        for start in range(0, len(texts), BATCH):
            # a chat template writes its own special tokens; a text prompt gets the usual ones
            enc = tokenizer(texts[start:start + BATCH], return_tensors="pt", padding=True,
                            add_special_tokens=not isinstance(prompts[start], list)
                            ).to(model.device)
            with torch.no_grad():
                ids = model.generate(**enc, max_new_tokens=max_new_tokens,
                                     pad_token_id=tokenizer.pad_token_id, **sample)
            out += [t.strip() for t in tokenizer.batch_decode(ids[:, enc["input_ids"].shape[1]:],
                                                              skip_special_tokens=True)]
    finally:
        tokenizer.padding_side = side
    return out


def load_teacher_and_tokenizer(lock: RunLock):
    """The teacher for generation: spread over this machine's GPUs when it has any.

    Generation runs on the main process before any training model is loaded, so
    the teacher may use every GPU of the node (big-model inference, device_map auto).
    """
    import torch
    from transformers import AutoTokenizer

    from ftc.runtime.methods.teacher import load_teacher
    from ftc.runtime.model_loading import model_ref

    tokenizer = AutoTokenizer.from_pretrained(model_ref(lock, "method.distill.teacher"))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    placement = {"device_map": "auto"} if torch.cuda.is_available() else {}
    return load_teacher(lock, None, **placement), tokenizer


def with_synthetic(lock: RunLock, generated: Generated) -> RunLock:
    """The lock with the synthetic file added to data.train (relative to the lock)."""
    values = copy.deepcopy(lock.values)
    train = values["data"].get("train") or []
    train = [train] if isinstance(train, str) else list(train)
    values["data"]["train"] = [*train, os.path.relpath(generated.path, lock.dir)]
    return RunLock(path=lock.path, values=values, positions=lock.positions)


def mark_synthetic(report: dict, generated: Generated) -> dict:
    """The data report with the synthetic input marked as such (with its provenance)."""
    for entry in report.get("inputs") or []:
        if Path(entry.get("path", "")).name == generated.path.name and \
                entry.get("sha256") in (None, generated.provenance.get("sha256")):
            entry["synthetic"] = True
            entry["generator"] = {k: generated.provenance.get(k) for k in
                                  ("generator", "teacher", "teacher_revision", "settings",
                                   "prompts")}
    report["synthetic_rows"] = generated.rows
    return report


def synthetic_for_run(lock: RunLock) -> tuple[RunLock, Generated | None]:
    """(the lock to prepare data from, what was generated): a no-op without a generate block."""
    if lock.get("method.kind") != "distill" or not lock.get(KEY):
        return lock, None
    generated = generate_synthetic(lock)
    return with_synthetic(lock, generated), generated


def read_provenance(out: Path) -> dict | None:
    try:
        return json.loads(Path(str(out) + PROVENANCE_SUFFIX).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _problem(path: Path, line: int, message: str, hint: str | None = None) -> Diagnostic:
    return Diagnostic(str(path), line, 1, ERROR, "FTC514", message, hint)
