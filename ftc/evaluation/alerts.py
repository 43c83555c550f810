"""The failure patterns a run is watched for, as plain detectors over its logs.

    loss spike    a training loss beyond `sigmas` standard deviations above the mean of the
                  previous `window` logged losses (and at least `min_rise` above it, relative)
    plateau       the watched validation metric has not improved by `min_delta` (relative)
                  over the last `evaluations` evaluations
    overfitting   validation loss rose at each of the last `evaluations` evaluations (by
                  `min_rise` in all, relative) while the training loss fell
    non-finite    a NaN or infinite loss: the run stops (`stop` is set)

Thresholds come from the tables (ftc/tables/hyperparameters.yaml evaluation.alerts) or
the recipe's `evaluation.alerts`. No torch here: the same monitor runs inside a
TrainerCallback on every rank (their logs are identical) and in unit tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class Alert:
    kind: str  # loss_spike | plateau | overfitting | nonfinite_loss
    step: int
    message: str
    value: float | None = None

    def record(self) -> dict:
        """The alert as a metrics.jsonl / summary.json entry."""
        out = {"step": self.step, "alert": self.kind, "message": self.message}
        if self.value is not None and math.isfinite(self.value):
            out["value"] = self.value
        return out


class AlertMonitor:
    """Feed it every log (step, dict); it returns the alerts that log raised."""

    def __init__(self, thresholds: dict, watch: str = "eval_loss", higher_is_better: bool = False,
                 train_key: str | None = "loss") -> None:
        self.t = thresholds
        self.watch, self.higher = watch, higher_is_better
        self.train_key = train_key
        self.train: list[tuple[int, float]] = []
        self.evals: list[tuple[int, float]] = []  # eval_loss
        self.watched: list[float] = []
        self.on_plateau = self.overfitting = False
        self.stop = False
        self.alerts: list[Alert] = []

    def observe(self, step: int, logs: dict) -> list[Alert]:
        found = self._nonfinite(step, logs)
        if not found:
            found += self._train(step, logs)
            found += self._eval(step, logs)
        self.alerts += found
        return found

    # ------------------------------------------------------------------ detectors

    def _nonfinite(self, step: int, logs: dict) -> list[Alert]:
        for key in (self.train_key, "eval_loss"):
            value = _number(logs.get(key)) if key else None
            if value is not None and not math.isfinite(value):
                self.stop = True
                where = "training" if key == self.train_key else "validation"
                return [Alert("nonfinite_loss", step,
                              f"{where} loss is {value} at step {step}; training stopped "
                              "(lower training.learning_rate, keep max_grad_norm > 0, or use "
                              "bf16/fp32 instead of fp16)", value)]
        return []

    def _train(self, step: int, logs: dict) -> list[Alert]:
        value = _number(logs.get(self.train_key)) if self.train_key else None
        if value is None:
            return []
        spike = self.t["loss_spike"]
        window = [v for _, v in self.train[-int(spike["window"]):]]
        self.train.append((step, value))
        if len(window) < max(3, int(spike["window"]) // 2):
            return []
        mean = sum(window) / len(window)
        std = math.sqrt(sum((v - mean) ** 2 for v in window) / len(window))
        if value > mean + float(spike["sigmas"]) * std and \
                value > mean + abs(mean) * float(spike["min_rise"]):
            return [Alert("loss_spike", step,
                          f"loss spike at step {step}: {value:.4g} against {mean:.4g} "
                          f"± {std:.2g} over the previous {len(window)} logs", value)]
        return []

    def _eval(self, step: int, logs: dict) -> list[Alert]:
        found = []
        loss = _number(logs.get("eval_loss"))
        if loss is not None:
            self.evals.append((step, loss))
            found += self._overfitting(step)
        watched = _number(logs.get(self.watch))
        if watched is not None:
            self.watched.append(watched)
            found += self._plateau(step)
        return found

    def _plateau(self, step: int) -> list[Alert]:
        n, min_delta = int(self.t["plateau"]["evaluations"]), float(self.t["plateau"]["min_delta"])
        values = self.watched if self.higher else [-v for v in self.watched]  # higher = better
        if len(values) <= n:
            return []
        before, recent = max(values[:-n]), max(values[-n:])
        improved = recent - before > abs(before) * min_delta
        if improved:
            self.on_plateau = False
            return []
        if self.on_plateau:
            return []
        self.on_plateau = True
        best = before if self.higher else -before
        return [Alert("plateau", step,
                      f"plateau at step {step}: {self.watch} has not improved on {best:.4g} "
                      f"over the last {n} evaluations", self.watched[-1])]

    def _overfitting(self, step: int) -> list[Alert]:
        n, min_rise = (int(self.t["overfitting"]["evaluations"]),
                       float(self.t["overfitting"]["min_rise"]))
        if len(self.evals) <= n:
            return []
        recent = [v for _, v in self.evals[-(n + 1):]]
        rising = all(b > a for a, b in zip(recent, recent[1:], strict=False)) and \
            recent[-1] - recent[0] > abs(recent[0]) * min_rise
        if not rising:
            self.overfitting = False
            return []
        since = self.evals[-(n + 1)][0]
        then = [v for s, v in self.train if s <= since][-3:]
        now = [v for s, v in self.train if s > since][-3:]
        if self.overfitting or not then or not now or sum(now) / len(now) >= sum(then) / len(then):
            return []
        self.overfitting = True
        return [Alert("overfitting", step,
                      f"overfitting at step {step}: validation loss rose {recent[0]:.4g} -> "
                      f"{recent[-1]:.4g} over {n} evaluations while training loss fell "
                      f"{sum(then) / len(then):.4g} -> {sum(now) / len(now):.4g}", recent[-1])]


def _number(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and value.lower() in ("nan", "inf", "-inf", "infinity"):
        return float(value)
    return None
