"""The TrainerCallbacks that evaluate a run while it trains, on every process.

RunEvaluation
    step 0 (before any update): the baseline, `base_<metric>`, on the untuned model
        (for prefix tuning, whose fresh prefix already changes the outputs, with the
        prefix disabled, loss included);
    each evaluation due (every `evaluation.every` steps, and the last step): the task
        metrics on the validation examples, `eval_<metric>`, added to the trainer's
        metrics (early stopping and the best checkpoint can use them) and logged;
    the test split (train_job evaluates it at the end): `test_<metric>`;
    each of these writes its first `samples` answers to samples.jsonl.
RunAlerts
    every log goes through the AlertMonitor; alerts go to the console, metrics.jsonl
    and the summary; a non-finite loss raises LossNotFinite (on every rank at once: the
    logged loss is already averaged over processes), which ends training.

Both need the trainer (evaluate, log, the unwrapped model): train_job calls
`bind(trainer, stage)` on every callback that has it before training a stage.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from transformers import TrainerCallback

from ftc.evaluation import scoring
from ftc.evaluation.alerts import AlertMonitor
from ftc.evaluation.examples import examples_of
from ftc.evaluation.settings import EvalSettings
from ftc.evaluation.tasks import GENERATED, higher_is_better

SAMPLES_NAME = "samples.jsonl"


class LossNotFinite(Exception):
    """Training stopped: the loss became NaN or infinite (alert already recorded)."""

    def __init__(self, alert) -> None:
        super().__init__(alert.message)
        self.alert = alert


class RunEvaluation(TrainerCallback):
    def __init__(self, settings: EvalSettings, tokenizer, validation: list[dict],
                 run_dir: Path, max_length: int, is_main: bool) -> None:
        self.settings = settings
        self.tokenizer = tokenizer
        self.validation = validation
        self.test: list[dict] = []
        self.run_dir = Path(run_dir)
        self.max_length = max_length
        self.is_main = is_main
        self.trainer = None
        self.stage_name = ""
        self.history: list[dict] = []  # {'phase', 'step', metric: value}

    def bind(self, trainer, stage) -> None:
        self.trainer, self.stage_name = trainer, stage.name
        if stage.eval_records is not None:
            self.validation = stage.eval_records
        self.test = stage.test_dataset.to_list() if stage.test_dataset is not None else []

    # ------------------------------------------------------------------ when

    def on_train_begin(self, args, state, control, **kwargs):
        """The baseline needs an evaluation at step 0: the trainer's own (eval_on_start)
        when it runs one, else one asked for here."""
        if state.global_step == 0 and self.settings.baseline and not args.eval_on_start \
                and self.trainer is not None and self.trainer.eval_dataset is not None:
            self.trainer.evaluate()

    def on_step_end(self, args, state, control, **kwargs):
        every = self.settings.every
        if every and state.global_step % every == 0 and self.settings.task_metrics and \
                self.trainer is not None and self.trainer.eval_dataset is not None:
            control.should_evaluate = True

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if self.trainer is None or not metrics:
            return
        prefix = _prefix(metrics)
        step = state.global_step
        if prefix == "base":
            return  # the prefix-disabled loss asked for below
        if prefix == "test":
            if self.settings.at_end:
                self._measure("test", self.test, step, metrics)
            return
        if step == 0:
            if self.settings.baseline:
                self._baseline(metrics)
            return
        if self._due(step, state.max_steps):
            self._measure("eval", self.validation, step, metrics)

    def _due(self, step: int, max_steps: int) -> bool:
        every = self.settings.every
        return not every or step % every == 0 or step >= max_steps

    # ------------------------------------------------------------------ what

    def _baseline(self, metrics: dict) -> None:
        model = self._model()
        with _base_model(model) as prompt_learning:
            values = self._task_values("base", self.validation, 0, model)
            loss = metrics.get("eval_loss")
            if prompt_learning:  # the fresh prefix changed the step-0 loss: measure without it
                loss = self.trainer.evaluate(metric_key_prefix="base").get("base_loss")
        if isinstance(loss, (int, float)) and "loss" in (self.settings.metrics or []):
            values["loss"] = float(loss)
            if "perplexity" in self.settings.metrics:
                values["perplexity"] = math.exp(min(float(loss), 50.0))
        for metric, value in values.items():
            metrics[f"eval_{metric}"] = value  # the curve and early stopping start here
        self._log("base", values, 0)

    def _measure(self, prefix: str, records: list[dict], step: int, metrics: dict) -> None:
        values = self._task_values(prefix, records, step, self._model())
        for metric, value in values.items():
            metrics[f"{prefix}_{metric}"] = value
        self._log(prefix, values, step)

    def _task_values(self, phase: str, records: list[dict], step: int, model) -> dict:
        """Task metrics on (a fixed subset of) records, and the sample answers written."""
        s = self.settings
        examples = examples_of(records, s.max_samples, s.seed)
        if not examples:
            return {}
        values: dict[str, float] = {}
        batch = s.batch_size
        generated = [m for m in s.metrics or [] if m in GENERATED]
        wanted = len(examples) if generated else min(s.samples, len(examples))
        outputs: list[str] = []
        if wanted:
            from ftc.evaluation.generation import answer

            outputs = answer(model, self.tokenizer, examples[:wanted], s.max_new_tokens,
                             batch, self.max_length)
        if generated:
            values.update(scoring.score(generated, outputs, [e.reference or "" for e in
                                                              examples], s.label_pattern))
        if "preference_accuracy" in (s.metrics or []):
            from ftc.evaluation.pairs import preference_accuracy

            found = preference_accuracy(model, self.tokenizer, examples, batch,
                                        self.max_length, classifier=s.kind == "reward")
            if found is not None:
                values["preference_accuracy"] = found
        self._write_samples(phase, step, examples[:s.samples], outputs[:s.samples])
        return values

    def _model(self):
        return self.trainer.accelerator.unwrap_model(self.trainer.model)

    def _log(self, prefix: str, values: dict, step: int) -> None:
        if not values:
            return
        self.history.append({"phase": prefix, "step": step, **values})
        self.trainer.log({f"{prefix}_{k}": v for k, v in values.items()})

    def _write_samples(self, phase: str, step: int, examples, outputs) -> None:
        if not self.is_main or not outputs:
            return
        split = "test" if phase == "test" else "validation"
        with (self.run_dir / SAMPLES_NAME).open("a", encoding="utf-8") as fh:
            for example, output in zip(examples, outputs, strict=False):
                fh.write(json.dumps({
                    "step": step, "phase": phase, "split": split, "stage": self.stage_name,
                    "index": example.index, "prompt": example.prompt,
                    "reference": example.reference, "output": output}, sort_keys=True) + "\n")


class _base_model:
    """The untuned model: at step 0 that is the model itself, except for prompt learning
    (a fresh prefix is not the identity), whose adapter is disabled here."""

    def __init__(self, model) -> None:
        config = getattr(model, "active_peft_config", None)
        self.prompt_learning = bool(getattr(config, "is_prompt_learning", False))
        self.model, self.ctx = model, None

    def __enter__(self) -> bool:
        if self.prompt_learning:
            self.ctx = self.model.disable_adapter()
            self.ctx.__enter__()
        return self.prompt_learning

    def __exit__(self, *exc) -> None:
        if self.ctx is not None:
            self.ctx.__exit__(*exc)


class RunAlerts(TrainerCallback):
    """Every log through the AlertMonitor; alerts to stderr, metrics.jsonl and `alerts`."""

    def __init__(self, settings: EvalSettings, record, watch: str = "eval_loss") -> None:
        metric = watch if watch.startswith("eval_") else f"eval_{watch}"
        higher = metric != "eval_loss" and higher_is_better(metric[len("eval_"):])
        self.monitor = AlertMonitor(settings.alerts, metric, higher,
                                    train_key=None if settings.kind == "rlhf" else "loss")
        self.record = record  # writes one record to metrics.jsonl (main process only)

    @property
    def alerts(self) -> list[dict]:
        return [a.record() for a in self.monitor.alerts]

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not logs or self.monitor.stop:
            return
        for alert in self.monitor.observe(state.global_step, logs):
            if state.is_world_process_zero:
                sys.stderr.write(f"ftc: alert: {alert.message}\n")
                sys.stderr.flush()
                self.record(alert.record())
            if alert.kind == "nonfinite_loss":
                raise LossNotFinite(alert)


def _prefix(metrics: dict) -> str:
    for prefix in ("test", "base"):
        if any(k.startswith(prefix + "_") for k in metrics):
            return prefix
    return "eval"
