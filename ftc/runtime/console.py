"""What a person sees while a run trains: one progress display, a table per evaluation.

On a terminal: one live rich progress bar (step / total, loss, learning rate, tokens/s,
ETA) with the evaluation tables printed above it. To a file or a pipe: plain lines, one
per logged step and a two-line table per evaluation (no carriage returns). Data
preparation is one line per stage with its counts. With FTC_VERBOSE (`ftc run/launch
--verbose`) the trainer's own tqdm bars stay as well (see ftc.runtime.quiet).
"""

from __future__ import annotations

import sys
import time

from transformers import TrainerCallback

from ftc.runtime.quiet import verbose

# eval metrics not worth a column (speed, bookkeeping, raw log-probabilities)
SKIPPED = ("runtime", "samples_per_second", "steps_per_second", "num_tokens",
           "model_preparation_time", "entropy", "mean_token_accuracy", "epoch")
SKIPPED_PREFIXES = ("logits/", "logps/", "completions/", "sampling/", "clip_ratio/")


def data_lines(report: dict) -> list[str]:
    """Data preparation as one line per stage with its counts (dataprep's report.json)."""
    lines = []
    for stage in report.get("stages") or []:
        dropped = stage.get("dropped") or {}
        reasons = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in sorted(dropped.items()))
        lines.append(f"data  {stage['stage']:<12} {stage['kept']:>8,} of {stage['in']:,} rows"
                     + (f"  (dropped: {reasons})" if reasons else ""))
    splits = report.get("splits") or {}
    if splits:
        lines.append("data  splits       " + ", ".join(f"{k} {v:,}" for k, v in splits.items()))
    return lines


def eval_columns(metrics: dict) -> list[tuple[str, float]]:
    """(name, value) for the metrics of one evaluation worth a column, prefix dropped."""
    out = []
    for key, value in metrics.items():
        prefix, _, name = key.partition("_")
        if prefix not in ("eval", "test", "base") or not isinstance(value, (int, float)):
            continue
        if name in SKIPPED or name.startswith(SKIPPED_PREFIXES) and name not in (
                "rewards/margins", "rewards/accuracies"):
            continue
        out.append((name, float(value)))
    return out


def fmt(value: float) -> str:
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    if value == 0 or 1e-3 <= abs(value) < 1e5:
        return f"{value:.4f}" if abs(value) < 10 else f"{value:.2f}"
    return f"{value:.3e}"


class RunConsole(TrainerCallback):
    """The main process's progress display for one run (all stages)."""

    def __init__(self, live: bool | None = None, out=None) -> None:
        self.out = out or sys.stdout
        self.live = self.out.isatty() if live is None else live
        self.progress = None
        self.task = None
        self.trainer = None
        self.started = 0.0
        self.first_step = 0
        self.last = {"loss": "-", "lr": "-", "speed": "-"}

    def bind(self, trainer, stage) -> None:
        """Take over from the trainer's tqdm bars (kept with FTC_VERBOSE)."""
        from transformers.trainer_callback import PrinterCallback, ProgressCallback

        self.trainer = trainer
        if not verbose():
            trainer.remove_callback(ProgressCallback)
            trainer.remove_callback(PrinterCallback)

    # ------------------------------------------------------------------ events

    def on_train_begin(self, args, state, control, **kwargs):
        if not state.is_world_process_zero:
            return
        self.started, self.first_step = time.perf_counter(), state.global_step
        if self.trainer is not None:
            train = len(self.trainer.train_dataset or [])
            held = len(self.trainer.eval_dataset or [])
            self._line(f"data  tokenized    {train:,} train, {held:,} validation examples "
                       f"(max {getattr(args, 'max_length', None) or '-'} tokens)")
        if self.live:
            self._start(state)

    def on_step_end(self, args, state, control, **kwargs):
        if self.progress is not None:
            self.progress.update(self.task, completed=state.global_step, **self.last)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs or "loss" not in logs:
            return
        self.last = {"loss": fmt(float(logs["loss"])),
                     "lr": f"{float(logs.get('learning_rate', 0.0)):.2e}",
                     "speed": f"{logs['train_tokens_per_second']:,.0f}"
                     if isinstance(logs.get("train_tokens_per_second"), (int, float)) else "-"}
        if self.progress is not None:
            self.progress.update(self.task, completed=state.global_step, **self.last)
            return
        self._line(f"step {state.global_step:>6}/{state.max_steps}  loss {self.last['loss']}  "
                   f"lr {self.last['lr']}  {self.last['speed']} tok/s  eta {self._eta(state)}")

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if not state.is_world_process_zero or not metrics:
            return
        columns = eval_columns(metrics)
        if not columns:
            return
        split = "test" if any(k.startswith("test_") for k in metrics) else "validation"
        title = ("baseline (untuned model)" if state.global_step == 0 and split != "test"
                 else f"{split} at step {state.global_step}")
        self._table(title, columns)

    def on_train_end(self, args, state, control, **kwargs):
        if self.progress is not None:
            self.progress.update(self.task, completed=state.global_step, **self.last)
            self.progress.stop()
            self.progress = None

    # ------------------------------------------------------------------ output

    def _start(self, state) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("train"), BarColumn(), MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"), TextColumn("lr {task.fields[lr]}"),
            TextColumn("{task.fields[speed]} tok/s"), TextColumn("eta"), TimeRemainingColumn(),
            console=Console(file=self.out), transient=False)
        self.task = self.progress.add_task("train", total=state.max_steps,
                                           completed=state.global_step, **self.last)
        self.progress.start()

    def _table(self, title: str, columns: list[tuple[str, float]]) -> None:
        self._line(f"eval  {title}")
        if self.progress is not None:
            from rich.table import Table

            table = Table(box=None, padding=(0, 2), pad_edge=True)
            for name, _ in columns:
                table.add_column(name, justify="right")
            table.add_row(*(fmt(v) for _, v in columns))
            self.progress.console.print(table)
            return
        widths = [max(len(n), len(fmt(v))) for n, v in columns]
        self._line("      " + "  ".join(n.rjust(w) for (n, _), w in zip(columns, widths,
                                                                          strict=True)))
        self._line("      " + "  ".join(fmt(v).rjust(w) for (_, v), w in zip(columns, widths,
                                                                               strict=True)))

    def _eta(self, state) -> str:
        done = state.global_step - self.first_step
        if done <= 0 or not state.max_steps:
            return "-"
        left = (time.perf_counter() - self.started) / done * (state.max_steps - state.global_step)
        return time.strftime("%H:%M:%S", time.gmtime(max(0.0, left)))

    def _line(self, text: str) -> None:
        if self.progress is not None:
            self.progress.console.print(text, highlight=False, markup=False)
            return
        self.out.write(text + "\n")
        self.out.flush()
