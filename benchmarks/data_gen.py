"""Realistic chat rows for the data benchmark, with planted exact and near copies.

Words come from benchmarks/words.txt (real English words with their counts in
the venv's package descriptions: a Zipf-like frequency list), so unrelated rows
share frequent words and phrases the way real text does.  Row lengths are
log-uniform between 50 and 2,000 characters (about 38% under 200).  2% of rows
are exact copies and 2% near copies (1-3 small edits: a character typo,
inserted, deleted or swapped characters, a word dropped or added) of a random
original; the whole file is shuffled, so copies land before and after their
originals.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from pathlib import Path

WORDS_FILE = Path(__file__).with_name("words.txt")
MIN_CHARS, MAX_CHARS = 50, 2000
BANDS = ((0, 200), (200, 500), (500, 1000), (1000, 10**9))
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def band_name(low: int, high: int) -> str:
    return f"< {high}" if low == 0 else (f">= {low}" if high >= 10**9 else f"{low}-{high}")


def band_of(length: int) -> str:
    return next(band_name(lo, hi) for lo, hi in BANDS if lo <= length < hi)


@dataclass
class Truth:
    """What was planted: per line (1-based) its family (original's index) and kind."""

    family: list[int] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)  # base, exact or near
    length: list[int] = field(default_factory=list)  # characters of user + assistant text


class Words:
    def __init__(self) -> None:
        words, total, cum = [], 0, []
        for line in WORDS_FILE.read_text(encoding="utf-8").splitlines():
            if line.startswith("#"):
                continue
            word, count = line.split()
            total += int(count)
            words.append(word)
            cum.append(total)
        self.words, self.cum, self.total = words, cum, total

    def draw(self, rng: random.Random, k: int) -> list[str]:
        return rng.choices(self.words, cum_weights=self.cum, k=k)


def _text(rng: random.Random, words: Words, chars: int) -> str:
    out: list[str] = []
    size = 0
    while size < chars:
        sentence = words.draw(rng, rng.randint(4, 18))
        sentence[0] = sentence[0].capitalize()
        if len(sentence) > 8 and rng.random() < 0.4:
            sentence[rng.randrange(2, len(sentence) - 2)] += ","
        text = " ".join(sentence) + rng.choice(".....?!")
        out.append(text)
        size += len(text) + 1
    return " ".join(out)[:chars].rstrip() or "Ok."


def _edit(rng: random.Random, words: Words, text: str) -> str:
    kind = rng.choice(("sub", "ins", "del", "swap", "drop_word", "add_word"))
    if kind in ("drop_word", "add_word"):
        parts = text.split(" ")
        at = rng.randrange(len(parts))
        if kind == "drop_word" and len(parts) > 3:
            del parts[at]
        else:
            parts.insert(at, words.draw(rng, 1)[0])
        return " ".join(parts)
    at = rng.randrange(max(len(text) - 1, 1))
    if kind == "sub":
        return text[:at] + rng.choice(_LETTERS) + text[at + 1:]
    if kind == "ins":
        return text[:at] + rng.choice(_LETTERS) + text[at:]
    if kind == "del":
        return text[:at] + text[at + 1:]
    return text[:at] + text[at + 1:at + 2] + text[at:at + 1] + text[at + 2:]


def _near(rng: random.Random, words: Words, user: str, assistant: str) -> tuple[str, str]:
    for _ in range(rng.randint(1, 3)):
        if rng.random() < len(user) / (len(user) + len(assistant)):
            user = _edit(rng, words, user)
        else:
            assistant = _edit(rng, words, assistant)
    return user, assistant


def _base_row(rng: random.Random, words: Words) -> tuple[str, str]:
    total = int(math.exp(rng.uniform(math.log(MIN_CHARS), math.log(MAX_CHARS))))
    user_chars = max(15, int(total * rng.uniform(0.2, 0.6)))
    return _text(rng, words, user_chars), _text(rng, words, max(15, total - user_chars))


def generate(path: Path, rows: int, seed: int = 0, exact_share: float = 0.02,
             near_share: float = 0.02) -> Truth:
    """Write `rows` chat rows as JSONL to path; return what was planted where."""
    rng = random.Random(seed)
    words = Words()
    n_exact, n_near = int(rows * exact_share), int(rows * near_share)
    n_base = rows - n_exact - n_near
    base = [_base_row(rng, words) for _ in range(n_base)]
    plan: list[tuple[str, int, str, str]] = [("base", i, *base[i]) for i in range(n_base)]
    for _ in range(n_exact):
        i = rng.randrange(n_base)
        plan.append(("exact", i, *base[i]))
    for _ in range(n_near):
        i = rng.randrange(n_base)
        plan.append(("near", i, *_near(rng, words, *base[i])))
    rng.shuffle(plan)
    truth = Truth()
    with path.open("w", encoding="utf-8") as fh:
        for kind, family, user, assistant in plan:
            fh.write(json.dumps({"messages": [{"role": "user", "content": user},
                                              {"role": "assistant", "content": assistant}]})
                     + "\n")
            truth.family.append(family)
            truth.kind.append(kind)
            truth.length.append(len(user) + len(assistant))
    return truth


def score(truth: Truth, rejected: list[dict]) -> dict:
    """Exact and near recall (overall and by length band), precision, from rejected.jsonl.

    A planted copy is found when it and its original end in one duplicate
    cluster (whichever of the two came first is kept).  A reported near pair is
    correct when both rows belong to one planted family.
    """
    parent = list(range(len(truth.family) + 1))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def line(source: str) -> int:
        return int(source.rsplit(":", 1)[1])

    near_pairs = 0
    correct = 0
    for entry in rejected:
        if entry["reason"] not in ("exact_duplicate", "near_duplicate"):
            continue
        of = entry["detail"].split(" of ", 1)[1].split(" (")[0]
        a, b = line(entry["source"]), line(of)
        parent[find(a)] = find(b)
        if entry["reason"] == "near_duplicate":
            near_pairs += 1
            correct += truth.family[a - 1] == truth.family[b - 1]
    first = {}
    for i, (kind, fam) in enumerate(zip(truth.kind, truth.family, strict=True), 1):
        if kind == "base":
            first[fam] = i
    found = {"exact": [0, 0], "near": [0, 0]}
    bands: dict[str, list[int]] = {band_name(lo, hi): [0, 0] for lo, hi in BANDS}
    for i, (kind, fam) in enumerate(zip(truth.kind, truth.family, strict=True), 1):
        if kind == "base":
            continue
        hit = find(i) == find(first[fam])
        found[kind][0] += hit
        found[kind][1] += 1
        if kind == "near":
            band = bands[band_of(truth.length[first[fam] - 1])]
            band[0] += hit
            band[1] += 1
    return {
        "exact_recall": found["exact"][0] / max(found["exact"][1], 1),
        "near_recall": found["near"][0] / max(found["near"][1], 1),
        "near_precision": correct / near_pairs if near_pairs else 1.0,
        "near_reported": near_pairs,
        "bands": {k: (v[0] / v[1] if v[1] else None, v[1]) for k, v in bands.items()},
    }

