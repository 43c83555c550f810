"""Records in the run's format as evaluation examples: a prompt and what should come back.

messages:   the conversation up to its last assistant turn -> that turn is the reference
completion: prompt -> completion
preference: prompt -> chosen (the reference), with rejected for pairwise metrics
prompt:     (rlhf) a prompt without a reference

The subset evaluated is fixed by the seed (the same examples at every evaluation,
base and tuned alike), and the first `samples` of it are the sample generations
people read.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass


@dataclass
class Example:
    """prompt: text or chat messages (ending with the user's turn); reference: text or None."""

    prompt: str | list[dict]
    reference: str | None = None
    rejected: str | None = None
    index: int = 0


def answer_text(value) -> str | None:
    """A completion as text: a string, or the content of a list of assistant messages."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = [m.get("content", "") for m in value if isinstance(m, dict)]
        return "\n".join(p for p in parts if isinstance(p, str))
    return None


def to_example(record: dict, index: int = 0) -> Example | None:
    """One record (any format the runtime trains on) as an Example, None if it has no prompt."""
    if isinstance(record.get("messages"), list):
        messages = list(record["messages"])
        reference = None
        if messages and messages[-1].get("role") == "assistant":
            reference = messages.pop().get("content")
        if not messages or messages[-1].get("role") != "user":
            return None
        return Example(messages, reference, index=index)
    prompt = record.get("prompt")
    if not isinstance(prompt, (str, list)) or not prompt:
        return None
    if "chosen" in record:
        return Example(prompt, answer_text(record.get("chosen")),
                       answer_text(record.get("rejected")), index=index)
    return Example(prompt, answer_text(record.get("completion")), index=index)


def examples_of(records: list[dict], limit: int, seed: int) -> list[Example]:
    """At most `limit` examples, chosen by `seed` (stable across evaluations and reruns)."""
    order = list(range(len(records)))
    if len(order) > limit:
        random.Random(seed).shuffle(order)
        order = sorted(order[:limit])
    out = []
    for i in order:
        example = to_example(records[i], i)
        if example is not None:
            out.append(example)
    return out


def label_of(text: str | None, pattern: str | None) -> str:
    """The class label in an answer: the pattern's group (or match), else the whole answer;
    normalised (case, spaces, trailing punctuation) so 'Billing.' and 'billing' agree."""
    if text is None:
        return ""
    if pattern:
        found = re.search(pattern, text, flags=re.MULTILINE)
        if not found:
            return ""
        text = found.group(1) if found.groups() else found.group(0)
    return normalize(text)


def normalize(text: str) -> str:
    text = re.sub(r"\s+", " ", text.strip().lower())
    return text.strip(" .,;:!?\"'")


def detect_task(data_format: str, records: list[dict], label_pattern: str | None,
                max_labels: int) -> tuple[str, str]:
    """(task, why) for `auto`: preference pairs; classification when the reference answers
    take few distinct values; else chat (messages) or generation (completion, prompts)."""
    if data_format == "preference":
        return "preference", "detected: preference pairs"
    refs = [e.reference for e in (to_example(r) for r in records) if e and e.reference]
    labels = [label_of(r, label_pattern) for r in refs]
    distinct = {x for x in labels if x}
    if labels and 1 < len(distinct) <= max_labels and len(distinct) * 2 <= len(labels):
        return "classification", (f"detected: {len(distinct)} distinct answers in "
                                  f"{len(labels)} examples")
    if data_format == "messages":
        return "chat", f"detected: chat data with {len(distinct)} distinct answers"
    return "generation", "detected: free-text answers"
