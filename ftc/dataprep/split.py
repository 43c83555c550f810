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
from array import array
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


def assign_split_ids(groups, strata: Sequence[str | None] | None,
                     fractions: dict[str, float], seed: int):
    """`assign_splits` as a numpy array of indexes into SPLITS, in a few bytes per example:
    the groups are numbered by first member, shuffled as a compact array (the same
    permutation `random.shuffle` gives a list), and dealt by a cumulative sum (test
    takes groups while it is short, then validation, so each is a prefix).
    `strata=None`: not stratified."""
    import numpy as np

    groups = np.asarray(groups)
    n = len(groups)
    if not n:
        return np.zeros(0, dtype=np.uint8)
    _, first, inverse = np.unique(groups, return_index=True, return_inverse=True)
    by_first = np.argsort(first, kind="stable")  # groups numbered by their first member
    number = np.empty(len(first), dtype=np.int64)
    number[by_first] = np.arange(len(first))
    group = number[inverse.reshape(-1)]
    del inverse, number
    sizes = np.bincount(group)
    heads = first[by_first]  # first member of each numbered group
    del first, by_first
    labels: dict = {}  # a stratum's label -> its number
    if strata is None:
        stratum = np.zeros(len(heads), dtype=np.int64)
        labels[None] = 0
    else:
        stratum = np.fromiter((labels.setdefault(strata[h], len(labels)) for h in heads.tolist()),
                              dtype=np.int64, count=len(heads))
    keys = {("" if label is None else f"={label}"): k for label, k in labels.items()}
    target = np.zeros(len(heads), dtype=np.uint8)
    for key in sorted(keys):
        in_stratum = np.flatnonzero(stratum == keys[key])
        order = array("q", range(len(in_stratum)))
        random.Random(f"ftc-split:{seed}:{key}").shuffle(order)
        dealt = in_stratum[np.frombuffer(order, dtype=np.int64)]
        del order, in_stratum
        dealt_sizes = sizes[dealt]
        rows = int(dealt_sizes.sum())
        before = np.cumsum(dealt_sizes) - dealt_sizes
        open_ = np.ones(len(dealt), dtype=bool)
        taken = 0
        for name in ("test", "validation"):
            want = _round(rows * fractions.get(name, 0.0))
            chosen = np.flatnonzero(open_ & (before - taken < want))
            target[dealt[chosen]] = SPLITS.index(name)
            open_[chosen] = False
            taken += int(dealt_sizes[chosen].sum())
    return target[group]
