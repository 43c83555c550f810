"""data.length_policy: what happens to examples longer than model.max_seq_length.

`truncate` is TRL's own behaviour (cut at max_length); `drop` removes them
before training, so the model never learns from a cut-off answer. Either way
the count goes into summary.json.
"""

from __future__ import annotations

from ftc.runtime.data_loading import Splits
from ftc.runtime.run_lock import RunLock

CHUNK = 1000


def token_lengths(records: list[dict], fmt: str, tokenizer) -> list[int]:
    """Tokens per example as the trainer will see it (chat template / prompt+completion+eos)."""
    lengths: list[int] = []
    for start in range(0, len(records), CHUNK):
        chunk = records[start:start + CHUNK]
        if fmt == "messages":
            ids = tokenizer.apply_chat_template([r["messages"] for r in chunk], tokenize=True,
                                                return_dict=True)["input_ids"]
            lengths.extend(len(x) for x in ids)
        else:
            texts = [_text(r["prompt"]) + _text(r["completion"]) for r in chunk]
            lengths.extend(len(x) + 1 for x in tokenizer(texts)["input_ids"])
    return lengths


def _text(value) -> str:
    if isinstance(value, str):
        return value
    return "".join(m.get("content", "") for m in value)  # conversational prompt/completion


def apply_length_policy(lock: RunLock, splits: Splits, tokenizer) -> dict[str, int]:
    """Drop over-long examples when the policy says so; counts of those too long per split."""
    limit = int(lock.get("model.max_seq_length") or 0)
    policy = lock.get("data.length_policy", "truncate")
    counts: dict[str, int] = {}
    if not limit:
        return counts
    for split in ("train", "validation", "test"):
        records = getattr(splits, split)
        if not records:
            continue
        lengths = token_lengths(records, splits.format, tokenizer)
        counts[split] = sum(n > limit for n in lengths)
        if policy == "drop" and counts[split]:
            setattr(splits, split, [r for r, n in zip(records, lengths, strict=True) if n <= limit])
    if not splits.train:
        raise lock.fail("model.max_seq_length", "FTC510",
                        f"every training example is longer than model.max_seq_length ({limit} "
                        "tokens) and data.length_policy is drop",
                        "raise model.max_seq_length or set data.length_policy: truncate")
    return counts
