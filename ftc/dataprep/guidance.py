"""Dataset-level advice: label balance, data size for the task, refusal examples.

These are warnings, never errors: they say what usually disappoints in a
fine-tune, with the numbers behind the warning.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

# Minimum and typical example counts per task (the product's data-size table).
SIZE_TABLE: dict[str, tuple[int, int | None, str]] = {
    "style": (100, 500, "style/format"),
    "classification": (200, 1000, "classification"),
    "knowledge": (1000, 5000, "domain knowledge"),
    "generation": (5000, 20000, "complex generation"),
    "instruction": (10000, None, "general instruction following"),
}

# A label set this small (and repeated this often) makes data classification-like.
MAX_CLASSES = 50
MIN_ROWS_PER_CLASS = 4
MAX_LABEL_CHARS = 100

_REFUSAL = re.compile(
    r"\b(i can(?:no|')t|i cannot|i(?:'m| am) (?:sorry|afraid|unable|not able)|"
    r"i (?:won't|will not|must decline)|unable to (?:help|assist|comply)|"
    r"can(?:no|')t (?:help|assist) with)\b",
    re.IGNORECASE,
)


def label_counts(labels: Iterable[str | None], task: str | None) -> Counter | None:
    """Class counts when the data is classification-like, else None.

    Classification-like: a small set of short responses, each repeated (or the
    first lines of the responses, for answers like "Category: x\nReply: ...").
    The recipe's task decides: classification always looks for labels, another
    task never does, no task lets the data decide.  `labels` is read once and
    no more than MAX_CLASSES distinct labels are ever held (a million distinct
    answers are not counted: they already are not classes).
    """
    if task is not None and task != "classification":
        return None
    counters = [(str.strip, Counter()), (_first_line, Counter())]
    alive = [True, True]
    rows = 0
    for label in labels:
        if label is None:
            return None
        rows += 1
        for k, (key, counts) in enumerate(counters):
            if not alive[k]:
                continue
            value = key(label)
            if len(value) > MAX_LABEL_CHARS or (value not in counts
                                                 and len(counts) >= MAX_CLASSES):
                alive[k] = False
                counts.clear()
            else:
                counts[value] += 1
        if not any(alive):
            return None
    for k, (_, counts) in enumerate(counters):
        if alive[k] and _looks_like_classes(counts, rows):
            return counts
    return None


def label_of(response: str | None, counts: Counter | None) -> str | None:
    """The class of one response, in the keys `label_counts` returned."""
    if response is None or not counts:
        return None
    whole = response.strip()
    return whole if whole in counts else _first_line(response)


def _first_line(text: str) -> str:
    return text.strip().split("\n", 1)[0].strip()


def _looks_like_classes(counts: Counter, rows: int) -> bool:
    return (2 <= len(counts) <= MAX_CLASSES and rows >= 20
            and len(counts) * MIN_ROWS_PER_CLASS <= rows
            and max(len(label) for label in counts) <= MAX_LABEL_CHARS)


def imbalance(counts: Counter) -> tuple[str, int, str, int, float] | None:
    """(largest, its count, smallest, its count, ratio) for two or more classes."""
    if len(counts) < 2:
        return None
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    (big, n_big), (small, n_small) = ranked[0], ranked[-1]
    return big, n_big, small, n_small, n_big / n_small


def size_advice(task: str | None, rows: int) -> str | None:
    """A warning message when `rows` is under the table's minimum for the task."""
    if task not in SIZE_TABLE:
        return None
    low, high, label = SIZE_TABLE[task]
    if rows >= low:
        return None
    typical = f"{low:,}-{high:,}" if high else f"{low:,}+"
    return (f"{rows:,} training examples; {label} fine-tunes usually need {typical} "
            f"(minimum {low:,})")


def is_refusal(text: str | None) -> bool:
    """Whether a response declines the request (looked for in its first 300 characters)."""
    return bool(text) and bool(_REFUSAL.search(text[:300]))
