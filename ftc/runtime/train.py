"""One training run from a lock: data -> model -> TRL SFTTrainer -> run directory.

Every process of an `accelerate launch` runs this. The main process picks (or,
on --resume, finds) the run directory and tells the others; all of them train;
the main process writes the outputs' summary. Known failures become
diagnostics (RunFailure); the process group is torn down at the end so a
two-process gloo run exits with the code it means.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ftc.runtime.launch_env import RUN_INFO_ENV
from ftc.runtime.run_lock import RunFailure, RunLock, load_run_lock

SUMMARY_NAME = "summary.json"


def run_training(lock_path: str | Path, resume: str | None = None,
                 resume_requested: bool = False) -> dict | None:
    """Train; returns the summary on the main process (None on the others)."""
    lock = load_run_lock(lock_path)
    try:
        return _train(lock, resume, resume_requested)
    except RunFailure:
        raise
    except Exception as exc:
        from ftc.runtime.failures import explain

        diagnostics = explain(exc, lock)
        if diagnostics:
            raise RunFailure(diagnostics) from exc
        raise


def _train(lock: RunLock, resume: str | None, resume_requested: bool) -> dict | None:
    from ftc.runtime.data_loading import check_method, load_prepared, to_dataset

    check_method(lock)
    _quiet_libraries()

    from ftc.runtime.chat_template import apply_chat_template_setting
    from ftc.runtime.model_loading import check_target_modules, load_model, load_tokenizer
    from ftc.runtime.run_record import make_recorder, truncate_metrics
    from ftc.runtime.training_args import apply_data_facts, sft_config

    tokenizer = load_tokenizer(lock)  # a bad model path fails here, before any work
    args = sft_config(lock, Path("."))
    state = _distributed_state()  # the config above has set the process group up
    run_dir, checkpoint, prepared = _agree_on_run(lock, state, tokenizer, resume,
                                                  resume_requested)
    if _is_method_kind(lock):
        return _train_method(lock, tokenizer, args, state, run_dir, checkpoint, prepared)
    splits = load_prepared(lock, prepared)
    if splits.format == "messages":
        apply_chat_template_setting(lock, tokenizer)
    apply_data_facts(args, splits.format, has_validation=bool(splits.validation))
    args.output_dir = str(run_dir)
    args.eval_on_start = checkpoint is None and args.eval_strategy != "no"
    os.environ["TENSORBOARD_LOGGING_DIR"] = str(run_dir / "tensorboard")

    model = load_model(lock, device_index=_device_index(args, state))
    check_target_modules(lock, model)
    recorder = make_recorder(run_dir)
    trainer = build_trainer(lock, model, tokenizer, splits, args, [recorder])
    _check_something_to_train(lock, trainer)
    if checkpoint is not None and state.is_main_process:
        from ftc.runtime.run_dir import checkpoint_step

        truncate_metrics(run_dir, checkpoint_step(checkpoint))
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    _record_rank(run_dir, state, trainer)
    if splits.validation and not _evaluated_at(run_dir, trainer.state.global_step, state):
        trainer.evaluate()
    test_metrics = trainer.evaluate(to_dataset(splits.test), metric_key_prefix="test") \
        if splits.test else {}

    outputs = _save_outputs(lock, trainer, tokenizer, run_dir, state)
    summary = None
    if state.is_main_process:
        from ftc.runtime.run_record import summarize

        tokens_total = int(trainer.state.num_input_tokens_seen)
        summary = summarize(
            run_dir, name=lock.name, kind=lock.get("method.kind"),
            world_size=state.num_processes, outputs=outputs,
            steps=trainer.state.global_step, epoch=trainer.state.epoch,
            tokens_total=tokens_total, tokens_session=tokens_total - recorder.tokens_at_start,
            seconds=recorder.seconds, examples=_example_counts(splits),
            resumed_from=str(checkpoint) if checkpoint else None,
        )
        if "test_loss" in test_metrics:
            summary["test_loss"] = test_metrics["test_loss"]
        _write_json(run_dir / SUMMARY_NAME, summary)
        _export(lock, run_dir, summary)
    return summary


def _is_method_kind(lock: RunLock) -> bool:
    """prefix, adapter, distill, dpo, reward, rlhf: built by ftc.runtime.methods."""
    from ftc.runtime.methods import handles

    return lock.get("method.kind") not in ("full", "lora", "qlora") and \
        handles(lock.get("method.kind"))


def _train_method(lock: RunLock, tokenizer, args, state, run_dir: Path, checkpoint,
                  prepared) -> dict | None:
    """The non-SFT methods: the methods package builds and trains the job's stages."""
    from ftc.runtime.methods.data import load_method_splits
    from ftc.runtime.methods.run import apply_chat_template, build_job, train_job
    from ftc.runtime.run_record import make_recorder, summarize
    from ftc.runtime.training_args import apply_data_facts

    splits = load_method_splits(lock, prepared)
    apply_chat_template(lock, tokenizer, splits)
    apply_data_facts(args, splits.format, has_validation=bool(splits.validation))
    args.output_dir = str(run_dir)
    args.eval_on_start = checkpoint is None and args.eval_strategy != "no"
    os.environ["TENSORBOARD_LOGGING_DIR"] = str(run_dir / "tensorboard")
    recorder = make_recorder(run_dir)
    job = build_job(lock, tokenizer, splits, args, [recorder])
    result = train_job(job, run_dir, str(checkpoint) if checkpoint else None)
    if not state.is_main_process:
        return None
    summary = summarize(
        run_dir, name=lock.name, kind=lock.get("method.kind"), world_size=state.num_processes,
        outputs=result.outputs, steps=result.steps, epoch=result.epoch,
        tokens_total=result.tokens, tokens_session=result.tokens - recorder.tokens_at_start,
        seconds=recorder.seconds, examples=_example_counts(splits),
        resumed_from=str(checkpoint) if checkpoint else None)
    tests = [m["test_loss"] for m in result.stages.values() if "test_loss" in m]
    if tests:
        summary["test_loss"] = tests[-1]
    _write_json(run_dir / SUMMARY_NAME, summary)
    _export(lock, run_dir, summary)
    return summary


