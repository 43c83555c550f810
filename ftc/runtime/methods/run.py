"""Drive a method through its interface: inputs, job, stages trained and evaluated, outputs.

The orchestrator (ftc/runtime/train.py) and tests use these; they see methods
only through the registry and the TrainingMethod interface.
`prepare_inputs` gets a lock's tokenizer, splits and training arguments ready
(for tests and tools that run a method without the runtime's run directory),
`build_job` builds the method's job, `train_job` trains it.
"""

from __future__ import annotations

from pathlib import Path

from ftc.runtime.methods import method_for
from ftc.runtime.methods.interface import JobResult, MethodContext, MethodJob
from ftc.runtime.run_lock import RunLock


def prepare_inputs(lock: RunLock, run_dir: Path):
    """(tokenizer, splits, args) for a lock, prepared the way the runtime prepares them."""
    from ftc.runtime.methods.common import on_main_process
    from ftc.runtime.model_loading import load_tokenizer
    from ftc.runtime.training_args import apply_data_facts, apply_per_epoch, sft_config

    method = method_for(lock)
    tokenizer = load_tokenizer(lock)
    args = sft_config(lock, Path(run_dir))  # sets the process group up (before on_main_process)
    data_dir = Path(run_dir) / "data"
    splits = on_main_process(
        lambda: method.load_splits(lock, method.prepare_data(lock, data_dir)))
    method.apply_chat_template(lock, tokenizer, splits)
    apply_data_facts(args, splits.format, has_validation=bool(splits.validation))
    apply_per_epoch(args, lock, len(splits.train))
    return tokenizer, splits, args


def build_job(lock: RunLock, tokenizer, splits, args, callbacks=()) -> MethodJob:
    """The method's job for method.kind, from what the runtime has loaded."""
    ctx = MethodContext(lock=lock, tokenizer=tokenizer, splits=splits, args=args,
                        callbacks=list(callbacks))
    return method_for(lock).build(ctx)


def train_job(job: MethodJob, run_dir: Path, resume_from: str | None = None,
              evaluate_test: bool = True) -> JobResult:
    """Train every stage, evaluate it (validation unless just done, test), then save.

    Callbacks with a `bind(trainer, stage)` method (the run's evaluation, alerts and
    console) get the stage's trainer before it trains.
    """
    result = JobResult()
    for stage in job.stages:
        trainer = stage.trainer
        for callback in list(trainer.callback_handler.callbacks):
            if hasattr(callback, "bind"):
                callback.bind(trainer, stage)
        # only a single-stage job can resume (a named-adapter run restarts its stages)
        trainer.train(resume_from_checkpoint=resume_from if len(job.stages) == 1 else None)
        metrics: dict = {}
        if trainer.eval_dataset is not None:
            metrics.update(_final_eval(trainer))
        if stage.test_dataset is not None and evaluate_test:
            metrics.update(trainer.evaluate(stage.test_dataset, metric_key_prefix="test"))
        result.stages[stage.name] = metrics
        result.history += [{**entry, "stage": stage.name} for entry in trainer.state.log_history]
        result.steps += trainer.state.global_step
        result.epoch = trainer.state.epoch
        result.tokens += int(trainer.state.num_input_tokens_seen or 0)
    result.outputs = job.save(Path(run_dir))
    return result


def _final_eval(trainer) -> dict:
    """The eval at the last step: taken from the log when the schedule just ran it, so the
    metrics log holds it once (every rank keeps the same log history, so all agree)."""
    step = trainer.state.global_step
    for entry in reversed(trainer.state.log_history):
        if entry.get("step") == step and "eval_loss" in entry:
            return {k: v for k, v in entry.items() if k.startswith("eval_")}
        if entry.get("step", 0) < step:
            break
    return trainer.evaluate()
