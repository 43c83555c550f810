"""Rows held compactly between the pipeline's stages: texts on disk, numpy columns in memory.

A parsed row as Python objects costs 2-3 KB, and even as JSON text in a Python
string about 1.4 KB.  Here a file's rows go, as they are read, into an Arrow
file (ftc/dataprep/arrowstore.py); after validation each example's normalized
JSON text (and its original text only when that differs) goes into another.  In
memory stay only numpy columns per row: file id, line, split and the exact
key, about 30 bytes.  `Example` objects are made when a caller asks
(`Examples` is a lazy sequence), so `PipelineResult.splits[...]` still reads
like a list.  Without a workspace (`folder=None`) the texts stay in memory.
"""

from __future__ import annotations

import json
from array import array
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from ftc.dataprep import formats
from ftc.dataprep.readers import Row
from ftc.dataprep.rows import DECODER

_AS_IS, _TEXT, _SOURCE_LINE = 0, 1, 2
SPLIT_IDS = ("train", "validation", "test")


def dump(value: object) -> str:
    """JSON text as the outputs are written (one line, UTF-8 kept)."""
    return json.dumps(value, ensure_ascii=False)


class _Texts:
    """Append-only string columns: an Arrow file in `folder`, or Python lists without one."""

    def __init__(self, folder, stem: str, columns: tuple[str, ...]) -> None:
        self.writer = self.reader = self.path = None
        self.lists: list[list] | None = None
        if folder is None:
            self.lists = [[] for _ in columns]
        else:
            from ftc.dataprep.arrowstore import TextWriter

            self.writer = TextWriter(folder.new_file(stem), columns)

    def append(self, *values: str | None) -> None:
        if self.lists is not None:
            for column, value in zip(self.lists, values, strict=True):
                column.append(value)
        else:
            self.writer.append(*values)

    def finish(self) -> None:
        """No more rows; the file is mapped when first read (a run with many input files
        holds no open map per file)."""
        if self.writer is not None:
            self.path = self.writer.close()
            self.writer = None

    def _reader(self):
        if self.reader is None:
            from ftc.dataprep.arrowstore import TextReader

            self.reader = TextReader(self.path)
        return self.reader

    def get(self, i: int, column: int = 0) -> str | None:
        return self.lists[column][i] if self.lists is not None else self._reader().get(i, column)

    def take(self, rows, column: int = 0) -> Iterator[str | None]:
        if self.lists is None:
            yield from self._reader().take(rows, column)
        else:
            values = self.lists[column]
            for i in rows:
                yield values[int(i)]

    def drop(self) -> None:
        """Forget the texts (the file goes with its workspace)."""
        if self.reader is not None:
            self.reader.close()
        if self.path is not None:
            self.path.unlink(missing_ok=True)
        self.lists = self.reader = self.path = None


class FileRows:
    """A file's parsed rows as JSON text (the reader appends to it like a list).

    Format detection happens as rows arrive, so the file's majority format is
    known without keeping the parsed values.  `folder`: a Workspace whose Arrow
    file holds the texts (None: a Python list).
    """

    def __init__(self, folder=None) -> None:
        self.path: str | None = None
        self.lines = array("q")
        self.cols = array("i")
        self.kinds = bytearray()
        self.as_is: dict[int, object] = {}  # values JSON cannot hold (Parquet dates)
        self.texts = _Texts(folder, "read", ("text",))
        self.format_counts: Counter = Counter()

    def append(self, row: Row) -> None:
        self.path = row.path
        self.format_counts[formats.detect(row.value)] += 1
        if row.raw:
            kind, text = _SOURCE_LINE, row.raw
        else:
            try:
                kind, text = _TEXT, dump(row.value)
            except (TypeError, ValueError):  # a value JSON cannot hold: kept as is
                kind, text = _AS_IS, None
                self.as_is[len(self.lines)] = row.value
        self.lines.append(row.line)
        self.cols.append(row.col)
        self.kinds.append(kind)
        self.texts.append(text)

    @classmethod
    def of(cls, rows: list[Row], folder=None) -> FileRows:
        out = cls(folder)
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

    def rows(self, start: int = 0, stop: int | None = None) -> Iterator[Row]:
        """Rows start..stop again, each decoded (a forked worker reads its own range)."""
        import numpy as np

        self.texts.finish()
        stop = len(self.lines) if stop is None else stop
        texts = self.texts.take(np.arange(start, stop, dtype=np.int64))
        for i, item in enumerate(texts, start):
            kind = self.kinds[i]
            value = self.as_is[i] if kind == _AS_IS else DECODER.decode(item)
            yield Row(self.path or "", self.lines[i], value,
                      raw=item if kind == _SOURCE_LINE else "", col=self.cols[i])

    def drain(self) -> Iterator[Row]:
        """All rows again, each decoded once; the texts are dropped afterwards."""
        yield from self.rows()
        self.texts.drop()
        self.as_is.clear()


class Example:
    """One valid example: normalized JSON text, decoded on access (`data`)."""

    __slots__ = ("path", "line", "split", "blob", "orig", "key")

    def __init__(self, path: str, line: int, data: dict, split: str,
                 original: object = None, key: int = 0) -> None:
        self.path, self.line, self.split, self.key = path, line, split, key
        self.blob = dump(data)
        self.orig = original_text(original, data)

    @classmethod
    def stored(cls, path: str, line: int, blob: str, split: str, orig: object,
               key: int) -> Example:
        ex = cls.__new__(cls)
        ex.path, ex.line, ex.split, ex.blob, ex.orig, ex.key = path, line, split, blob, orig, key
        return ex

    @property
    def data(self) -> dict:
        return json.loads(self.blob)

    @data.setter
    def data(self, value: dict) -> None:
        self.blob = dump(value)

    @property
    def original(self) -> object:
        """The row as read, for rejected.jsonl."""
        return _original_value(self.orig, self.blob)

    @property
    def source(self) -> str:
        return f"{self.path}:{self.line}"