def build_trainer(lock: RunLock, model, tokenizer, splits, args, callbacks: list):
    """The SFT trainer for full/lora/qlora (PEFT wraps the model inside TRL)."""
    from ftc.runtime.data_loading import to_dataset
    from ftc.runtime.model_loading import lora_config
    from ftc.runtime.packing import rows_collator, wants_row_batches

    callbacks = list(callbacks)
    if args.load_best_model_at_end:
        from transformers import EarlyStoppingCallback

        early = lock.get("training.early_stopping") or {}
        callbacks.append(EarlyStoppingCallback(
            early_stopping_patience=int(early.get("patience", 3)),
            early_stopping_threshold=float(early.get("threshold", 0.0))))
    trainer = trainer_class()(
        model=model, args=args, processing_class=tokenizer,
        train_dataset=to_dataset(splits.train), eval_dataset=to_dataset(splits.validation),
        peft_config=lora_config(lock), callbacks=callbacks,
    )
    if args.packing and wants_row_batches(lock.get("model.attn_implementation", "sdpa")):
        trainer.data_collator = rows_collator(trainer.data_collator.pad_token_id,
                                              trainer.data_collator.pad_to_multiple_of)
    return trainer


def _check_something_to_train(lock: RunLock, trainer) -> None:
    """TRL drops examples whose trainable part truncation cut off; none left is an error."""
    if len(trainer.train_dataset) == 0:
        limit = lock.get("model.max_seq_length")
        raise lock.fail("model.max_seq_length", "FTC510",
                        f"no training example has anything to train on within "
                        f"model.max_seq_length ({limit} tokens): truncation cut off every "
                        "answer", "raise model.max_seq_length, or set data.length_policy: "
                        "drop to skip over-long examples")


def _example_counts(splits) -> dict:
    report = splits.report or {}
    return {"train": len(splits.train), "validation": len(splits.validation),
            "test": len(splits.test), "dropped": (report.get("rows") or {}).get("dropped", 0),
            "over_max_seq_length": (report.get("tokens") or {}).get("over_max_seq_length", 0)}


def trainer_class():
    """TRL's SFTTrainer, adding eval perplexity to the logs every logger receives."""
    from trl import SFTTrainer

    from ftc.runtime.run_record import perplexity

    class FtcSFTTrainer(SFTTrainer):
        def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
            for prefix in ("eval", "test"):
                if isinstance(logs.get(f"{prefix}_loss"), (int, float)):
                    logs[f"{prefix}_perplexity"] = perplexity(logs[f"{prefix}_loss"])
            super().log(logs, start_time)

    return FtcSFTTrainer


# ------------------------------------------------------------------ processes


def _distributed_state():
    from accelerate import PartialState

    return PartialState()


def _device_index(args, state) -> int | None:
    import torch

    if args.use_cpu or not torch.cuda.is_available():
        return None
    return state.local_process_index


def _agree_on_run(lock: RunLock, state, tokenizer, resume: str | None,
                  resume_requested: bool):
    """The main process prepares the data and picks (or finds) the run directory; all follow.

    Data problems surface before the run directory exists, so a failed start leaves
    nothing behind. Returns (run_dir, checkpoint or None, prepared splits).
    """
    payload: list = [None]
    if state.is_main_process:
        try:
            payload = [("ok", *_main_process_setup(lock, tokenizer, resume, resume_requested))]
        except RunFailure as failure:
            payload = [("fail", failure.diagnostics)]
    if state.num_processes > 1:
        from accelerate.utils import broadcast_object_list

        broadcast_object_list(payload, from_process=0)
    status, *rest = payload[0]
    if status == "fail":
        raise RunFailure(rest[0], collective=True)
    return tuple(rest)


