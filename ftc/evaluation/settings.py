"""The lock's `evaluation:` block as one object, with the table's values where the lock
has none (a lock whose task is `auto` leaves metrics and max_new_tokens to the runtime).

`decide(...)` settles what a compiled lock could not: the task of `auto` from the
prepared data, the metrics and answer length for that task, and whether the
baseline runs (`auto`: when the validation set is small enough).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ftc.evaluation import tasks


@dataclass
class EvalSettings:
    """What one run evaluates and how; `task` is never `auto` once decided."""

    kind: str
    task: str = "auto"
    task_source: str = "recipe"
    metrics: list[str] | None = None
    label_pattern: str | None = None
    max_samples: int = 200
    max_new_tokens: int | None = None
    batch_size: int = 16
    samples: int = 4
    every: int | None = None
    at_end: bool = True
    baseline: bool | str = "auto"
    baseline_reason: str = ""
    seed: int = 42
    alerts: dict = field(default_factory=dict)

    @property
    def generated(self) -> list[str]:
        """The metrics computed from generated answers."""
        return [m for m in self.metrics or [] if m in tasks.GENERATED]

    @property
    def task_metrics(self) -> list[str]:
        """The metrics ftc computes itself (the trainer gives loss and perplexity)."""
        return [m for m in self.metrics or [] if m in tasks.TASK_METRICS]


def from_lock(values: dict) -> EvalSettings:
    """EvalSettings from lock values (a plain dict), table defaults filling the gaps."""
    table = tasks.table()
    block = values.get("evaluation") or {}
    kind = (values.get("method") or {}).get("kind", "lora")
    alerts = {name: {**table["alerts"][name], **(block.get("alerts") or {}).get(name, {})}
              for name in table["alerts"]}
    return EvalSettings(
        kind=kind,
        task=block.get("task", "auto"),
        metrics=list(block["metrics"]) if "metrics" in block else None,
        label_pattern=block.get("label_pattern"),
        max_samples=int(block.get("max_samples", table["max_samples"]["default"])),
        max_new_tokens=block.get("max_new_tokens"),
        batch_size=int(block.get("batch_size", table["batch_size"]["default"])),
        samples=int(block.get("samples", table["samples"]["default"])),
        every=block.get("every"),
        at_end=bool(block.get("at_end", table["at_end"]["default"])),
        baseline=block.get("baseline", table["baseline"]["default"]),
        seed=int((values.get("training") or {}).get("seed", 42)),
        alerts=alerts,
    )


def decide(settings: EvalSettings, data_format: str, records: list[dict],
           validation_rows: int) -> EvalSettings:
    """Settle task (auto: from the data), metrics, answer length and the baseline."""
    from ftc.evaluation.examples import detect_task

    if settings.task == "auto":
        settings.task, settings.task_source = detect_task(
            data_format, records, settings.label_pattern,
            int(tasks.table()["classification"]["max_labels"]))
    if settings.metrics is None:
        settings.metrics = tasks.default_metrics(settings.task, settings.kind)
    if settings.max_new_tokens is None:
        settings.max_new_tokens = tasks.default_max_new_tokens(settings.task)
    settings.max_new_tokens = int(settings.max_new_tokens)
    limit = int(tasks.table()["baseline"]["max_examples"])
    if settings.baseline == "auto":
        settings.baseline = 0 < validation_rows <= limit
        settings.baseline_reason = (f"auto: {validation_rows} validation examples "
                                    f"{'<=' if settings.baseline else '>'} {limit}")
    else:
        settings.baseline_reason = "recipe"
    if validation_rows == 0:
        settings.baseline, settings.baseline_reason = False, "no validation data"
    return settings
