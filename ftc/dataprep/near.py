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
hashes, pair equal ones), where datasketch's in-memory MinHashLSH holds Python
objects for every band entry.  The band keys are computed on forked processes
(ftc/dataprep/procs.py, a row range per task) and written to a file band-major,
then paired one band at a time: what stays in memory is the row ids (8 bytes a
row per length group) and one band's keys.  Candidates are confirmed with texts
read from the row store on demand.
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
    """Candidate pairs (i < j) among `ids`: rows that share any band key.

    Only the equal neighbours of the sorted keys are looked at (a few percent of
    rows), so a band costs its sort and little else.
    """
    import numpy as np

    found = []
    for band_keys in keys:
        order = np.argsort(band_keys, kind="stable")
        sorted_keys = band_keys[order]
        same = np.flatnonzero(sorted_keys[1:] == sorted_keys[:-1])  # k: keys k and k+1 equal
        del sorted_keys
        if not len(same):
            continue
        # a bucket of m equal keys is a run of m-1 consecutive entries of `same`
        new_run = np.r_[True, np.diff(same) != 1]
        starts = same[new_run]
        sizes = np.diff(np.r_[np.flatnonzero(new_run), len(same)]) + 1
        two = sizes == 2
        first = starts[two]
        found.append(np.stack([ids[order[first]], ids[order[first + 1]]], axis=1))
        for start, size in zip(starts[~two].tolist(), sizes[~two].tolist(), strict=True):
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
_BATCH = 8192  # texts per task while the band keys are computed


def _in_group(lens, sampled: bool):
    return lens >= LONG_MIN if sampled else lens < SHORT_MAX


def fetch(texts: Sequence[str], ids) -> list[str]:
    """texts[i] for each i (a store-backed sequence reads them a batch at a time)."""
    batch = getattr(texts, "batch", None)
    return batch(ids) if batch is not None else [texts[int(i)] for i in ids]


def _band_task(task: tuple[int, int]) -> list:
    """[(band keys (bands, m), their rows (m,)) per length group] of ids[start:stop]."""
    import numpy as np

    from ftc.dataprep.procs import state

    texts, ids = state()
    chunk = ids[task[0]:task[1]]
    batch = fetch(texts, chunk)
    lens = np.fromiter((len(t) for t in batch), dtype=np.int64, count=len(batch))
    out = []
    for sampled, (bands, rows) in _GROUPS:
        where = np.flatnonzero(_in_group(lens, sampled))
        values, counts = grams([batch[k] for k in where], sampled)
        has = counts > 0
        sigs = signatures_flat(values, counts, NUM_PERM)[has]
        out.append((_band_keys(sigs, bands, rows), chunk[where[has]]))
    return out


class _BandSpill:
    """One length group's band keys on disk, band-major, so a band is read back alone."""

    def __init__(self, bands: int, capacity: int, folder) -> None:
        import tempfile

        self.bands, self.capacity, self.filled = bands, max(capacity, 1), 0
        self.file = tempfile.TemporaryFile(dir=folder)
        self.owners: list = []

    def add(self, keys, owners) -> None:
        import os

        for band in range(self.bands):
            offset = (band * self.capacity + self.filled) * 8
            os.pwrite(self.file.fileno(), keys[band].tobytes(), offset)
        self.owners.append(owners)
        self.filled += len(owners)

    def band(self, band: int):
        import os

        import numpy as np

        data = os.pread(self.file.fileno(), self.filled * 8, band * self.capacity * 8)
        return np.frombuffer(data, dtype=np.uint64)

    def pairs(self):
        """Candidate pairs of this group, one band at a time."""
        import numpy as np

        owners = np.concatenate(self.owners) if self.owners else np.zeros(0, np.int64)
        found = np.zeros((0, 2), dtype=np.int64)
        for band in range(self.bands):
            here = _pairs_of_groups([self.band(band)], owners)
            found = np.unique(np.concatenate([found, here]), axis=0)
        self.file.close()
        return found


