"""ftc's data pipeline as of main af83b15 (before issue 18), kept verbatim for bench_data's
side-by-side comparison only; nothing in ftc imports it.

Exact and near-duplicate detection.

Exact: two examples are duplicates when their normalized texts are equal after
collapsing runs of whitespace (case is kept).  Near: Jaccard similarity of
their word 3-shingle sets reaches the threshold.  Candidates come from
datasketch's MinHash LSH; every candidate pair is then confirmed on the real
shingle sets, so a reported near-duplicate is never an LSH false positive.

MinHash signatures are datasketch's "affine32" scheme (its permutations, its
MurmurHash3 pre-mix) computed for many documents at once with numpy: building
one `datasketch.MinHash` per row costs more than the whole rest of the check
on 100,000 rows.  A test pins the vectorized values to datasketch's own.
numpy and datasketch are imported lazily.
"""

from __future__ import annotations

import hashlib
import json
import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

SHINGLE_WORDS = 3
NUM_PERM = 128
_WORD = re.compile(r"\w+")
_SPACE = re.compile(r"\s+")


def exact_key(pairs: Iterable[tuple[str, str]]) -> str:
    """Identity of an example for exact dedup: its (role, text) pairs, whitespace-collapsed."""
    canon = [[role, _SPACE.sub(" ", text).strip()] for role, text in pairs]
    return hashlib.sha1(json.dumps(canon, ensure_ascii=False).encode("utf-8")).hexdigest()


def similarity_text(pairs: Iterable[tuple[str, str]]) -> str:
    return "\n".join(f"{role}: {text}" for role, text in pairs)


