"""Measured rows of the oracle: ftc's estimate within 25% of each published figure.

What each row ran is in ftc/memory/oracle_cases.yaml; the figure is parsed
from ../shared/corpus/memory-oracle.md.  `make bench` prints the same
comparison next to accelerate's 4 x weights rule.
"""

from __future__ import annotations

import pytest

from ftc.memory.estimator import estimate
from ftc.memory.oracle import cases, compare, compare_all, median_abs_error, read_oracle
from ftc.memory.shapes import from_table
from ftc.memory.workload import Workload

CASES = cases()


@pytest.mark.parametrize("case", [c for c in CASES if c.metric != "fits"],
                         ids=lambda c: f"row{c.row}-{c.label[:30]}")
def test_measured_row_within_25_percent(case, oracle_path):
    result = compare(case, read_oracle(oracle_path))
    assert abs(result.error) <= 0.25, (
        f"row {case.row}: ftc {result.ftc / 2**30:.2f} GiB vs published "
        f"{result.published / 2**30:.2f} GiB ({result.error:+.1%})")


def test_every_measured_row_with_a_figure_is_covered(oracle_path):
    rows = read_oracle(oracle_path)
    measured = {n for n, r in rows.items() if len(r.cells) >= 11}
    covered = {c.row for c in CASES}
    # Rows 35 (input-gradient parts) and 36 (fit) are partial; every row is used.
    assert measured <= covered, sorted(measured - covered)


def test_row36_65b_qlora_fits_48gb_and_16bit_full_does_not(oracle_path):
    case = next(c for c in CASES if c.row == 36)
    result = compare(case, read_oracle(oracle_path))
    assert result.details["fits"], result.details
    # "... (vs >780 GB for 16-bit full FT)": the same model trained in full.
    full = Workload(from_table("huggyllama/llama-65b"), base_dtype="fp32", precision="bf16",
                    micro_batch=1, seq_len=512, gradient_checkpointing=True)
    assert estimate(full).expected > 780e9


def test_median_error_goal_and_better_than_the_4x_rule(oracle_path):
    results = compare_all(oracle_path)
    ftc, rule = median_abs_error(results), median_abs_error(results, rule=True)
    assert ftc <= 0.10, f"median |error| {ftc:.1%}"
    assert ftc < rule / 2
