"""Row texts in Arrow IPC files, read back memory-mapped: the rows live on disk, not in Python.

A million rows as Python strings cost about 1.4 KB each; written here they cost
nothing resident but the page cache, and the pipeline keeps per row only numpy
columns (file, line, split, key).  The format is Arrow's IPC file, the one
`datasets` memory-maps; pyarrow is used directly because the pipeline needs only
two operations, "append a row" and "read rows by index", and `datasets.Dataset`
costs more per call than a row lookup is worth.

Pages of a memory map that were read stay in the process's resident set until the
map is closed, so a reader re-opens its map after it has touched REMAP_BYTES: the
resident set stays bounded however large the file.  A reader used in a forked
child re-opens its own map the first time (see `TextReader._file_for_use`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path

BATCH_ROWS = 4096  # rows per record batch
BATCH_BYTES = 32 << 20  # and at most this much text, so a batch's offsets fit int32
REMAP_BYTES = 8 << 20  # touched bytes after which a reader re-opens its memory map
# What one random read costs the resident set: the kernel maps up to 16 cached pages
# around each page fault (fault-around), and a lookup touches three places.
_GET_COST = 3 * 64 << 10


class Workspace:
    """A private folder for one pipeline's Arrow files, removed when closed (or collected)."""

    def __init__(self, parent: Path | None = None) -> None:
        if parent is not None:
            Path(parent).mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=".ftc-data-",
                                          dir=str(parent) if parent else None))
        self._count = 0
        self._cleanup = weakref.finalize(self, shutil.rmtree, str(self.path), True)

    def new_file(self, stem: str) -> Path:
        self._count += 1
        return self.path / f"{self._count:04d}-{stem}.arrow"

    def close(self) -> None:
        self._cleanup()


class TextWriter:
    """Append rows of string columns (None allowed); `finish()` gives the reader."""

    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        import pyarrow as pa

        self.path, self.columns = Path(path), tuple(columns)
        self._schema = pa.schema([(c, pa.string()) for c in self.columns])
        self._sink = pa.OSFile(str(self.path), "wb")
        self._writer = pa.ipc.new_file(self._sink, self._schema)
        self._buf: list[list] = [[] for _ in self.columns]
        self._bytes = 0
        self.rows = 0

    def append(self, *values: str | None) -> int:
        """Store one row; returns its index."""
        for buf, value in zip(self._buf, values, strict=True):
            buf.append(value)
            if value:
                self._bytes += len(value)
        self.rows += 1
        if len(self._buf[0]) >= BATCH_ROWS or self._bytes >= BATCH_BYTES:
            self._flush()
        return self.rows - 1

    def _flush(self) -> None:
        import pyarrow as pa

        if self._buf[0]:
            arrays = [pa.array(values, pa.string()) for values in self._buf]
            self._writer.write_batch(pa.record_batch(arrays, schema=self._schema))
        self._buf = [[] for _ in self.columns]
        self._bytes = 0

    def close(self) -> Path:
        """Write what is left and the footer; returns the file's path."""
        self._flush()
        self._writer.close()
        self._sink.close()
        return self.path

    def finish(self) -> TextReader:
        return TextReader(self.close())


class TextReader:
    """Rows of a TextWriter's file by index, through a memory map (re-opened to bound RSS)."""

    def __init__(self, path: Path) -> None:
        import numpy as np

        self.path = Path(path)
        self._open()
        sizes = [self._file.get_batch(b).num_rows for b in range(self._file.num_record_batches)]
        self.starts = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])

    def _open(self) -> None:
        import pyarrow as pa

        self._pid = os.getpid()
        self._map = pa.memory_map(str(self.path), "r")
        self._file = pa.ipc.open_file(self._map)
        self._touched = 0

    def _file_for_use(self, cost: int):
        if self._pid != os.getpid() or self._touched > REMAP_BYTES:
            self.close()
            self._open()
        self._touched += cost
        return self._file

    def __len__(self) -> int:
        return int(self.starts[-1])

    def close(self) -> None:
        self._file = None
        if self._pid == os.getpid():
            self._map.close()

    def _column(self, b: int, column: int):
        array = self._file_for_use(0).get_batch(b).column(column)
        self._touched += array.nbytes
        return array

    def get(self, i: int, column: int = 0) -> str | None:
        """One value (a few pages touched)."""
        import numpy as np

        b = int(np.searchsorted(self.starts, i, side="right")) - 1
        batch = self._file_for_use(_GET_COST).get_batch(b)
        return batch.column(column)[i - int(self.starts[b])].as_py()

    def take(self, rows, column: int = 0) -> Iterator[str | None]:
        """Values of `rows` (ascending runs read whole batches at once), in the order given."""
        import numpy as np

        rows = np.asarray(rows, dtype=np.int64)
        if not len(rows):
            return
        where = np.searchsorted(self.starts, rows, side="right") - 1
        cuts = np.flatnonzero(where[1:] != where[:-1]) + 1
        for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(rows)], strict=True):
            b = int(where[lo])
            local = rows[lo:hi] - self.starts[b]
            array = self._column(b, column)
            if hi - lo == len(array) and np.array_equal(local, np.arange(hi - lo)):
                yield from array.to_pylist()
            else:
                yield from array.take(local).to_pylist()

    def scan(self, column: int = 0, start: int = 0, stop: int | None = None) -> Iterator:
        """Values of rows start..stop in order."""
        import numpy as np

        stop = len(self) if stop is None else stop
        yield from self.take(np.arange(start, stop, dtype=np.int64), column)
