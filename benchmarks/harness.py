"""One timing harness for every benchmark: interleaved rounds and paired ratios.

A shared machine drifts (other jobs start and stop), so two cases measured one
after the other compare two different machines.  Here every case runs once per
round, in an order that rotates and reverses from round to round (no case always
runs first or last), and each comparison is the median of the per-round ratios
with their range: a ratio of two medians would pair runs that never ran side by
side.  The 1-minute load average is recorded at the start of every round and
printed beside each result, so a reader can see how quiet the machine was.

At least MIN_ROUNDS rounds; fewer only with allow_few=True (a smoke test).
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

MIN_ROUNDS = 5


@dataclass(frozen=True)
class Rounds:
    """Every case's measurement per round (index = round), and the load per round."""

    values: dict[str, list[float]]
    loads: list[float] = field(default_factory=list)

    def median(self, name: str) -> float:
        return statistics.median(self.values[name])

    def text(self, name: str, unit: str = "s", digits: int = 3) -> str:
        """e.g. '0.172 s (0.160-0.190)': the median and the range over the rounds."""
        v = self.values[name]
        return (f"{statistics.median(v):.{digits}f} {unit} "
                f"({min(v):.{digits}f}-{max(v):.{digits}f})")

    def ratio(self, numerator: str, denominator: str) -> Ratio:
        """numerator / denominator, paired round by round."""
        return paired_ratio(self.values[numerator], self.values[denominator], self.loads)


@dataclass(frozen=True)
class Ratio:
    """The median of paired ratios, their min and max, and the load they ran at."""

    ratios: list[float]
    loads: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.ratios)

    @property
    def low(self) -> float:
        return min(self.ratios)

    @property
    def high(self) -> float:
        return max(self.ratios)

    def meets(self, target: float) -> bool:
        """The median reaches the target (the range is shown, not judged)."""
        return self.median >= target

    def text(self) -> str:
        """e.g. '1.03x (0.98-1.07, 5 pairs, load 0.8-1.4)'."""
        return (f"{self.median:.2f}x ({self.low:.2f}-{self.high:.2f}, {len(self.ratios)} "
                f"pairs, {load_text(self.loads)})")


def load_text(loads: list[float]) -> str:
    if not loads:
        return "load n/a"
    return f"load {min(loads):.1f}-{max(loads):.1f}"


def machine_load() -> float:
    """The 1-minute load average (runnable processes; compare with os.cpu_count())."""
    return os.getloadavg()[0]


def order(names: list[str], round_index: int) -> list[str]:
    """The order of the cases in one round: rotated by the round, reversed every other cycle.

    With two cases this is A B, B A, A B, ...; with more, each case takes every
    position, and the second cycle reverses the first, so the case that ran
    before another one also runs after it.
    """
    if not names:
        return []
    n = len(names)
    rotated = names[round_index % n:] + names[:round_index % n]
    return rotated[::-1] if n > 2 and (round_index // n) % 2 else rotated


def check_rounds(rounds: int, allow_few: bool) -> None:
    if rounds < 1 or (rounds < MIN_ROUNDS and not allow_few):
        raise ValueError(f"{rounds} rounds: at least {MIN_ROUNDS} are needed for a paired "
                         "ratio with a range (allow_few=True, e.g. --quick, for a smoke test)")


def interleave(cases: dict[str, Callable[[], float]], rounds: int = MIN_ROUNDS,
               warmup: int = 0, allow_few: bool = False,
               load: Callable[[], float] = machine_load,
               progress: Callable[[str], None] | None = None) -> Rounds:
    """Run every case once per round in the rotating order; `warmup` unrecorded rounds first.

    A case returns its measurement (seconds, tokens/s: the caller knows which).
    """
    check_rounds(rounds, allow_few)
    names = list(cases)
    for w in range(warmup):
        for name in order(names, w):
            cases[name]()
    values: dict[str, list[float]] = {name: [0.0] * rounds for name in names}
    loads = []
    for r in range(rounds):
        loads.append(load())
        for name in order(names, r):
            values[name][r] = cases[name]()
            if progress:
                progress(f"round {r + 1}/{rounds} {name}: {values[name][r]:.4g}")
    return Rounds(values, loads)


def paired_ratio(numerators: list[float], denominators: list[float],
                 loads: list[float] | None = None) -> Ratio:
    """Per-round ratios numerators[i] / denominators[i] (same length, no zero denominators)."""
    if len(numerators) != len(denominators) or not numerators:
        raise ValueError("paired ratios need the same, non-zero number of values on both sides")
    return Ratio([n / d for n, d in zip(numerators, denominators, strict=True)],
                 list(loads or []))


def speedup(seconds_a: list[float], seconds_b: list[float],
            loads: list[float] | None = None) -> Ratio:
    """How many times faster A is than B, from times (B's seconds / A's seconds, per round)."""
    return paired_ratio(seconds_b, seconds_a, loads)
