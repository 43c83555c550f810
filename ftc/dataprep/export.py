"""`ftc data export`: chat fine-tuning JSONL for OpenAI and Azure OpenAI.

Input goes through the same checks as `ftc data check`; any error stops the
export before a byte is written.  Then each example becomes the provider's
format (completion data becomes a user/assistant pair; preference data
becomes the providers' preference (DPO) format) and the provider's rules are
checked: example count, tokens per example, file size.

Token counts are estimates: the providers' own tokenizers are not available
offline, so ftc counts with the tokenizer given by --model, or at about four
characters per token, and adds the per-message overhead that OpenAI's
cookbook documents (3 tokens per message, 3 to prime the reply).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ftc.dataprep import formats, tokens
from ftc.dataprep.check import check_files
from ftc.dataprep.rules import problem
from ftc.dataprep.settings import DataSettings
from ftc.diagnostics import Diagnostic


@dataclass(frozen=True)
class ProviderRules:
    name: str
    min_examples: int
    recommended_examples: int
    max_tokens_per_example: int
    max_file_bytes: int
    bom: bool  # write a UTF-8 byte-order mark


# As the providers document them for their current chat models; --max-tokens
# overrides the per-example limit for models with a smaller context.
PROVIDERS = {
    "openai": ProviderRules("OpenAI", 10, 50, 65_536, 512 * 2**20, bom=False),
    "azure-openai": ProviderRules("Azure OpenAI", 10, 50, 65_536, 512 * 2**20, bom=True),
}
TOKENS_PER_MESSAGE = 3
REPLY_PRIMING = 3
CHARS_PER_TOKEN = 4


@dataclass
class ExportResult:
    diagnostics: list[Diagnostic]
    summary: dict
    written: bool


def to_provider(example: dict, fmt: str) -> dict:
    """One normalized example in the providers' chat (or preference) format."""
    if fmt == formats.MESSAGES:
        return {"messages": example["messages"]}
    if fmt == formats.COMPLETION:
        prompt = example["prompt"]
        messages = (prompt if isinstance(prompt, list)
                    else [{"role": "user", "content": prompt}] if prompt.strip() else [])
        return {"messages": [*messages, {"role": "assistant", "content": example["completion"]}]}

    def side(item, role: str) -> list[dict]:
        return item if isinstance(item, list) else [{"role": role, "content": item}]

    return {"input": {"messages": side(example["prompt"], "user")},
            "preferred_output": side(example["chosen"], "assistant"),
            "non_preferred_output": side(example["rejected"], "assistant")}


def _messages_of(record: dict) -> list[list[dict]]:
    if "messages" in record:
        return [record["messages"]]
    prompt = record["input"]["messages"]
    return [prompt + record["preferred_output"], prompt + record["non_preferred_output"]]


def _count(records: list[dict], tokenizer) -> tuple[list[int], str]:
    conversations = [_messages_of(r) for r in records]
    texts = [m["content"] for convs in conversations for conv in convs for m in conv]
    if tokenizer is not None:
        lengths = []
        for start in range(0, len(texts), 512):
            ids = tokenizer(texts[start:start + 512], add_special_tokens=False)["input_ids"]
            lengths += [len(x) for x in ids]
        method = "estimate: --model tokenizer + OpenAI's per-message overhead"
    else:
        lengths = [math.ceil(len(t) / CHARS_PER_TOKEN) for t in texts]
        method = (f"estimate: ~{CHARS_PER_TOKEN} characters per token + per-message overhead "
                  "(pass --model for a real tokenizer)")
    it = iter(lengths)
    counts = []
    for convs in conversations:
        counts.append(max(sum(next(it) + TOKENS_PER_MESSAGE for _ in conv) + REPLY_PRIMING
                          for conv in convs))
    return counts, method


def export_for_provider(files: Sequence[str], provider: str, out: Path, *, epochs: int = 3,
                        model: str | None = None, max_tokens: int | None = None,
                        fmt: str = "auto") -> ExportResult:
    """Check `files`, convert them for `provider` and write `out` (only when no errors)."""
    rules = PROVIDERS[provider]
    limit = max_tokens or rules.max_tokens_per_example
    settings = DataSettings(format=fmt, tokenizer=None, split=None)
    checked = check_files(files, settings)
    diags = list(checked.diagnostics)
    examples = checked.splits.get("train", [])
    summary: dict = {"provider": provider, "examples": len(examples), "format": checked.format,
                     "epochs": epochs}
    if any(d.is_error for d in diags) or not examples:
        return ExportResult(diags, summary, False)
    records = [to_provider(ex.data, checked.format) for ex in examples]
    tok = None
    if model:
        tok, reason = tokens.load_tokenizer(model)
        if tok is None:
            diags.append(problem("FTC341", model, 1, f"{reason}; token counts are estimated"))
    counts, method = _count(records, tok)
    lines = [json.dumps(r, ensure_ascii=False) + "\n" for r in records]
    size = sum(len(line.encode("utf-8")) for line in lines) + (3 if rules.bom else 0)
    first = examples[0]
    if len(records) < rules.min_examples:
        diags.append(problem("FTC360", first.path, 1,
                             f"{rules.name} needs at least {rules.min_examples} examples, "
                             f"got {len(records)}"))
    elif len(records) < rules.recommended_examples:
        diags.append(problem("FTC361", first.path, 1,
                             f"{len(records)} examples; {rules.name} recommends starting with "
                             f"{rules.recommended_examples}-100"))
    for ex, n in zip(examples, counts, strict=True):
        if n > limit:
            diags.append(problem("FTC360", ex.path, ex.line,
                                 f"about {n:,} tokens, over {rules.name}'s {limit:,} "
                                 "tokens per example"))
    if size > rules.max_file_bytes:
        diags.append(problem("FTC360", first.path, 1,
                             f"output would be {size / 2**20:.0f} MiB, over {rules.name}'s "
                             f"{rules.max_file_bytes >> 20} MiB file limit",
                             hint="split the data into several files"))
    total = sum(counts)
    summary.update({"tokens": tokens.percentiles(counts), "token_count_method": method,
                    "max_tokens_per_example": limit, "billed_tokens": total * epochs,
                    "bytes": size})
    if any(d.is_error for d in diags):
        return ExportResult(diags, summary, False)
    _write_atomic(out, lines, rules.bom)
    summary["output"] = str(out)
    return ExportResult(diags, summary, True)


def _write_atomic(out: Path, lines: list[str], bom: bool) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        os.chmod(tmp, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8-sig" if bom else "utf-8", newline="\n") as fh:
            fh.writelines(lines)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
