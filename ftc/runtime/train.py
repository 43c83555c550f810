"""The orchestrator of one run: lock -> run directory -> the method -> outputs -> summary.

Every process of an `accelerate launch` runs this. The main process prepares
the data and picks (or, on --resume, finds) the run directory and tells the
others; the method of the lock's method.kind (ftc.runtime.methods, through its
interface only) builds the trainers, all processes train them, and the main
process writes the summary. Known failures become
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
    """Hand the run to the lock's method: data, model and trainer are the method's."""
    _quiet_libraries()
    from ftc.runtime.methods import method_for

    method = method_for(lock)  # an unknown kind is refused before any data work

    from ftc.runtime.model_loading import load_tokenizer
    from ftc.runtime.run_record import make_recorder, truncate_metrics
    from ftc.runtime.training_args import apply_data_facts, apply_per_epoch, sft_config

    tokenizer = load_tokenizer(lock)  # a bad model path fails here, before any work
    from ftc.runtime.loss_kernels import score_label_positions_only

    score_label_positions_only(compiled=bool(lock.get("training.torch_compile", False)))
    args = sft_config(lock, Path("."))
    state = _distributed_state()  # the config above has set the process group up
    run_dir, checkpoint, prepared = _agree_on_run(lock, method, state, tokenizer, resume,
                                                  resume_requested)
    splits = method.load_splits(lock, prepared)
    method.apply_chat_template(lock, tokenizer, splits)
    apply_data_facts(args, splits.format, has_validation=bool(splits.validation))
    apply_per_epoch(args, lock, len(splits.train))
    args.output_dir = str(run_dir)
    args.eval_on_start = checkpoint is None and args.eval_strategy != "no"
    from ftc.runtime.trackers import configure_trackers, tracker_callbacks

    configure_trackers(lock, run_dir, args)

    recorder = make_recorder(run_dir)
    if checkpoint is not None and state.is_main_process:
        from ftc.runtime.run_dir import checkpoint_step

        truncate_metrics(run_dir, checkpoint_step(checkpoint))
    from ftc.evaluation.callbacks import LossNotFinite
    from ftc.runtime.evaluation_hooks import EvaluationHooks
    from ftc.runtime.methods.run import build_job, train_job

    hooks = EvaluationHooks.for_run(lock, splits, tokenizer, run_dir, args,
                                    state.is_main_process)
    job = build_job(lock, tokenizer, splits, args,
                    [recorder, *tracker_callbacks(lock), *hooks.callbacks])
    try:
        result = train_job(job, run_dir, str(checkpoint) if checkpoint else None,
                           evaluate_test=hooks.settings.at_end)
    except LossNotFinite as stop:
        if state.is_main_process:
            _finish(lock, method, hooks, run_dir, splits, recorder, state, checkpoint, None,
                    stopped=stop.alert.record())
        raise RunFailure([lock.error("training.learning_rate", "FTC550", stop.alert.message,
                                     f"the run directory keeps what was logged: {run_dir}")],
                         collective=True) from None
    _record_rank(run_dir, state, args, result.steps)
    if not state.is_main_process:
        return None
    return _finish(lock, method, hooks, run_dir, splits, recorder, state, checkpoint, result)


def _finish(lock: RunLock, method, hooks, run_dir: Path, splits, recorder, state, checkpoint,
            result, stopped: dict | None = None) -> dict:
    """summary.json (the method's results, base vs tuned, alerts) and the run's report."""
    from ftc.runtime.methods.interface import JobResult
    from ftc.runtime.run_record import summarize

    result = result or JobResult(steps=int((stopped or {}).get("step", 0)))
    outputs = {**result.outputs, "metrics": str(run_dir / "metrics.jsonl"),
               "tensorboard": str(run_dir / "tensorboard"), "checkpoints": str(run_dir)}
    summary = summarize(
        run_dir, name=lock.name, kind=lock.get("method.kind"), world_size=state.num_processes,
        outputs=outputs, steps=result.steps, epoch=result.epoch,
        tokens_total=result.tokens, tokens_session=result.tokens - recorder.tokens_at_start,
        seconds=recorder.seconds, examples=_example_counts(splits),
        resumed_from=str(checkpoint) if checkpoint else None,
        loss_name=method.loss_name, with_perplexity=method.perplexity,
        rate_after_first_step=recorder.rate_after_first_step)
    summary.update(method.report(result))
    summary.update(hooks.summary_part(run_dir))
    if stopped:
        summary["stopped"] = stopped
    _write_json(run_dir / SUMMARY_NAME, summary)
    summary["report"] = hooks.write_report(run_dir)
    _write_json(run_dir / SUMMARY_NAME, summary)
    if not stopped:  # nothing was saved from a run whose loss went NaN
        _export(lock, run_dir, summary)
    return summary


def _example_counts(splits) -> dict:
    report = splits.report or {}
    return {"train": len(splits.train), "validation": len(splits.validation),
            "test": len(splits.test), "dropped": (report.get("rows") or {}).get("dropped", 0),
            "over_max_seq_length": (report.get("tokens") or {}).get("over_max_seq_length", 0)}


# ------------------------------------------------------------------ processes


def _distributed_state():
    from accelerate import PartialState

    return PartialState()


def _agree_on_run(lock: RunLock, method, state, tokenizer, resume: str | None,
                  resume_requested: bool):
    """The main process prepares the data and picks (or finds) the run directory; all follow.

    Data problems surface before the run directory exists, so a failed start leaves
    nothing behind. Returns (run_dir, checkpoint or None, prepared splits).
    """
    payload: list = [None]
    if state.is_main_process:
        try:
            payload = [("ok", *_main_process_setup(lock, method, tokenizer, resume,
                                                     resume_requested, state.num_processes))]
        except RunFailure as failure:
            payload = [("fail", failure.diagnostics)]
    if state.num_processes > 1:
        from accelerate.utils import broadcast_object_list

        broadcast_object_list(payload, from_process=0)
    status, *rest = payload[0]
    if status == "fail":
        raise RunFailure(rest[0], collective=True)
    return tuple(rest)


def _main_process_setup(lock: RunLock, method, tokenizer, resume: str | None,
                        resume_requested: bool, world_size: int):
    import shutil

    from ftc.runtime.run_dir import (
        new_run_id,
        plan_resume,
        prepare_run_dir,
        runs_root,
        unique_run_dir,
    )

    if resume_requested:
        plan = plan_resume(lock, resume, world_size)
        run_dir, checkpoint = plan.run_dir, plan.resume_from
    else:
        run_dir, checkpoint = unique_run_dir(lock, new_run_id()), None
    staging = runs_root(lock) / f".data-{run_dir.name}"
    prepared = method.prepare_data(lock, staging)
    try:
        method.check_data(lock, tokenizer, prepared)  # refusals before anything is written
        _print_diagnostics(prepared.diagnostics)
        _print_data(prepared.report)
        prepare_run_dir(lock, run_dir, world_size)
        data_dir = run_dir / "data"
        if data_dir.exists():
            shutil.rmtree(data_dir)
        staging.rename(data_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    prepared = _moved(prepared, staging, data_dir)
    _tell_launcher(run_dir)
    return run_dir, checkpoint, prepared


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


def _print_data(report: dict | None) -> None:
    from ftc.runtime.console import data_lines

    for line in data_lines(report or {}):
        print(line, flush=True)


def _tell_launcher(run_dir: Path) -> None:
    target = os.environ.get(RUN_INFO_ENV)
    if target:
        Path(target).write_text(str(run_dir), encoding="utf-8")


def _record_rank(run_dir: Path, state, args, steps: int) -> None:
    """ranks/rank-N.json: each process notes that it finished training, and where."""
    import socket

    ranks = run_dir / "ranks"
    ranks.mkdir(exist_ok=True)
    _write_json(ranks / f"rank-{state.process_index}.json", {
        "rank": state.process_index, "local_rank": state.local_process_index,
        "world_size": state.num_processes, "host": socket.gethostname(),
        "device": str(args.device), "steps": steps,
        "distributed_type": str(state.distributed_type),
        "slurm_node": os.environ.get("SLURMD_NODENAME"),  # None outside a Slurm job
    })


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
    """Library chatter off (kept with FTC_VERBOSE on the main rank; see runtime.quiet)."""
    from ftc.runtime.quiet import quiet_libraries

    quiet_libraries(os.environ.get("RANK", "0") == "0")
