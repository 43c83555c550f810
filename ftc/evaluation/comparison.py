"""Base vs tuned, read back from metrics.jsonl records (so a resumed run compares the same
baseline it logged before the interruption).

Records carry the baseline as `base_<metric>` (step 0, before any update), each
evaluation as `eval_<metric>` and the test split as `test_<metric>`; the tuned value
of a metric is its last evaluation.
"""

from __future__ import annotations

import math

from ftc.evaluation.tasks import higher_is_better


def latest(records: list[dict], prefix: str, metrics: list[str]) -> dict[str, float]:
    """{metric: last logged value of prefix_metric} for the metrics that were logged."""
    out: dict[str, float] = {}
    for record in records:
        for metric in metrics:
            value = record.get(f"{prefix}_{metric}")
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                out[metric] = float(value)
    return out


def worse(base: dict[str, float], tuned: dict[str, float]) -> list[str]:
    """Metrics that tuning made worse (in their own direction)."""
    out = []
    for metric, before in base.items():
        after = tuned.get(metric)
        if after is None or not (math.isfinite(before) and math.isfinite(after)):
            continue
        if (after < before) if higher_is_better(metric) else (after > before):
            out.append(metric)
    return out


def compare(records: list[dict], metrics: list[str]) -> dict:
    """{'base', 'tuned', 'test', 'worse'} for the metrics asked for."""
    base = latest(records, "base", metrics)
    tuned = latest(records, "eval", metrics)
    return {"base": base or None, "tuned": tuned or None,
            "test": latest(records, "test", metrics) or None,
            "worse": worse(base, tuned)}