def _main_process_setup(lock: RunLock, tokenizer, resume: str | None, resume_requested: bool):
    import shutil

    from ftc.runtime.chat_template import apply_chat_template_setting
    from ftc.runtime.data_loading import check_format
    from ftc.runtime.run_dir import (
        new_run_id,
        plan_resume,
        prepare_run_dir,
        runs_root,
        unique_run_dir,
    )

    if resume_requested:
        plan = plan_resume(lock, resume)
        run_dir, checkpoint = plan.run_dir, plan.resume_from
    else:
        run_dir, checkpoint = unique_run_dir(lock, new_run_id()), None
    staging = runs_root(lock) / f".data-{run_dir.name}"
    method_kind = _is_method_kind(lock)
    prepared = _prepare_data(lock, staging, method_kind)
    try:
        if not method_kind:
            check_format(lock, prepared.format)  # refuse before anything is written
        if prepared.format == "messages" and not method_kind:
            apply_chat_template_setting(lock, tokenizer)
        _print_diagnostics(prepared.diagnostics)
        prepare_run_dir(lock, run_dir)
        data_dir = run_dir / "data"
        if data_dir.exists():
            shutil.rmtree(data_dir)
        staging.rename(data_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    prepared = _moved(prepared, staging, data_dir)
    _tell_launcher(run_dir)
    return run_dir, checkpoint, prepared


def _prepare_data(lock: RunLock, staging: Path, method_kind: bool):
    """dataprep's splits; for distill with a generate block, teacher-written data first."""
    from ftc.runtime.data_loading import prepare

    if not method_kind:
        return prepare(lock, staging)
    from ftc.runtime.methods.synthetic import mark_synthetic, synthetic_for_run

    data_lock, generated = synthetic_for_run(lock)
    prepared = prepare(data_lock, staging)
    if generated is not None:
        mark_synthetic(prepared.report, generated)
        _write_json(staging / "report.json", prepared.report)
    return prepared


def _moved(prepared, old: Path, new: Path):
    import dataclasses

    def move(p):
        return new / Path(p).relative_to(old) if p else None

    return dataclasses.replace(prepared, train=move(prepared.train),
                               validation=move(prepared.validation), test=move(prepared.test))


def _print_diagnostics(diagnostics: list) -> None:
    import sys

    from ftc.diagnostics import render

    if diagnostics:
        sys.stderr.write(render(diagnostics, "text") + "\n")


def _tell_launcher(run_dir: Path) -> None:
    target = os.environ.get(RUN_INFO_ENV)
    if target:
        Path(target).write_text(str(run_dir), encoding="utf-8")


def _record_rank(run_dir: Path, state, trainer) -> None:
    """ranks/rank-N.json: each process notes that it finished training, and where."""
    import socket

    ranks = run_dir / "ranks"
    ranks.mkdir(exist_ok=True)
    _write_json(ranks / f"rank-{state.process_index}.json", {
        "rank": state.process_index, "local_rank": state.local_process_index,
        "world_size": state.num_processes, "host": socket.gethostname(),
        "device": str(trainer.args.device), "steps": trainer.state.global_step,
        "distributed_type": str(state.distributed_type),
    })


def _evaluated_at(run_dir: Path, step: int, state) -> bool:
    """Whether an eval already ran at the final step (all ranks must agree)."""
    from ftc.runtime.run_record import read_metrics

    flag = [False]
    if state.is_main_process:
        flag = [any("eval_loss" in m and m.get("step") == step for m in read_metrics(run_dir))]
    if state.num_processes > 1:
        from accelerate.utils import broadcast_object_list

        broadcast_object_list(flag, from_process=0)
    return bool(flag[0])


# ------------------------------------------------------------------ outputs


def _save_outputs(lock: RunLock, trainer, tokenizer, run_dir: Path, state) -> dict:
    """The trained adapter or model (all ranks take part: ZeRO-3 gathers)."""
    adapters = lock.get("method.kind") in ("lora", "qlora")
    target = run_dir / ("adapter" if adapters else "model")
    trainer.save_model(str(target))
    outputs = {"adapter" if adapters else "model": str(target),
               "metrics": str(run_dir / "metrics.jsonl"),
               "tensorboard": str(run_dir / "tensorboard"),
               "checkpoints": str(run_dir)}
    if state.is_main_process:
        tokenizer.save_pretrained(str(target))
    state.wait_for_everyone()
    return outputs


def _export(lock: RunLock, run_dir: Path, summary: dict) -> None:
    """The lock's export: block (merged, GGUF, ONNX, card, serving) by ftc.export, on the
    main process after summary.json is saved; its files join the summary's outputs."""
    from ftc.export import export_run

    summary["outputs"].update(export_run(lock, run_dir, summary["outputs"]))
    _write_json(run_dir / SUMMARY_NAME, summary)


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)


def _quiet_libraries() -> None:
    """Library chatter off the non-main ranks; progress bars stay on the main one."""
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning)
    if os.environ.get("RANK", "0") != "0":
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