class Shingler:
    """Word 3-shingles of a text as sorted unique uint32 hashes (deterministic)."""

    def __init__(self) -> None:
        import numpy as np

        self._np = np
        self._ids: dict[str, int] = {}

    def __call__(self, text: str):
        np = self._np
        words = _WORD.findall(text.lower())
        if not words:
            return np.zeros(0, dtype=np.uint32)
        ids = self._ids
        codes = []
        for w in words:
            code = ids.get(w)
            if code is None:
                code = ids[w] = zlib.crc32(w.encode("utf-8"))
            codes.append(code)
        arr = np.array(codes, dtype=np.uint64)
        if len(arr) >= SHINGLE_WORDS:
            mixed = arr[:-2] * np.uint64(0x9E3779B97F4A7C15)
            mixed ^= arr[1:-1] * np.uint64(0xC2B2AE3D27D4EB4F)
            mixed ^= arr[2:]
        else:
            mixed = np.array([sum(int(c) << (21 * i) for i, c in enumerate(codes))
                              & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64)
        mixed ^= mixed >> np.uint64(29)
        mixed *= np.uint64(0xBF58476D1CE4E5B9)
        mixed ^= mixed >> np.uint64(32)
        return np.unique((mixed & np.uint64(0xFFFFFFFF)).astype(np.uint32))


def _fmix32(h):
    """MurmurHash3's 32-bit finalizer, as datasketch applies it before permuting."""
    import numpy as np

    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def signatures(shingle_sets: Sequence, num_perm: int = NUM_PERM, seed: int = 1):
    """MinHash signatures (n, num_perm) uint32, equal to datasketch's affine32 MinHash.

    Empty sets get the all-max signature (datasketch's empty MinHash).
    """
    import numpy as np
    from datasketch import MinHash

    a, b = MinHash(num_perm=num_perm, seed=seed).permutations
    a = a.astype(np.uint32).reshape(-1, 1)
    b = b.astype(np.uint32).reshape(-1, 1)
    out = np.full((len(shingle_sets), num_perm), np.uint32(0xFFFFFFFF), dtype=np.uint32)
    sizes = np.fromiter((len(s) for s in shingle_sets), dtype=np.int64, count=len(shingle_sets))
    budget = 1 << 14  # shingles per block: keeps the (num_perm, shingles) matrix in cache
    ends = np.cumsum(sizes)
    start = 0
    while start < len(shingle_sets):
        before = int(ends[start - 1]) if start else 0
        stop = max(int(np.searchsorted(ends, before + budget, side="right")), start + 1)
        block = [i for i in range(start, stop) if sizes[i]]
        if block:
            values = _fmix32(np.concatenate([shingle_sets[i] for i in block]).astype(np.uint32))
            offsets = np.concatenate(([0], np.cumsum(sizes[block][:-1])))
            permuted = a * values.reshape(1, -1)  # uint32 wraps: the modulo 2**32
            permuted += b
            out[block] = np.minimum.reduceat(permuted, offsets, axis=1).T
        start = stop
    return out


def lsh_bands(threshold: float, num_perm: int = NUM_PERM, recall: float = 0.99) -> tuple[int, int]:
    """(bands, rows) such that a pair AT the threshold becomes a candidate with >= `recall`.

    datasketch's default balances false positives against false negatives,
    which misses about a third of the pairs right at the threshold; here
    candidates are confirmed on the real shingle sets, so extra candidates
    only cost time.  The most rows per band that still reaches `recall`
    keeps that cost lowest.
    """
    best = (num_perm, 1)
    for rows in range(1, num_perm + 1):
        bands = num_perm // rows
        if bands < 2:
            break
        if 1 - (1 - threshold ** rows) ** bands >= recall:
            best = (bands, rows)
    return best


def jaccard(x, y) -> float:
    import numpy as np

    if not len(x) and not len(y):
        return 1.0
    inter = len(np.intersect1d(x, y, assume_unique=True))
    return inter / (len(x) + len(y) - inter)


@dataclass(frozen=True)
class NearMatch:
    index: int  # the later example
    of: int  # the earlier example it repeats
    similarity: float


class NearIndex:
    """MinHash LSH over shingle sets, with exact Jaccard confirmation of candidates."""

    def __init__(self, shingle_sets: Sequence, threshold: float) -> None:
        from datasketch import MinHashLSH

        self.sets = shingle_sets
        self.threshold = threshold
        self.sigs = signatures(shingle_sets)
        self.lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM,
                              params=lsh_bands(threshold))

    def _minhash(self, i: int):
        from datasketch import LeanMinHash

        return LeanMinHash(seed=1, hashvalues=self.sigs[i], scheme="affine32")

    def add(self, i: int) -> None:
        if len(self.sets[i]):
            self.lsh.insert(i, self._minhash(i), check_duplication=False)

    def matches(self, i: int) -> list[NearMatch]:
        """Every indexed example at or above the threshold (confirmed exactly)."""
        if not len(self.sets[i]) or self.lsh.is_empty():
            return []
        found = []
        for j in sorted(self.lsh.query(self._minhash(i))):
            sim = jaccard(self.sets[i], self.sets[j]) if j != i else 0.0
            if sim >= self.threshold:
                found.append(NearMatch(i, j, sim))
        return found

    def best_match(self, i: int, allowed=None) -> NearMatch | None:
        """The most similar indexed example at or above the threshold (ties: earliest)."""
        if not len(self.sets[i]) or self.lsh.is_empty():
            return None
        best: NearMatch | None = None
        for j in sorted(self.lsh.query(self._minhash(i))):
            if j == i or (allowed is not None and not allowed(j)):
                continue
            sim = jaccard(self.sets[i], self.sets[j])
            if sim >= self.threshold and (best is None or sim > best.similarity):
                best = NearMatch(i, j, sim)
        return best


def near_duplicates(shingle_sets: Sequence, threshold: float,
                    order: Sequence[int] | None = None) -> list[NearMatch]:
    """Each example (in `order`) that nearly repeats an earlier kept one.

    Examples are visited in order; one with no match is kept and indexed, one
    with a match is reported against the kept example it repeats (so clusters
    are star-shaped around their first member, and the result is deterministic).
    """
    index = NearIndex(shingle_sets, threshold)
    found: list[NearMatch] = []
    for i in order if order is not None else range(len(shingle_sets)):
        match = index.best_match(i)
        if match is None:
            index.add(i)
        else:
            found.append(match)
    return found


def near_groups(shingle_sets: Sequence, threshold: float, order: Sequence[int]) -> dict[int, int]:
    """Group id per example: connected components of the near-duplicate graph.

    Unlike `near_duplicates` (each example against kept ones), every example is
    compared with every earlier one, and chains (A~B, B~C) join one group, so a
    split by group puts no near-duplicate pair on two sides.
    """
    index = NearIndex(shingle_sets, threshold)
    parent = {i: i for i in order}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in order:
        for match in index.matches(i):
            a, b = find(i), find(match.of)
            if a != b:
                parent[max(a, b)] = min(a, b)
        index.add(i)
    return {i: find(i) for i in order}
