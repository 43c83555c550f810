"""The alert detectors on hand-made logs: each fires on its pattern, and a healthy run raises
none (the same monitor runs inside the trainer; tests/runtime/test_alerts.py provokes each on
the tiny model)."""

from __future__ import annotations

import math

from ftc.evaluation.alerts import AlertMonitor
from ftc.evaluation.tasks import table


def monitor(**kwargs) -> AlertMonitor:
    return AlertMonitor(table()["alerts"], **kwargs)


def feed(m: AlertMonitor, logs: list[tuple[int, dict]]) -> list[str]:
    return [a.kind for step, log in logs for a in m.observe(step, log)]


def healthy() -> list[tuple[int, dict]]:
    logs = []
    for step in range(1, 101):
        logs.append((step, {"loss": 5 * math.exp(-step / 30) + 1 + 0.02 * math.sin(step)}))
        if step % 10 == 0:
            logs.append((step, {"eval_loss": 5 * math.exp(-step / 30) + 1.2}))
    return logs


def test_a_healthy_run_raises_nothing():
    assert feed(monitor(), healthy()) == []


def test_loss_spike():
    m = monitor()
    logs = [(s, {"loss": 3.0 + 0.01 * (s % 3)}) for s in range(1, 12)] + [(12, {"loss": 6.0})]
    assert feed(m, logs) == ["loss_spike"]
    assert "step 12" in m.alerts[0].message and m.alerts[0].record()["value"] == 6.0


def test_no_spike_from_a_small_bump_or_too_few_logs():
    assert feed(monitor(), [(1, {"loss": 3.0}), (2, {"loss": 9.0})]) == []
    bump = [(s, {"loss": 3.0 + 0.2 * (s % 2)}) for s in range(1, 12)] + [(12, {"loss": 3.5})]
    assert feed(monitor(), bump) == []


def test_plateau_fires_once_until_the_metric_improves():
    m = monitor()
    flat = [(s, {"eval_loss": 2.0}) for s in range(0, 60, 10)]
    assert feed(m, flat) == ["plateau"]
    assert feed(m, [(60, {"eval_loss": 1.5}), (70, {"eval_loss": 1.5}), (80, {"eval_loss": 1.5}),
                    (90, {"eval_loss": 1.5})]) == ["plateau"]


def test_plateau_of_a_metric_where_higher_is_better():
    m = monitor(watch="eval_accuracy", higher_is_better=True)
    rising = [(s, {"eval_accuracy": s / 100}) for s in range(0, 60, 10)]
    assert feed(m, rising) == []
    assert feed(m, [(s, {"eval_accuracy": 0.5}) for s in range(60, 100, 10)]) == ["plateau"]


def test_overfitting_needs_validation_up_and_training_down():
    m = monitor()
    logs = []
    for i, step in enumerate(range(10, 60, 10)):
        logs.append((step, {"loss": 2.0 - 0.3 * i}))
        logs.append((step, {"eval_loss": 2.0 + (0.1 * (i - 1) if i > 1 else -0.1 * i)}))
    assert "overfitting" in feed(m, logs)
    both_up = monitor()
    logs = [(s, {"loss": 1.0 + s / 100}) for s in range(10, 60, 10)]
    logs += [(s, {"eval_loss": 1.0 + s / 50}) for s in range(10, 60, 10)]
    assert "overfitting" not in feed(both_up, sorted(logs, key=lambda x: x[0]))


def test_a_non_finite_loss_stops_and_says_how_to_fix_it():
    m = monitor()
    assert feed(m, [(1, {"loss": 2.0}), (2, {"loss": float("nan")})]) == ["nonfinite_loss"]
    assert m.stop and "learning_rate" in m.alerts[0].message
    assert "value" not in m.alerts[0].record()  # NaN is not written as a number
    m = monitor()
    assert feed(m, [(5, {"eval_loss": "inf"})]) == ["nonfinite_loss"]


def test_rlhf_has_no_loss_to_watch():
    m = monitor(train_key=None)
    logs = [(s, {"loss": 0.0}) for s in range(1, 12)] + [(12, {"loss": 1.0})]
    assert feed(m, logs) == []
