"""The timing harness's arithmetic and order: no timing is asserted."""

from __future__ import annotations

import pytest

from benchmarks.harness import MIN_ROUNDS, interleave, order, paired_ratio, speedup


def test_two_cases_alternate_which_runs_first():
    assert [order(["A", "B"], r) for r in range(4)] == [["A", "B"], ["B", "A"]] * 2


def test_every_case_takes_every_position_over_the_rounds():
    names = ["a", "b", "c"]
    rounds = [order(names, r) for r in range(6)]
    assert all(sorted(r) == names for r in rounds)
    for position in range(3):
        assert {r[position] for r in rounds} == set(names)
    assert rounds[:3] == [["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"]]
    assert rounds[3:] == [["c", "b", "a"], ["a", "c", "b"], ["b", "a", "c"]]  # reversed cycle


def test_interleave_runs_in_that_order_after_unrecorded_warmup():
    calls: list[str] = []

    def case(name: str, value: float):
        def run() -> float:
            calls.append(name)
            return value + len(calls)  # each call's value is distinct
        return run

    loads = iter([0.5, 0.7, 0.6, 0.9, 1.1])
    result = interleave({"A": case("A", 100.0), "B": case("B", 200.0)}, rounds=5, warmup=1,
                        load=lambda: next(loads))
    assert calls == ["A", "B"] + ["A", "B", "B", "A", "A", "B", "B", "A", "A", "B"]
    # warm-up values (calls 1 and 2) are not recorded; round 2 ran B (call 5) then A (call 6)
    assert result.values["A"] == [103.0, 106.0, 107.0, 110.0, 111.0]
    assert result.values["B"] == [204.0, 205.0, 208.0, 209.0, 212.0]
    assert result.loads == [0.5, 0.7, 0.6, 0.9, 1.1]


def test_paired_ratio_is_the_median_of_per_round_ratios_not_a_ratio_of_medians():
    a = [10.0, 30.0, 20.0, 40.0, 50.0]
    b = [10.0, 10.0, 10.0, 40.0, 100.0]
    r = paired_ratio(a, b, loads=[0.2, 1.5, 0.9, 1.0, 1.0])
    assert r.ratios == [1.0, 3.0, 2.0, 1.0, 0.5]
    assert r.median == 1.0  # the ratio of the medians would say 30 / 10 = 3.0
    assert (r.low, r.high) == (0.5, 3.0)
    assert r.text() == "1.00x (0.50-3.00, 5 pairs, load 0.2-1.5)"
    assert r.meets(1.0) and not r.meets(1.01)


def test_speedup_from_seconds_is_the_slower_side_over_the_faster():
    r = speedup([1.0, 2.0, 1.0, 1.0, 1.0], [2.0, 2.0, 3.0, 2.0, 2.0])
    assert r.ratios == [2.0, 1.0, 3.0, 2.0, 2.0] and r.median == 2.0


def test_fewer_rounds_only_when_asked():
    with pytest.raises(ValueError, match=f"at least {MIN_ROUNDS}"):
        interleave({"A": lambda: 1.0}, rounds=MIN_ROUNDS - 1)
    assert interleave({"A": lambda: 1.0}, rounds=1, allow_few=True).values == {"A": [1.0]}
    with pytest.raises(ValueError):
        paired_ratio([1.0, 2.0], [1.0])
