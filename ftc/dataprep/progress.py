"""One progress line per pipeline stage: rows done, rows/s and the time left.

Written to stderr only when stderr is a terminal (a log file or a test gets
nothing), redrawn in place at most 4 times a second, and left as a summary
line when the stage ends ("dedup: 1,000,000 rows in 41.2 s, 24,271 rows/s").
FTC_PROGRESS=0 turns it off, FTC_PROGRESS=1 on (e.g. under a pager).
"""

from __future__ import annotations

import os
import sys
import time

_EVERY_S = 0.25


def enabled() -> bool:
    forced = os.environ.get("FTC_PROGRESS")
    if forced in ("0", "1"):
        return forced == "1"
    return sys.stderr.isatty()


class Progress:
    """Count rows through one stage; `with Progress("validate", total) as p: p.advance(n)`."""

    def __init__(self, stage: str, total: int, on: bool | None = None) -> None:
        self.stage, self.total = stage, total
        self.on = enabled() if on is None else on
        self.done = 0
        self.start = self.last = time.monotonic()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(ok=exc[0] is None)

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self.on:
            now = time.monotonic()
            if now - self.last >= _EVERY_S:
                self.last = now
                self._write(self.line(now), end="\r")

    def line(self, now: float) -> str:
        elapsed = max(now - self.start, 1e-9)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate if rate and self.total > self.done else 0.0
        return (f"{self.stage}: {self.done:,}/{self.total:,} rows, {rate:,.0f} rows/s, "
                f"ETA {left:.0f} s")

    def close(self, ok: bool = True) -> None:
        if not self.on:
            return
        elapsed = time.monotonic() - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        summary = (f"{self.stage}: {self.done:,} rows in {elapsed:.1f} s, {rate:,.0f} rows/s"
                   if ok else f"{self.stage}: stopped after {self.done:,} rows")
        self._write(summary, end="\n")
        self.on = False

    @staticmethod
    def _write(text: str, end: str) -> None:
        sys.stderr.write("\r\x1b[2K" + text + end)
        sys.stderr.flush()
