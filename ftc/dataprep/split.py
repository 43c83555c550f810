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
    return [SPLITS[k] for k in assign_split_ids(groups, strata, fractions, seed).tolist()]


def assign_split_ids(groups, strata: Sequence[str | None], fractions: dict[str, float],
                     seed: int):
    """`assign_splits` as a numpy array of indexes into SPLITS, without a Python object per
    example: the groups are numbered by first member, and the dealing is a cumulative sum
    (test takes groups while it is short, then validation, so each is a prefix)."""
    import numpy as np

    groups = np.asarray(groups)
    n = len(groups)
    out = np.zeros(n, dtype=np.uint8)
    if not n:
        return out
    _, first, inverse = np.unique(groups, return_index=True, return_inverse=True)
    by_first = np.argsort(first, kind="stable")  # groups numbered by their first member
    number = np.empty(len(first), dtype=np.int64)
    number[by_first] = np.arange(len(first))
    group = number[inverse.reshape(-1)]
    sizes = np.bincount(group)
    heads = first[by_first]  # first member of each numbered group
    keys = ["" if strata[h] is None else f"={strata[h]}" for h in heads.tolist()]
    names = sorted(set(keys))
    number_of = {k: i for i, k in enumerate(names)}
    key_of = np.fromiter((number_of[k] for k in keys), dtype=np.int64, count=len(keys))
    del keys
    for key in names:
        in_stratum = np.flatnonzero(key_of == number_of[key])
        order = list(range(len(in_stratum)))
        random.Random(f"ftc-split:{seed}:{key}").shuffle(order)
        dealt = in_stratum[np.asarray(order, dtype=np.int64)]
        rows = int(sizes[dealt].sum())
        target = np.zeros(len(dealt), dtype=np.uint8)
        before = np.cumsum(sizes[dealt]) - sizes[dealt]
        taken = 0
        for name in ("test", "validation"):
            want = _round(rows * fractions.get(name, 0.0))
            free = np.flatnonzero(target == 0)
            chosen = free[before[free] - taken < want]
            target[chosen] = SPLITS.index(name)
            taken += int(sizes[dealt[chosen]].sum())
        labels = np.zeros(len(first), dtype=np.uint8)
        labels[dealt] = target
        mine = np.isin(group, dealt)
        out[mine] = labels[group[mine]]
    return out
