"""Train a MethodJob: its stages in order, evaluation, test, and the method's outputs.

This is the part of a run that differs by method; the run directory, metrics
recorder and summary stay the runtime's (ftc/runtime/train.py).
`prepare_method_data` (main process: distill's generate step, then the data) and
`apply_chat_template` get the inputs ready, `build_job` builds the method's job,
`train_job` trains it; `prepare_inputs` chains the first two for tests and tools.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ftc.runtime.methods.common import MethodContext, MethodJob
from ftc.runtime.run_lock import RunLock


@dataclass
class JobResult:
    """What the summary needs: steps, per-stage metrics, outputs."""

    steps: int = 0
    epoch: float | None = None
    tokens: int = 0
    stages: dict[str, dict] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)


def prepare_inputs(lock: RunLock, run_dir: Path):
    """(tokenizer, splits, args) for a method, prepared the way the runtime prepares SFT.

    For tests and tools that run a method without the runtime's run directory
    logic; the runtime itself calls load_method_splits on the data it prepared.
    """
    from ftc.runtime.methods.common import on_main_process
    from ftc.runtime.model_loading import load_tokenizer
    from ftc.runtime.training_args import apply_data_facts, sft_config

    tokenizer = load_tokenizer(lock)
    args = sft_config(lock, Path(run_dir))  # sets the process group up (before on_main_process)
    data_dir = Path(run_dir) / "data"
    splits = on_main_process(lambda: prepare_method_data(lock, data_dir))
    apply_chat_template(lock, tokenizer, splits)
    apply_data_facts(args, splits.format, has_validation=bool(splits.validation))
    return tokenizer, splits, args


def apply_chat_template(lock: RunLock, tokenizer, splits) -> None:
    """model.chat_template for the data: SFT's checks for messages; for chat prompts or
    pairs (dpo, reward, rlhf) only a template is needed, no assistant-turn markers."""
    from ftc.runtime.chat_template import apply_chat_template_setting, builtin

    if splits.format == "messages":
        apply_chat_template_setting(lock, tokenizer)
        return
    setting = lock.get("model.chat_template", "model")
    if setting != "model":
        tokenizer.chat_template = builtin(setting) or setting
    chat = any(isinstance(r.get("prompt"), list) for r in splits.train[:1])
    if chat and not tokenizer.chat_template:
        raise lock.fail("model.chat_template", "FTC505",
                        "the tokenizer has no chat template, and this data is in chat form",
                        "set model.chat_template: chatml (or llama3, or a Jinja template)")


def prepare_method_data(lock: RunLock, data_dir: Path):
    """Generate synthetic data first (distill), then prepare and load the method's splits.

    The main process's job: what the runtime's _main_process_setup does for SFT.
    """
    from ftc.runtime.data_loading import prepare
    from ftc.runtime.methods.data import load_method_splits
    from ftc.runtime.methods.synthetic import mark_synthetic, synthetic_for_run

    data_lock, generated = synthetic_for_run(lock)
    prepared = prepare(data_lock, Path(data_dir))
    if generated is not None:
        mark_synthetic(prepared.report, generated)
        report = Path(data_dir) / "report.json"
        if report.is_file():
            report.write_text(json.dumps(prepared.report, indent=2, ensure_ascii=False) + "\n",
                              encoding="utf-8")
    return load_method_splits(lock, prepared)


def build_job(lock: RunLock, tokenizer, splits, args, callbacks=()) -> MethodJob:
    """The registry's builder for method.kind, applied to what the runtime has loaded."""
    from ftc.runtime.methods import builder_for

    ctx = MethodContext(lock=lock, tokenizer=tokenizer, splits=splits, args=args,
                        callbacks=list(callbacks))
    return builder_for(lock.get("method.kind"))(ctx)


def train_job(job: MethodJob, run_dir: Path, resume_from: str | None = None) -> JobResult:
    """Train every stage, evaluate it (validation, test), then save the outputs."""
    result = JobResult()
    for stage in job.stages:
        trainer = stage.trainer
        # only a single-stage job can resume (a named-adapter run restarts its stages)
        trainer.train(resume_from_checkpoint=resume_from if len(job.stages) == 1 else None)
        metrics: dict = {}
        if trainer.eval_dataset is not None:
            metrics.update(trainer.evaluate())
        if stage.test_dataset is not None:
            metrics.update(trainer.evaluate(stage.test_dataset, metric_key_prefix="test"))
        result.stages[stage.name] = metrics
        result.steps += trainer.state.global_step
        result.epoch = trainer.state.epoch
        result.tokens += int(trainer.state.num_input_tokens_seen or 0)
    result.outputs = job.save(Path(run_dir))
    return result
