"""The launcher's stderr, minus its own traceback once the runtime explained the failure.

When a rank exits 1 after printing `path:line:col: error: FTCnnn ...`,
`accelerate launch` adds a Python traceback of its own (ChildFailedError from
torchrun, CalledProcessError from the one-process launcher) that says nothing
more than "the child failed". `ftc launch` streams stderr through this filter:
everything passes through live (progress bars included) except that one
wrapper traceback, and only after an FTC diagnostic was seen. Any other
traceback (a bug) is shown whole.

It also notes a training process killed by a signal (the OOM killer's SIGKILL,
a scheduler's SIGTERM), as torchrun ("Signal 9 (SIGKILL) received by PID",
with the rank above it) and accelerate's one-process launcher ("died with
<Signals.SIGKILL: 9>") report it, so that `ftc launch` can say so and how to
resume.

Whole lines of known library notices that do not concern the user (accelerate's
thread-count advice, DeepSpeed's accelerator notice, bitsandbytes' kernel notice)
are dropped unless `keep_all` (--verbose).
"""

from __future__ import annotations

import re
import signal
from dataclasses import dataclass
from typing import BinaryIO

HEADER = b"Traceback (most recent call last):"
WRAPPERS = (b"ChildFailedError", b"CalledProcessError")
NOISE = re.compile(rb"|".join([
    rb"^The following values were not passed to `accelerate launch`",
    rb"^\t`--[a-z_]+` was set to ",
    rb"^To avoid this warning pass in values for each of the problematic parameters",
    rb"^\[[^\]]*\] \[WARNING\] \[real_accelerator\.py:\d+:get_accelerator\] Setting accel",
    rb"^Failed to load CPU gemm_4bit_forward from kernels-community",
]))
_TORCHRUN_SIGNAL = re.compile(rb"Signal (\d+) \((SIG\w+)\) received by PID")
_TORCHRUN_RANK = re.compile(rb"^\s*rank\s*:\s*(\d+)")
_DIED_WITH = re.compile(rb"died with <Signals\.(SIG\w+): (\d+)>")


@dataclass(frozen=True)
class Killed:
    """A training process ended by a signal."""

    number: int
    rank: int | None = None

    @property
    def name(self) -> str:
        try:
            return signal.Signals(self.number).name
        except ValueError:
            return f"signal {self.number}"

    def text(self) -> str:
        where = f" on rank {self.rank}" if self.rank is not None else ""
        return f"signal {self.number} ({self.name}){where}"


class LauncherStderr:
    def __init__(self, out: BinaryIO, keep_all: bool = False) -> None:
        self.out = out
        self.keep_all = keep_all
        self.explained = False  # an FTC diagnostic went by
        self.partial = b""  # the current line so far, not yet written
        self.mid_line = False  # part of the current line was already written
        self.held: list[bytes] | None = None  # a traceback being looked at
        self.wrapper = False
        self.rules_after = 0  # "=====" lines seen after a ChildFailedError line
        self.killed: Killed | None = None  # the first training process a signal ended
        self._rank: int | None = None  # the rank of torchrun's failure record being read
        self._in_root_cause = self._root_cause_seen = False
        self._scanned = b""  # the current line so far, for _note_signal

    def feed(self, chunk: bytes) -> None:
        *whole, self._scanned = (self._scanned + chunk).split(b"\n")
        for line in whole:  # whole lines, however the chunks cut them
            self._note_signal(line)
        lines = (self.partial + chunk).split(b"\n")
        self.partial = lines.pop()
        for line in lines:
            self._line(line + b"\n")
        if self.partial and self.held is None and (
                self.mid_line or not HEADER.startswith(self.partial)):
            self._write(self.partial)  # progress bars redraw with \r, never \n
            self.partial, self.mid_line = b"", True
        self.out.flush()

    def close(self) -> None:
        if self.held:
            self._write(b"".join(self.held))
        if self.partial:
            self._write(self.partial)
        self.held, self.partial = None, b""
        self.out.flush()

    def _line(self, line: bytes) -> None:
        starts_line, self.mid_line = not self.mid_line, False
        if self.held is not None:
            self._hold(line)
            return
        if starts_line and self.explained and line.startswith(HEADER):
            self.held, self.wrapper, self.rules_after = [line], False, 0
            return
        if b": error: FTC" in line:
            self.explained = True
        if starts_line and not self.keep_all and NOISE.match(line):
            return
        self._write(line)

    def _hold(self, line: bytes) -> None:
        assert self.held is not None
        self.held.append(line)
        if self.wrapper:
            if line.strip() and set(line.strip()) == {ord("=")}:
                self.rules_after += 1
                if self.rules_after == 2:  # the end of torchrun's failure box
                    self.held = None
            return
        if line.startswith((b" ", b"\t")) or line.startswith(HEADER):
            return  # frames of the traceback
        if any(w in line for w in WRAPPERS):
            self.wrapper = True
            if b"CalledProcessError" in line:
                self.held = None  # one line, nothing follows
            return
        self._write(b"".join(self.held))  # not the launcher's: show it all
        self.held = None

    def _note_signal(self, line: bytes) -> None:
        """torchrun lists the ranks it stopped itself (SIGTERM) under "Failures:" and the
        rank that failed first under "Root Cause": only that one says whether a signal
        ended the run (a rank that exited 1 was not killed, whatever came after)."""
        if self._root_cause_seen:
            return
        if b"Root Cause" in line:  # what came before were torchrun's own stops
            self._in_root_cause, self.killed = True, None
        rank = _TORCHRUN_RANK.match(line)
        if rank:
            self._rank = int(rank.group(1))
        found = _TORCHRUN_SIGNAL.search(line)
        died = _DIED_WITH.search(line)
        if found or died:
            killed = Killed(int(found.group(1)), self._rank) if found else \
                Killed(int(died.group(2)), 0)
            if self._in_root_cause:
                self.killed, self._root_cause_seen = killed, True
            elif self.killed is None:
                self.killed = killed

    def _write(self, data: bytes) -> None:
        self.out.write(data)
