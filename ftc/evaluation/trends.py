"""A logged series in a few numbers: first, last, best and slope per step.

Methods state their own results with these (DPO margins, GRPO's mean reward and its
trend, distillation KL) from the run's log history, train or validation.
"""

from __future__ import annotations

import math


def series(history: list[dict], key: str) -> list[tuple[int, float]]:
    """(step, value) for every log that has a finite number under key."""
    out = []
    for entry in history:
        value = entry.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) \
                and math.isfinite(value):
            out.append((int(entry.get("step", 0)), float(value)))
    return out


def slope(points: list[tuple[int, float]]) -> float | None:
    """Least-squares change per step (None for fewer than two distinct steps)."""
    if len({s for s, _ in points}) < 2:
        return None
    n = len(points)
    mx = sum(s for s, _ in points) / n
    my = sum(v for _, v in points) / n
    sxx = sum((s - mx) ** 2 for s, _ in points)
    return sum((s - mx) * (v - my) for s, v in points) / sxx


def result(history: list[dict], key: str, label: str, split: str,
           with_trend: bool = False) -> dict | None:
    """{'label', 'split', 'first', 'last', ['slope']} for the summary, None if never logged."""
    points = series(history, key)
    if not points:
        return None
    out = {"label": label, "split": split, "key": key,
           "first": points[0][1], "last": points[-1][1]}
    if with_trend:
        out["slope"] = slope(points)
    return out


def results(history: list[dict], wanted: list[tuple[str, str, bool]]) -> list[dict]:
    """Each (key, label, with_trend) from validation logs (eval_key) when there are any,
    else from training logs."""
    out = []
    for key, label, trend in wanted:
        found = result(history, f"eval_{key}", label, "validation", trend) or \
            result(history, key, label, "train", trend)
        if found:
            out.append(found)
    return out
