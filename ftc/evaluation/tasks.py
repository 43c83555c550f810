"""Tasks and metrics: what each task measures, read from the hyperparameter tables.

Pure data lookups shared by the compiler (defaults, lint) and the runtime
(auto-detected tasks), so both sides agree on one table:
ftc/tables/hyperparameters.yaml `evaluation:`.
"""

from __future__ import annotations

from ftc.tables import hyperparameters

TASKS = ("classification", "generation", "chat", "preference")
# metric -> (higher is better, what it needs)
METRICS: dict[str, tuple[bool, str]] = {
    "accuracy": (True, "labels"),
    "f1": (True, "labels"),
    "exact_match": (True, "labels"),
    "bleu": (True, "references"),
    "rouge_l": (True, "references"),
    "preference_accuracy": (True, "pairs"),
    "loss": (False, "loss"),
    "perplexity": (False, "loss"),
}
LABEL_METRICS = ("accuracy", "f1", "exact_match")
TEXT_METRICS = ("bleu", "rouge_l")
GENERATED = LABEL_METRICS + TEXT_METRICS  # metrics computed from generated answers
TASK_METRICS = GENERATED + ("preference_accuracy",)  # computed by ftc, not by the trainer
LABELS = {"accuracy": "accuracy", "f1": "macro F1", "exact_match": "exact match",
          "bleu": "BLEU", "rouge_l": "ROUGE-L", "preference_accuracy": "preference accuracy",
          "loss": "loss", "perplexity": "perplexity"}
# kinds whose trainer loss is not a per-token cross-entropy: no perplexity
NO_PERPLEXITY = ("dpo", "reward", "rlhf")
NO_LOSS = ("rlhf",)  # GRPO's loss is a policy objective, not a measure of the model


def table() -> dict:
    return hyperparameters()["evaluation"]


def higher_is_better(metric: str) -> bool:
    return METRICS[metric][0]


def default_metrics(task: str, kind: str) -> list[str]:
    """The table's metrics for a task, minus what means nothing for the method kind."""
    if kind == "rlhf":
        return []  # prompts only: no references to score against; GRPO reports its reward
    metrics = list(table()["metrics"][task])
    if kind in NO_PERPLEXITY:
        metrics = [m for m in metrics if m != "perplexity"]
    if kind in NO_LOSS:
        metrics = [m for m in metrics if m != "loss"]
    return metrics


def default_max_new_tokens(task: str) -> int:
    return int(table()["max_new_tokens"][task])


def unfit_metric(metric: str, task: str | None, kind: str) -> str | None:
    """Why `metric` cannot be measured for this task and kind (None when it can)."""
    needs = METRICS[metric][1]
    if kind == "rlhf" and needs in ("labels", "references", "pairs", "loss"):
        return "an rlhf run has prompts only (no reference answers), and its loss is GRPO's " \
               "objective; its results are the reward model's scores"
    if metric == "perplexity" and kind in NO_PERPLEXITY:
        return f"the {kind} loss is not a per-token cross-entropy, so exp(loss) is no perplexity"
    if task == "preference" and needs in ("labels", "references"):
        return "preference pairs are scored by which answer the model prefers " \
               "(preference_accuracy), not by generated text"
    if task not in (None, "auto", "preference") and needs == "pairs":
        return f"preference_accuracy needs preference pairs; the task is {task}"
    return None
