"""Deterministic train/validation/test split.

Same seed and data, same split: the order of each stratum's groups comes from a
`random.Random` seeded with a string (hashed with SHA-512, stable across Python
runs and platforms).  Stratified by label for classification-like data, so that
every class appears in each split in proportion.  Examples that repeat each
other (a duplicate group) always land in the same split, so the split itself
never leaks training examples into evaluation.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

SPLITS = ("train", "validation", "test")


def _round(x: float) -> int:
    return math.floor(x + 0.5)


def assign_splits(
    groups: Sequence[int],
    strata: Sequence[str | None],
    fractions: dict[str, float],
    seed: int,
) -> list[str]:
    """Split name per example.

    `groups[i]` is the group of example i (examples with one group id move
    together); `strata[i]` its label (None: not stratified).  Within each
    stratum, groups are shuffled and dealt to test, then validation, until each
    has its rounded share of the stratum's rows; the rest is train.
    """
    members: dict[int, list[int]] = {}
    for i, g in enumerate(groups):
        members.setdefault(g, []).append(i)
    by_stratum: dict[str, list[int]] = {}
    for g, items in members.items():
        key = strata[items[0]]
        by_stratum.setdefault("" if key is None else f"={key}", []).append(g)
    out = ["train"] * len(groups)
    for key in sorted(by_stratum):
        group_ids = sorted(by_stratum[key], key=lambda g: members[g][0])
        random.Random(f"ftc-split:{seed}:{key}").shuffle(group_ids)
        rows = sum(len(members[g]) for g in group_ids)
        want = {"test": _round(rows * fractions.get("test", 0.0)),
                "validation": _round(rows * fractions.get("validation", 0.0))}
        have = {"test": 0, "validation": 0}
        for g in group_ids:
            size = len(members[g])
            target = next((s for s in ("test", "validation") if have[s] < want[s]), "train")
            if target != "train":
                have[target] += size
            for i in members[g]:
                out[i] = target
    return out
