"""Exact-duplicate identity and vectorized MinHash signatures.

Exact: two examples are duplicates when their normalized texts are equal after
collapsing runs of whitespace (case is kept).  Near duplicates are in
ftc/dataprep/near.py, which uses the signatures here for its LSH candidates.

MinHash signatures are datasketch's "affine32" scheme (its permutations, its
MurmurHash3 pre-mix) computed for many documents at once with numpy: building
one `datasketch.MinHash` per row costs more than the whole rest of the check
on 100,000 rows.  A test pins the vectorized values to datasketch's own.
numpy and datasketch are imported lazily.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence

NUM_PERM = 128


def exact_key(pairs: Iterable[tuple[str, str]]) -> str:
    """Identity of an example for exact dedup: its (role, text) pairs, whitespace-collapsed."""
    canon = [[role, " ".join(text.split())] for role, text in pairs]
    return hashlib.sha1(json.dumps(canon, ensure_ascii=False).encode("utf-8")).hexdigest()


def exact_id(pairs: Iterable[tuple[str, str]]) -> int:
    """`exact_key` as a 64-bit int (a million of them fit in 40 MB; collisions ~1e-8)."""
    return int(exact_key(pairs)[:16], 16)


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

    sizes = np.fromiter((len(s) for s in shingle_sets), dtype=np.int64, count=len(shingle_sets))
    parts = [np.asarray(s, dtype=np.uint32) for s in shingle_sets if len(s)]
    values = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint32)
    return signatures_flat(values, sizes, num_perm, seed)


def signatures_flat(values, sizes, num_perm: int = NUM_PERM, seed: int = 1):
    """`signatures` of rows given as one array of shingle hashes and each row's count.

    A shingle repeated within a row changes nothing (min is idempotent), so
    rows need no de-duplication first.
    """
    import numpy as np
    from datasketch import MinHash

    a, b = MinHash(num_perm=num_perm, seed=seed).permutations
    a = a.astype(np.uint32).reshape(-1, 1)
    b = b.astype(np.uint32).reshape(-1, 1)
    n = len(sizes)
    out = np.full((n, num_perm), np.uint32(0xFFFFFFFF), dtype=np.uint32)
    ends = np.cumsum(sizes)
    starts = ends - sizes
    budget = 1 << 14  # shingles per block: keeps the (num_perm, shingles) matrix in cache
    start = 0
    while start < n:
        stop = max(int(np.searchsorted(ends, starts[start] + budget, side="right")), start + 1)
        rows = np.arange(start, stop)[sizes[start:stop] > 0]
        if len(rows):
            lo, hi = int(starts[start]), int(ends[stop - 1])
            block = _fmix32(values[lo:hi].astype(np.uint32))
            permuted = a * block.reshape(1, -1)  # uint32 wraps: the modulo 2**32
            permuted += b
            out[rows] = np.minimum.reduceat(permuted, starts[rows] - lo, axis=1).T
        start = stop
    return out
