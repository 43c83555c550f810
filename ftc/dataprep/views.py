"""What the stages read from the row store: near-duplicate texts, JSON texts, key runs."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ftc.dataprep import formats, near
from ftc.dataprep.rowstore import ExampleTable

if TYPE_CHECKING:
    import numpy as np


class NearTexts:
    """The near-duplicate text of each of `rows` (table rows), read when asked."""

    def __init__(self, table: ExampleTable, rows, fmt: str) -> None:
        self.table, self.rows, self.fmt = table, rows, fmt
        path = table.texts.path  # spill files go beside the row file (None: system temp)
        self.folder = str(path.parent) if path is not None else None

    def __len__(self) -> int:
        return len(self.rows)

    def _text(self, blob: str) -> str:
        return near.near_text(formats.texts(json.loads(blob), self.fmt))

    def __getitem__(self, i: int) -> str:
        return self._text(self.table.blob(self.rows[i]))

    def batch(self, ids) -> list[str]:
        return [self._text(b) for b in self.table.blobs(self.rows[ids])]


def first_of(keys: np.ndarray) -> np.ndarray:
    """For each position, the first position with the same key (int32 when it fits)."""
    import numpy as np

    n = len(keys)
    kind = np.int32 if n < 2**31 else np.int64
    order = np.argsort(keys, kind="stable").astype(kind)
    sorted_keys = keys[order]
    head = np.r_[True, sorted_keys[1:] != sorted_keys[:-1]] if n else np.zeros(0, bool)
    del sorted_keys
    run_start = np.maximum.accumulate(np.where(head, np.arange(n, dtype=kind), 0))
    out = np.empty(n, dtype=kind)
    out[order] = order[run_start]  # stable: a run's first entry is its lowest position
    return out


class Blobs:
    """The JSON texts of `rows`, sliced like a list (what token counting reads)."""

    def __init__(self, table: ExampleTable, rows) -> None:
        self.table, self.rows = table, rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: slice) -> list[str]:
        return list(self.table.blobs(self.rows[index]))
