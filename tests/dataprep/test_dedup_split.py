"""Duplicate detection and the deterministic split, as units."""

from __future__ import annotations

import random

import numpy as np
from datasketch import MinHash

from ftc.dataprep import dedup
from ftc.dataprep.split import assign_splits


def test_vectorized_signatures_equal_datasketch_minhash():
    shingler = dedup.Shingler()
    sets = [shingler("the quick brown fox jumps over the lazy dog " * k) for k in (1, 2)]
    sets += [shingler("two words"), shingler("")]
    sigs = dedup.signatures(sets)
    for s, sig in zip(sets, sigs, strict=True):
        m = MinHash(num_perm=dedup.NUM_PERM, seed=1, hashfunc=int)
        m.update_batch([int(v) for v in s])
        assert np.array_equal(sig, m.hashvalues)


def test_exact_key_ignores_whitespace_runs_but_not_case():
    a = dedup.exact_key([("user", "Hello  world\n"), ("assistant", "ok")])
    assert a == dedup.exact_key([("user", " Hello world"), ("assistant", "ok")])
    assert a != dedup.exact_key([("user", "hello world"), ("assistant", "ok")])
    assert a != dedup.exact_key([("assistant", "Hello world"), ("assistant", "ok")])


def _text(rng, n):
    return " ".join(f"w{rng.randrange(100000)}" for _ in range(n))


def test_near_duplicates_found_above_threshold_and_not_below():
    rng = random.Random(1)
    shingler = dedup.Shingler()
    base = _text(rng, 60)
    words = base.split()
    close = " ".join(words[:30] + ["changed"] + words[31:])  # 3 of 58 shingles differ
    far = " ".join(words[:30] + [_text(rng, 10)] + words[40:])
    texts = [base, _text(rng, 60), close, far]
    sets = [shingler(t) for t in texts]
    matches = dedup.near_duplicates(sets, 0.85)
    assert [(m.index, m.of) for m in matches] == [(2, 0)]
    assert abs(matches[0].similarity - dedup.jaccard(sets[0], sets[2])) < 1e-12
    assert dedup.jaccard(sets[0], sets[3]) < 0.85
    assert [(m.index, m.of) for m in dedup.near_duplicates(sets, 0.5)] == [(2, 0), (3, 0)]


def test_split_is_deterministic_grouped_and_sized():
    groups = list(range(100)) + [0] * 5  # item 0 and items 100..104 move together
    strata = [None] * 105
    fractions = {"train": 0.8, "validation": 0.1, "test": 0.1}
    first = assign_splits(groups, strata, fractions, seed=3)
    assert first == assign_splits(groups, strata, fractions, seed=3)
    assert first != assign_splits(groups, strata, fractions, seed=4)
    assert len({first[0], *first[100:]}) == 1
    assert first.count("validation") in range(10, 17) and first.count("test") in range(10, 17)


def test_split_is_stratified():
    strata = ["a"] * 90 + ["b"] * 10
    names = assign_splits(list(range(100)), strata, {"validation": 0.1, "test": 0.2}, seed=0)
    b = [n for n, s in zip(names, strata, strict=True) if s == "b"]
    assert (b.count("validation"), b.count("test"), b.count("train")) == (1, 2, 7)