def candidate_pairs(texts: Sequence[str], members: Sequence[int] | None = None,
                    shown: Progress | None = None, procs: int = 1):
    """(m, 2) int64 array of candidate index pairs (i < j) among `members` (default: all).

    Texts are read _BATCH at a time, on `procs` processes; each row's band keys go
    to a file (`texts.folder` when it has one) and come back one band at a time,
    so what stays in memory is about 16 bytes per row plus one band.
    """
    import numpy as np

    from ftc.dataprep.procs import ordered_map, ranges

    ids = np.arange(len(texts)) if members is None else np.asarray(members, dtype=np.int64)
    folder = getattr(texts, "folder", None)
    spills = [_BandSpill(bands, len(ids), folder) for _, (bands, _) in _GROUPS]
    tasks = ranges(len(ids), _BATCH)
    for (start, stop), groups in zip(tasks, ordered_map(_band_task, tasks, procs,
                                                        (texts, ids)), strict=True):
        for spill, (keys, owners) in zip(spills, groups, strict=True):
            if len(owners):
                spill.add(keys, owners)
        if shown is not None:
            shown.advance(stop - start)
    found = [spill.pairs() for spill in spills]
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
                 members: Sequence[int] | None = None, stage: str = "near dedup",
                 procs: int | None = None) -> None:
        from ftc.dataprep.procs import procs_available

        self.texts = texts
        self.threshold = threshold
        procs = procs_available() if procs is None else procs
        count = len(texts) if members is None else len(members)
        with Progress(f"{stage}: signatures", count) as shown:
            pairs = candidate_pairs(texts, members, shown, procs)
        self.neighbours: dict[int, list[int]] = {}
        for i, j in pairs.tolist():
            self.neighbours.setdefault(i, []).append(j)
            self.neighbours.setdefault(j, []).append(i)
        self._cache: dict[int, str] = {}

    def text(self, i: int) -> str:
        """texts[i], kept for a while (a row is compared with each of its candidates)."""
        found = self._cache.get(i)
        if found is None:
            if len(self._cache) >= 4096:
                self._cache.clear()
            found = self._cache[i] = self.texts[i]
        return found

    def confirmed(self, i: int, allowed=None) -> list[NearMatch]:
        """Candidates of i (that `allowed` accepts) at or above the threshold, by index."""
        out = []
        for j in sorted(self.neighbours.get(i, ())):
            if allowed is not None and not allowed(j):
                continue
            sim = similarity(self.text(i), self.text(j), self.threshold)
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

    def with_candidates(self, order: Sequence[int]) -> list[int]:
        """The members of `order` that have a candidate, in that order (the others match
        nothing, so the loops below skip them)."""
        import numpy as np

        if not self.neighbours:
            return []
        order = np.asarray(order, dtype=np.int64)
        has = np.fromiter(self.neighbours, dtype=np.int64, count=len(self.neighbours))
        return order[np.isin(order, has)].tolist()


def near_duplicates(texts: Sequence[str], threshold: float,
                    order: Sequence[int] | None = None,
                    stage: str = "near dedup") -> list[NearMatch]:
    """Each example (in `order`) that nearly repeats an earlier kept one.

    Examples are visited in order; one with no match among the kept ones is
    kept, one with a match is reported against the kept example it repeats (so
    clusters are star-shaped around their first member; deterministic).  Only
    examples with a candidate are visited: a candidate of one has a candidate.
    """
    order = range(len(texts)) if order is None else order
    index = NearIndex(texts, threshold, order, stage)
    kept = bytearray(len(texts))
    found: list[NearMatch] = []
    visit = index.with_candidates(order)
    with Progress(f"{stage}: confirm", len(visit)) as shown:
        for i in visit:
            match = index.best_match(i, allowed=kept.__getitem__)
            if match is None:
                kept[i] = 1
            else:
                found.append(match)
            shown.advance()
    return found


def near_groups(texts: Sequence[str], threshold: float, order: Sequence[int],
                stage: str = "near groups") -> dict[int, int]:
    """{example: group} for the examples whose group is another one's: connected components
    of the confirmed near-duplicate graph (named by their first member), so a split by
    group puts no near-duplicate pair on two sides.  Examples absent are their own group."""
    index = NearIndex(texts, threshold, order, stage)
    member = bytearray(len(texts))
    for i in order:
        member[i] = 1
    parent: dict[int, int] = {}

    def find(i: int) -> int:
        while parent.get(i, i) != i:
            parent[i] = parent.get(parent[i], parent[i])
            i = parent[i]
        return i

    visit = index.with_candidates(order)
    for i in visit:
        for match in index.confirmed(i, allowed=lambda j, i=i: j < i and member[j]):
            a, b = find(i), find(match.of)
            if a != b:
                parent[max(a, b)] = min(a, b)
    return {i: root for i in visit if (root := find(i)) != i}
