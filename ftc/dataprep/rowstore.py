"""Rows held compactly between the pipeline's stages (bounded memory).

A parsed row as Python objects costs 2-3 KB (dicts, lists, the source line
beside them); a million rows did not fit in 10 GB.  Here a file's rows are
kept as their JSON text until validation, and an example as its normalized
JSON text (and its original text only when that differs), decoded when a
stage needs it: about 0.9 KB per row of typical chat data.
"""

from __future__ import annotations

import json
from array import array
from collections import Counter
from collections.abc import Iterator

from ftc.dataprep import formats
from ftc.dataprep.readers import Row
from ftc.dataprep.rows import DECODER

_AS_IS, _TEXT, _SOURCE_LINE = 0, 1, 2


def dump(value: object) -> str:
    """JSON text as the outputs are written (one line, UTF-8 kept)."""
    return json.dumps(value, ensure_ascii=False)


class FileRows:
    """A file's parsed rows as JSON text (the reader appends to it like a list).

    Format detection happens as rows arrive, so the file's majority format is
    known without keeping the parsed values.
    """

    def __init__(self) -> None:
        self.path: str | None = None
        self.lines = array("q")
        self.cols = array("i")
        self.kinds = bytearray()
        self.items: list[object] = []
        self.format_counts: Counter = Counter()

    def append(self, row: Row) -> None:
        self.path = row.path
        self.lines.append(row.line)
        self.cols.append(row.col)
        self.format_counts[formats.detect(row.value)] += 1
        if row.raw:
            self.kinds.append(_SOURCE_LINE)
            self.items.append(row.raw)
            return
        try:
            self.items.append(dump(row.value))
            self.kinds.append(_TEXT)
        except (TypeError, ValueError):  # a value JSON cannot hold (Parquet dates): kept as is
            self.items.append(row.value)
            self.kinds.append(_AS_IS)

    @classmethod
    def of(cls, rows: list[Row]) -> FileRows:
        out = cls()
        for row in rows:
            out.append(row)
        return out

    def __len__(self) -> int:
        return len(self.lines)

    def file_format(self) -> str | None:
        """The format most rows have (ties: the earlier in formats.FORMATS)."""
        counts = self.format_counts
        if not any(counts[f] for f in formats.FORMATS):
            return None
        return max(formats.FORMATS, key=lambda f: (counts[f], -formats.FORMATS.index(f)))

    def drain(self) -> Iterator[Row]:
        """The rows again, each decoded once; each row's text is released as it is read."""
        for i in range(len(self.lines)):
            item, kind = self.items[i], self.kinds[i]
            self.items[i] = None
            value = item if kind == _AS_IS else DECODER.decode(item)
            yield Row(self.path or "", self.lines[i], value,
                      raw=item if kind == _SOURCE_LINE else "", col=self.cols[i])
        self.items = []


class Example:
    """One valid example: normalized JSON text, decoded on access (`data`)."""

    __slots__ = ("path", "line", "split", "blob", "orig", "key")

    def __init__(self, path: str, line: int, data: dict, split: str,
                 original: object = None, key: int = 0) -> None:
        self.path, self.line, self.split, self.key = path, line, split, key
        self.blob = dump(data)
        self.orig: object = None
        if original is not None and original != data:
            try:
                self.orig = dump(original)
            except (TypeError, ValueError):
                self.orig = [original]  # a list marks "the value itself"

    @property
    def data(self) -> dict:
        return json.loads(self.blob)

    @data.setter
    def data(self, value: dict) -> None:
        self.blob = dump(value)

    @property
    def original(self) -> object:
        """The row as read, for rejected.jsonl."""
        if self.orig is None:
            return self.data
        return self.orig[0] if isinstance(self.orig, list) else json.loads(self.orig)

    @property
    def source(self) -> str:
        return f"{self.path}:{self.line}"
