"""Near duplicates that stay near when rows are short.

Similarity is the normalized Levenshtein similarity of the lowercased,
whitespace-collapsed texts (rapidfuzz): one typo in a 120-character question
leaves it at 0.99, where word 3-shingles (the earlier measure) fell to 0.7.
Comparing every pair is quadratic, so candidates come from MinHash LSH over
character 5-grams of the UTF-8 bytes, and only candidates are confirmed with the
edit distance: a reported near duplicate is never an LSH false positive.

Rows are indexed in two length groups, each with LSH bands that suit it:
short rows (under SHORT_MAX characters) on all their 5-grams with 5-row bands
(a few edits remove a large share of a short row's grams); longer rows
(LONG_MIN characters and up) on a content-defined quarter of their grams (the
same grams in both copies, a quarter of the hashing work) with 6-row bands.
Rows in between are in both groups: two rows whose lengths differ by more than
the allowed edits (15% at 0.85) cannot reach the threshold, so no pair is lost
at the seam.  The bands are tuned for copies with a few scattered edits: a
threshold well below 0.85, or a copy rewritten throughout, is found only when
its grams still meet in a band.  The banding is done with numpy (sort the band
hashes, pair equal ones): the index is band keys and row ids, about 0.2 KB per
row, where datasketch's in-memory MinHashLSH holds Python objects for every
band entry.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ftc.dataprep.dedup import NUM_PERM, signatures_flat
from ftc.dataprep.progress import Progress

GRAM = 5
SHORT_MAX = 300  # characters: rows below index with all grams
LONG_MIN = 240  # rows from here index with sampled grams (overlap: both)
SHORT_BANDS = (25, 5)  # (bands, rows per band): 0.98 candidate rate at gram Jaccard 0.65
LONG_BANDS = (21, 6)  # 0.98 at 0.75; unrelated long rows (Jaccard ~0.1) almost never meet
SAMPLE_MASK = 3  # long rows keep the grams whose hash & 3 == 0
BUCKET_CAP = 64  # a band bucket larger than this pairs each member with its first 64 only
_CHUNK_BYTES = 1 << 18  # texts hashed per numpy pass (stays in cache)
_NUMBER = re.compile(r"\d+")


def near_text(pairs) -> str:
    """The text near duplicates are compared on: roles and texts, lowercased, spaces collapsed."""
    return " ".join("\n".join(f"{role}: {text}" for role, text in pairs).split()).lower()


@dataclass(frozen=True)
class NearMatch:
    index: int  # the later example
    of: int  # the earlier example it repeats
    similarity: float


def grams(texts: Sequence[str], sample: bool):
    """(5-gram hashes of all texts as one array, count per text), vectorized in chunks."""
    import numpy as np

    values, counts = [], []
    start, size = 0, 0
    for stop, text in enumerate(texts, 1):
        size += len(text)
        if size >= _CHUNK_BYTES or stop == len(texts):
            v, c = _grams_chunk(texts[start:stop], sample)
            values.append(v)
            counts.append(c)
            start, size = stop, 0
    if not counts:
        return np.zeros(0, dtype=np.uint32), np.zeros(0, dtype=np.int64)
    return np.concatenate(values), np.concatenate(counts)


def _grams_chunk(texts: Sequence[str], sample: bool):
    import numpy as np

    encoded = [t.encode("utf-8") for t in texts]
    lens = np.fromiter((len(b) for b in encoded), dtype=np.int64, count=len(encoded))
    buf = np.frombuffer(b"".join(encoded), dtype=np.uint8).astype(np.uint64)
    if len(buf) < GRAM:
        return np.zeros(0, dtype=np.uint32), np.zeros(len(texts), dtype=np.int64)
    owner = np.repeat(np.arange(len(texts)), lens)[:-(GRAM - 1)]
    keep = owner == np.repeat(np.arange(len(texts)), lens)[GRAM - 1:]
    h = buf[:len(buf) - GRAM + 1].copy()
    for k in range(1, GRAM):
        h |= buf[k:len(buf) - GRAM + 1 + k] << np.uint64(8 * k)
    h ^= h >> np.uint64(29)  # splitmix64's finalizer: every byte reaches every bit
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(32)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(29)
    if sample:
        keep &= (h & np.uint64(SAMPLE_MASK)) == 0
    values = (h[keep] & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    counts = np.bincount(owner[keep], minlength=len(texts)).astype(np.int64)
    return values, counts


def _band_keys(sigs, bands: int, rows: int):
    """(bands, n) uint64: one hash per band of each signature."""
    import numpy as np

    keys = np.empty((bands, len(sigs)), dtype=np.uint64)
    for band in range(bands):
        part = sigs[:, band * rows:(band + 1) * rows].astype(np.uint64)
        key = np.full(len(sigs), band + 1, dtype=np.uint64)
        for col in range(rows):
            key = (key * np.uint64(0x100000001B3)) ^ part[:, col]
            key ^= key >> np.uint64(31)
        keys[band] = key
    return keys


def _pairs_of_groups(keys, ids):
    """Candidate pairs (i < j) among `ids`: rows that share any band key."""
    import numpy as np

    found = []
    for band_keys in keys:
        order = np.argsort(band_keys, kind="stable")
        sorted_keys = band_keys[order]
        starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
        sizes = np.diff(np.r_[starts, len(sorted_keys)])
        many = sizes >= 2
        pairs_here = sizes == 2
        first = starts[pairs_here]
        found.append(np.stack([ids[order[first]], ids[order[first + 1]]], axis=1))
        for start, size in zip(starts[many & ~pairs_here], sizes[many & ~pairs_here],
                               strict=True):
            members = ids[order[start:start + size]]
            heads = members[:BUCKET_CAP]
            a = np.repeat(heads, len(members))
            b = np.tile(members, len(heads))
            found.append(np.stack([a, b], axis=1)[a != b])
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.concatenate(found).astype(np.int64)
    pairs.sort(axis=1)
    return np.unique(pairs, axis=0)


_GROUPS = ((False, SHORT_BANDS), (True, LONG_BANDS))  # (sampled grams, bands)
_BATCH = 8192  # texts in memory at once while the band keys are computed


def _in_group(lens, sampled: bool):
    return lens >= LONG_MIN if sampled else lens < SHORT_MAX


def candidate_pairs(texts: Sequence[str], members: Sequence[int] | None = None,
                    shown: Progress | None = None):
    """(m, 2) int64 array of candidate index pairs (i < j) among `members` (default: all).

    Texts are taken _BATCH at a time; what stays is each row's band keys.
    """
    import numpy as np

    ids = np.arange(len(texts)) if members is None else np.asarray(members, dtype=np.int64)
    keys: list[list] = [[] for _ in _GROUPS]
    owners: list[list] = [[] for _ in _GROUPS]
    for start in range(0, len(ids), _BATCH):
        chunk = ids[start:start + _BATCH]
        batch = [texts[int(i)] for i in chunk]
        lens = np.fromiter((len(t) for t in batch), dtype=np.int64, count=len(batch))
        for g, (sampled, (bands, rows)) in enumerate(_GROUPS):
            where = np.flatnonzero(_in_group(lens, sampled))
            if not len(where):
                continue
            values, counts = grams([batch[k] for k in where], sampled)
            has = counts > 0
            sigs = signatures_flat(values, counts, NUM_PERM)[has]
            keys[g].append(_band_keys(sigs, bands, rows))
            owners[g].append(chunk[where[has]])
        if shown is not None:
            shown.advance(len(chunk))
    found = [_pairs_of_groups(np.concatenate(keys[g], axis=1), np.concatenate(owners[g]))
             for g in range(len(_GROUPS)) if keys[g]]
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    return np.unique(np.concatenate(found), axis=0)


def similarity(a: str, b: str, threshold: float = 0.0) -> float:
    """Normalized Levenshtein similarity; 0 when below `threshold` or when the numbers differ.

    Numbers carry the meaning of templated rows (ids, quantities, sums): "What is
    12 + 7?" and "What is 12 + 8?" are different examples however close their
    characters are, while a typo copy keeps its numbers.
    """
    from rapidfuzz.distance import Levenshtein

    if not a and not b:
        return 1.0
    if min(len(a), len(b)) < threshold * max(len(a), len(b)):
        return 0.0
    if _NUMBER.findall(a) != _NUMBER.findall(b):
        return 0.0
    return Levenshtein.normalized_similarity(a, b, score_cutoff=threshold)


class NearIndex:
    """Candidate pairs of a batch of texts, confirmed on demand with the edit distance."""

    def __init__(self, texts: Sequence[str], threshold: float,
                 members: Sequence[int] | None = None, stage: str = "near dedup") -> None:
        self.texts = texts
        self.threshold = threshold
        count = len(texts) if members is None else len(members)
        with Progress(f"{stage}: signatures", count) as shown:
            pairs = candidate_pairs(texts, members, shown)
        self.neighbours: dict[int, list[int]] = {}
        for i, j in pairs.tolist():
            self.neighbours.setdefault(i, []).append(j)
            self.neighbours.setdefault(j, []).append(i)

    def confirmed(self, i: int, allowed=None) -> list[NearMatch]:
        """Candidates of i (that `allowed` accepts) at or above the threshold, by index."""
        out = []
        for j in sorted(self.neighbours.get(i, ())):
            if allowed is not None and not allowed(j):
                continue
            sim = similarity(self.texts[i], self.texts[j], self.threshold)
            if sim and sim >= self.threshold:
                out.append(NearMatch(i, j, sim))
        return out

    def best_match(self, i: int, allowed=None) -> NearMatch | None:
        """The most similar confirmed candidate (ties: the lowest index)."""
        best = None
        for match in self.confirmed(i, allowed):
            if best is None or match.similarity > best.similarity:
                best = match
        return best


def near_duplicates(texts: Sequence[str], threshold: float,
                    order: Sequence[int] | None = None,
                    stage: str = "near dedup") -> list[NearMatch]:
    """Each example (in `order`) that nearly repeats an earlier kept one.

    Examples are visited in order; one with no match among the kept ones is
    kept, one with a match is reported against the kept example it repeats (so
    clusters are star-shaped around their first member; deterministic).
    """
    order = list(range(len(texts))) if order is None else list(order)
    index = NearIndex(texts, threshold, order, stage)
    kept: set[int] = set()
    found: list[NearMatch] = []
    with Progress(f"{stage}: confirm", len(order)) as shown:
        for i in order:
            match = index.best_match(i, allowed=kept.__contains__)
            if match is None:
                kept.add(i)
            else:
                found.append(match)
            shown.advance()
    return found


def near_groups(texts: Sequence[str], threshold: float, order: Sequence[int],
                stage: str = "near groups") -> dict[int, int]:
    """Group id per example: connected components of the confirmed near-duplicate graph,
    so a split by group puts no near-duplicate pair on two sides."""
    index = NearIndex(texts, threshold, order, stage)
    parent = {i: i for i in order}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in order:
        for match in index.confirmed(i, allowed=lambda j, i=i: j < i and j in parent):
            a, b = find(i), find(match.of)
            if a != b:
                parent[max(a, b)] = min(a, b)
    return {i: find(i) for i in order}