def original_text(original: object, data: dict) -> object:
    """None (the original is the normalized data), its JSON text, or [value] (not JSON)."""
    if original is None or original == data:
        return None
    try:
        return dump(original)
    except (TypeError, ValueError):
        return [original]  # a list marks "the value itself"


def _original_value(orig: object, blob: str) -> object:
    if orig is None:
        return json.loads(blob)
    return orig[0] if isinstance(orig, list) else json.loads(orig)


class ExampleTable:
    """Every valid example of a run: texts in an Arrow file, the rest in numpy columns."""

    def __init__(self, folder=None) -> None:
        self.texts = _Texts(folder, "examples", ("blob", "orig"))
        self.paths: list[str] = []
        self._path_ids: dict[str, int] = {}
        self._file, self._line, self._split = array("i"), array("q"), bytearray()
        self._key = array("Q")
        self.odd_originals: dict[int, list] = {}  # originals JSON cannot hold
        self.file = self.line = self.split = self.key = None
        self.rows = 0

    def add(self, path: str, line: int, data: dict, split: str, original: object,
            key: int) -> None:
        """One example; its original is kept when it differs from data."""
        self.add_text(path, line, dump(data), split, original_text(original, data), key)

    def add_text(self, path: str, line: int, blob: str, split: str, orig: object,
                 key: int) -> None:
        """One example as its JSON text and `original_text` of its original."""
        row = self.rows
        self.rows += 1
        if isinstance(orig, list):
            self.odd_originals[row] = orig
            orig = None
        if path not in self._path_ids:
            self._path_ids[path] = len(self.paths)
            self.paths.append(path)
        self._file.append(self._path_ids[path])
        self._line.append(line)
        self._split.append(SPLIT_IDS.index(split))
        self._key.append(key)
        self.texts.append(blob, orig)

    def finish(self) -> None:
        """No more rows: the columns become numpy arrays, the texts readable."""
        import numpy as np

        self.texts.finish()
        self.file = np.frombuffer(self._file, dtype=np.int32).copy()
        self.line = np.frombuffer(self._line, dtype=np.int64).copy()
        self.split = np.frombuffer(bytes(self._split), dtype=np.uint8).copy()
        self.key = np.frombuffer(self._key, dtype=np.uint64).copy()
        del self._file, self._line, self._split, self._key

    def __len__(self) -> int:
        return self.rows

    def source(self, i: int) -> str:
        return f"{self.paths[self.file[i]]}:{int(self.line[i])}"

    def blob(self, i: int) -> str:
        return self.texts.get(int(i))

    def blobs(self, rows) -> Iterator[str]:
        return self.texts.take(rows)

    def original(self, i: int) -> object:
        i = int(i)
        orig = self.odd_originals.get(i) or self.texts.get(i, 1)
        return _original_value(orig, self.blob(i) if orig is None else "")

    def example(self, i: int, blob: str | None = None, orig: object = None) -> Example:
        i = int(i)
        if blob is None:
            blob, orig = self.texts.get(i), self.texts.get(i, 1)
        orig = self.odd_originals.get(i, orig)
        return Example.stored(self.paths[self.file[i]], int(self.line[i]), blob,
                              SPLIT_IDS[self.split[i]], orig, int(self.key[i]))

    def examples(self, rows) -> Iterator[Example]:
        """Examples of `rows` in order, their texts read a batch at a time."""
        for i, blob, orig in zip(rows, self.texts.take(rows), self.texts.take(rows, 1),
                                 strict=True):
            yield self.example(i, blob, orig)

    def close(self) -> None:
        self.texts.drop()


class Examples:
    """A split's examples as a read-only sequence over the table (made on demand)."""

    def __init__(self, table: ExampleTable, rows) -> None:
        self.table, self.rows = table, rows

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Example]:
        chunk = 4096
        for start in range(0, len(self.rows), chunk):
            yield from self.table.examples(self.rows[start:start + chunk])

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Examples(self.table, self.rows[index])
        return self.table.example(self.rows[index])

    def __repr__(self) -> str:
        return f"<{len(self)} examples>"


class Rejected:
    """rejected.jsonl's entries; a dropped example's row is read from the table when asked.

    Entries keep the key order they are written with (reason, split, source,
    detail, example/raw), so the file's bytes do not change.
    """

    def __init__(self) -> None:
        self._entries: list[dict] = []
        self._rows = array("q")  # table row of the entry's example, or -1
        self.table: ExampleTable | None = None

    def append(self, entry: dict, row: int = -1) -> None:
        self._entries.append(entry)
        self._rows.append(row)

    def __len__(self) -> int:
        return len(self._entries)

    def __getitem__(self, index: int) -> dict:
        return self._full(index % len(self) if index < 0 else index)

    def __iter__(self) -> Iterator[dict]:
        for k in range(len(self._entries)):
            yield self._full(k)

    def _full(self, k: int) -> dict:
        entry, row = self._entries[k], self._rows[k]
        if row < 0:
            return entry
        return {**entry, "example": self.table.original(row)}

    def __eq__(self, other: object) -> bool:
        return list(self) == list(other) if isinstance(other, list | Rejected) else NotImplemented


def workspace_of(folder: Path | None):
    """A Workspace under `folder` (None: the system's temporary folder), or None without
    pyarrow (the texts then stay in memory)."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return None
    from ftc.dataprep.arrowstore import Workspace

    return Workspace(folder)
