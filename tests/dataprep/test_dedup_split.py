"""Duplicate detection and the deterministic split, as units."""

from __future__ import annotations

import random

import numpy as np
from datasketch import MinHash

from ftc.dataprep import dedup, near
from ftc.dataprep.split import assign_splits


def test_vectorized_signatures_equal_datasketch_minhash():
    texts = ["the quick brown fox jumps over the lazy dog " * k for k in (1, 2)] + ["two", ""]
    values, counts = near.grams(texts, sample=False)
    ends = np.cumsum(counts)
    sets = [values[e - c:e] for e, c in zip(ends, counts, strict=True)]
    assert [len(s) for s in sets][2:] == [0, 0]  # under 5 bytes: no 5-gram
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


def _question(rng: random.Random) -> str:
    words = "the a of to and in is for how what my can you with on this that it".split()
    words += [f"{c}{v}{c2}" for c in "bcdfgklmnprst" for v in "aeiou" for c2 in "dklmnrst"]
    return " ".join(rng.choice(words) for _ in range(25))


def test_a_typo_in_a_short_question_is_a_near_duplicate():
    rng = random.Random(3)
    texts = [_question(rng)[:120] for _ in range(300)]
    original = texts[17]
    at = 60
    typo = original[:at] + ("x" if original[at] != "x" else "y") + original[at + 1:]
    texts.insert(5, typo)  # the copy comes first: the later original is the one dropped
    matches = near.near_duplicates(texts, 0.85)
    assert [(m.index, m.of) for m in matches] == [(18, 5)]
    assert matches[0].similarity > 0.98


def test_unrelated_short_rows_and_rows_with_other_numbers_are_not_near_duplicates():
    rng = random.Random(4)
    texts = [_question(rng)[:60] for _ in range(2000)]  # one vocabulary, many shared words
    texts += ["user: what is 12 + 7? assistant: 19", "user: what is 12 + 8? assistant: 20"]
    assert near.near_duplicates(texts, 0.85) == []
    assert near.similarity(texts[-2], texts[-1]) == 0.0


def test_near_duplicates_of_long_rows_found_above_threshold_and_not_below():
    rng = random.Random(1)
    base = _question(rng) * 4
    close = base[:200] + "changed" + base[207:]
    far = base[:100] + _question(rng)[:150] + base[250:]
    texts = [base, _question(rng) * 4, close, far]
    matches = near.near_duplicates(texts, 0.85)
    assert [(m.index, m.of) for m in matches] == [(2, 0)]
    assert near.similarity(base, far) < 0.85
    assert [(m.index, m.of) for m in near.near_duplicates(texts, 0.97)] == [(2, 0)]
    assert near.near_duplicates(texts, 0.99) == []  # 7 of ~400 characters differ


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
