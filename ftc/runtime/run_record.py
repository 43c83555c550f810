"""What a run leaves behind while it trains: metrics.jsonl and the numbers for summary.json.

One JSON line per log step (train and eval alike) is written by the main
process only. Perplexity is added to eval logs before any logger sees them
(see trainer.FtcSFTTrainer.log), so TensorBoard and metrics.jsonl agree.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

METRICS_NAME = "metrics.jsonl"


def perplexity(loss: float) -> float:
    return math.exp(min(loss, 50.0))  # capped: exp(50) already means "no model"


def read_metrics(run_dir: Path, name: str = METRICS_NAME) -> list[dict]:
    """The records of a run's metrics.jsonl (or another of its JSONL files)."""
    path = Path(run_dir) / name
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:  # a line cut short by a kill; that step is logged again on resume
            continue
    return out


def truncate_metrics(run_dir: Path, after_step: int,
                     names: tuple[str, ...] = (METRICS_NAME, "samples.jsonl")) -> None:
    """On resume: drop lines logged after the checkpoint (those steps run again), in
    metrics.jsonl and samples.jsonl."""
    for name in names:
        path = run_dir / name
        if not path.is_file():
            continue
        kept = [m for m in read_metrics(run_dir, name) if m.get("step", 0) <= after_step]
        tmp = path.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps(m, sort_keys=True) + "\n" for m in kept),
                       encoding="utf-8")
        tmp.replace(path)


def make_recorder(run_dir: Path):
    """A TrainerCallback appending each log to metrics.jsonl and timing the session."""
    from transformers import TrainerCallback

    class RunRecorder(TrainerCallback):
        def __init__(self) -> None:
            self.path = run_dir / METRICS_NAME
            self.started = self.ended = None
            self.tokens_at_start = self.tokens_at_end = 0
            self.first_step: tuple[float, int] | None = None

        def on_train_begin(self, args, state, control, **kwargs):
            self.started = time.perf_counter()
            self.tokens_at_start = state.num_input_tokens_seen
            self.first_step = None

        def on_step_end(self, args, state, control, **kwargs):
            if self.first_step is None:
                self.first_step = (time.perf_counter(), state.num_input_tokens_seen)

        def on_train_end(self, args, state, control, **kwargs):
            self.ended = time.perf_counter()
            self.tokens_at_end = state.num_input_tokens_seen

        @property
        def rate_after_first_step(self) -> float | None:
            """Tokens/s after the session's first step (its warm-up: allocation, lazy init)."""
            if self.first_step is None or self.ended is None or self.ended <= self.first_step[0]:
                return None
            return (self.tokens_at_end - self.first_step[1]) / (self.ended - self.first_step[0])

        def on_log(self, args, state, control, logs=None, **kwargs):
            if not state.is_world_process_zero or not logs:
                return
            record = {"step": state.global_step, **{k: _plain(v) for k, v in logs.items()}}
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(record, sort_keys=True) + "\n")

        @property
        def seconds(self) -> float:
            if self.started is None:
                return 0.0
            return (self.ended or time.perf_counter()) - self.started

    return RunRecorder()


def _plain(value):
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def summarize(run_dir: Path, *, name: str, kind: str, world_size: int, outputs: dict,
              steps: int, epoch: float | None, tokens_total: int, tokens_session: int,
              seconds: float, examples: dict, resumed_from: str | None,
              loss_name: str | None = "loss", with_perplexity: bool = True,
              rate_after_first_step: float | None = None) -> dict:
    """summary.json's content, from metrics.jsonl (which spans resumed sessions).

    loss_name: what the method's loss is (None: nothing to show, GRPO); with_perplexity:
    whether exp(validation loss) is a perplexity (a per-token cross-entropy only).
    """
    metrics = read_metrics(run_dir)
    train = [m["loss"] for m in metrics if isinstance(m.get("loss"), (int, float))]
    evals = [m["eval_loss"] for m in metrics if isinstance(m.get("eval_loss"), (int, float))]
    if loss_name is None:
        train = evals = []
    return {
        "name": name,
        "method": kind,
        "world_size": world_size,
        "run_dir": str(run_dir),
        "outputs": outputs,
        "steps": steps,
        "epochs": round(epoch, 4) if epoch is not None else None,
        "loss_name": loss_name,
        "train_loss": {"first": train[0], "last": train[-1]} if train else None,
        "eval_loss": {"first": evals[0], "last": evals[-1]} if evals else None,
        "eval_perplexity": {"first": perplexity(evals[0]), "last": perplexity(evals[-1])}
        if evals and with_perplexity else None,
        "tokens_trained": tokens_total,
        "train_seconds": round(seconds, 3),
        "tokens_per_second": round(tokens_session / seconds, 1) if seconds > 0 else None,
        # the steady rate, without the first step's warm-up (what benchmarks compare)
        "tokens_per_second_after_first_step": round(rate_after_first_step, 1)
        if rate_after_first_step else None,
        "examples": examples,
        "resumed_from": resumed_from,
    }


def append_record(run_dir: Path, record: dict) -> None:
    """One more line in metrics.jsonl (alerts and other non-scalar records)."""
    with (Path(run_dir) / METRICS_NAME).open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, sort_keys=True) + "\n")
