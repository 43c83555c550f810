"""Lint checks for the `evaluation:` block (compiler side: no torch).

`check(resolved)` returns the errors and `advise(resolved)` the warnings, each as
(dotted path, message, hint), registered by ftc.compiler.lint_rules as FTC130/FTC131:

- a metric the task or method cannot measure (BLEU of preference pairs, perplexity of a
  DPO loss, anything that needs references in an rlhf run);
- a label_pattern that is not a regular expression, or has more than one group;
- early stopping on a task metric that evaluation.metrics does not compute;
- (warnings) early stopping on a task metric computed less often than the trainer
  evaluates; a label_pattern no metric uses; a baseline asked for without validation data.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ftc.evaluation.tasks import LABEL_METRICS, TASK_METRICS, unfit_metric

Finding = tuple[str, str, str | None]


def check(r) -> list[Finding]:
    return [*_unfit_metrics(r), *_label_pattern(r), *_early_stopping_metric(r)]


def advise(r) -> list[Finding]:
    out: list[Finding] = []
    metric = r.get("training.early_stopping.metric", "eval_loss")
    every, eval_every = r.get("evaluation.every"), r.get("training.eval.every")
    if r.get("training.early_stopping.enabled") and metric in TASK_METRICS and every and \
            eval_every and every != eval_every:
        out.append(("evaluation.every", f"early stopping watches {metric}, computed every "
                    f"{every} steps, but the trainer evaluates every {eval_every}: the "
                    "evaluations without it cannot stop the run",
                    "leave evaluation.every unset (it follows training.eval.every)"))
    metrics = r.get("evaluation.metrics")
    if r.has("evaluation.label_pattern") and metrics is not None and \
            not set(metrics) & set(LABEL_METRICS):
        out.append(("evaluation.label_pattern", "label_pattern is used only by the label "
                    "metrics (accuracy, f1, exact_match), and none is asked for",
                    "add accuracy/f1 to evaluation.metrics, or set evaluation.task: "
                    "classification"))
    if r.get("evaluation.baseline") is True and not (
            r.get("data.validation") or r.get("data.split.validation")):
        out.append(("evaluation.baseline", "the baseline is evaluated on the validation "
                    "data, and there is none: it is skipped",
                    "add data.validation or a validation split"))
    return out


def _unfit_metrics(r) -> Iterator[Finding]:
    task, kind = r.get("evaluation.task"), r.get("method.kind")
    for metric in r.get("evaluation.metrics") or []:
        why = unfit_metric(metric, task, kind)
        if why:
            yield ("evaluation.metrics", f"metric {metric!r} cannot be measured here: {why}",
                   "leave evaluation.metrics unset for the task's defaults")


def _label_pattern(r) -> Iterator[Finding]:
    pattern = r.get("evaluation.label_pattern")
    if pattern is None:
        return
    try:
        groups = re.compile(pattern).groups
    except re.error as exc:
        yield ("evaluation.label_pattern", f"label_pattern is not a regular expression: {exc}",
               "e.g. '^Category: *(\\w+)' (the first group is the label)")
        return
    if groups > 1:
        yield ("evaluation.label_pattern", f"label_pattern has {groups} groups; the label "
               "is one group (or the whole match)", "make the others non-capturing: (?:...)")


def _early_stopping_metric(r) -> Iterator[Finding]:
    metric = r.get("training.early_stopping.metric", "eval_loss")
    if not r.get("training.early_stopping.enabled") or metric not in TASK_METRICS:
        return
    metrics = r.get("evaluation.metrics")
    if metrics is not None and metric not in metrics:
        yield ("training.early_stopping.metric", f"early stopping watches {metric}, which "
               "evaluation.metrics does not compute", f"add {metric} to evaluation.metrics")
        return
    why = unfit_metric(metric, r.get("evaluation.task"), r.get("method.kind"))
    if why and metrics is None:
        yield ("training.early_stopping.metric", f"early stopping cannot watch {metric}: "
               f"{why}", "watch eval_loss")
