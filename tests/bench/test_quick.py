"""Each benchmark's --quick smoke run, so the benchmark code cannot rot unnoticed.

The numbers of a quick run mean nothing (one round, tiny workloads); these tests
check that every case runs and every comparison is printed with its range.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RATIO = r"\d+\.\d\dx \(\d+\.\d\d-\d+\.\d\d, 1 pairs, load \d+\.\d-\d+\.\d\)"


def quick(*names: str) -> str:
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", *names],
                          capture_output=True, text=True, cwd=ROOT, timeout=900, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_compiler_and_memory_quick_runs():
    out = quick("compiler", "memory")
    assert re.search(r"ftc lint, 1 recipe, cold +\d\.\d{3} s \(", out)
    assert "1 interleaved rounds after 1 warm-up, load" in out
    assert "held-out rows (not used for fitting)" in out or "skipped:" in out


@pytest.mark.slow
def test_runtime_quick_run_trains_both_sides_and_prints_a_paired_ratio():
    out = quick("runtime")
    assert re.search(r"TRL group_by_length, skewed +\d+ tok/s \(", out)
    assert re.search(r"ftc packed, skewed +\d+ tok/s \(", out)
    assert re.search(r"ftc packed, skewed / TRL group_by_length\s.*" + RATIO, out)


def test_fewer_than_five_rounds_need_the_quick_flag():
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--rounds", "3", "memory",
                           "compiler"], capture_output=True, text=True, cwd=ROOT, timeout=300,
                          check=False)
    assert done.returncode != 0 and "at least 5" in done.stderr
