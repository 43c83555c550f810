"""The console: line-based to a pipe (no carriage returns), eval tables, one line per data
stage, and the launcher's filter dropping library notices unless --verbose."""

from __future__ import annotations

import io

from transformers import TrainerControl, TrainerState, TrainingArguments

from ftc.runtime.console import RunConsole, data_lines, eval_columns
from ftc.runtime.launcher_output import LauncherStderr

NOISE = (b"The following values were not passed to `accelerate launch` and had defaults used "
         b"instead:\n\t`--num_cpu_threads_per_process` was set to `2` to improve out-of-box "
         b"performance when training on CPUs\nTo avoid this warning pass in values for each of "
         b"the problematic parameters or run `accelerate config`.\n[2026-11-28 18:46:40,885] "
         b"[WARNING] [real_accelerator.py:213:get_accelerator] Setting accelerator to CPU. If "
         b"you have GPU or other accelerator, we were unable to detect it.\nFailed to load CPU "
         b"gemm_4bit_forward from kernels-community: No module named 'kernels'.\n")


def test_library_notices_are_dropped_unless_verbose():
    out = io.BytesIO()
    err = LauncherStderr(out)
    err.feed(NOISE + b"a real warning\n")
    err.close()
    assert out.getvalue() == b"a real warning\n"
    kept = io.BytesIO()
    err = LauncherStderr(kept, keep_all=True)
    err.feed(NOISE)
    err.close()
    assert kept.getvalue() == NOISE


def _state(step: int, total: int = 10) -> TrainerState:
    state = TrainerState()
    state.global_step, state.max_steps = step, total
    return state


def test_a_pipe_gets_plain_lines_and_a_table_per_evaluation(tmp_path):
    out = io.StringIO()
    console = RunConsole(live=False, out=out)
    args, control = TrainingArguments(output_dir=str(tmp_path)), TrainerControl()
    console.on_train_begin(args, _state(0), control)
    console.on_evaluate(args, _state(0), control, metrics={
        "eval_loss": 7.5, "eval_perplexity": 1808.0, "eval_accuracy": 0.0,
        "eval_runtime": 0.8, "eval_samples_per_second": 180.0})
    for step in (2, 4):
        console.on_log(args, _state(step), control, logs={
            "loss": 3.0 / step, "learning_rate": 1e-3, "train_tokens_per_second": 4321.0})
    console.on_evaluate(args, _state(4), control, metrics={"eval_loss": 1.0, "eval_accuracy": 0.5})
    text = out.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    assert lines[0] == "eval  baseline (untuned model)"
    assert any(line.startswith("step      2/10  loss 1.5000  lr 1.00e-03  4,321 tok/s")
               for line in lines)
    header = next(i for i, line in enumerate(lines) if "validation at step 4" in line)
    assert lines[header + 1].split() == ["loss", "accuracy"]
    assert lines[header + 2].split() == ["1.0000", "0.5000"]
    assert "runtime" not in text and "samples_per_second" not in text


def test_a_terminal_gets_one_live_bar(tmp_path):
    out = io.StringIO()
    console = RunConsole(live=True, out=out)
    args, control = TrainingArguments(output_dir=str(tmp_path)), TrainerControl()
    console.on_train_begin(args, _state(0), control)
    assert console.progress is not None
    console.on_log(args, _state(1), control, logs={"loss": 2.0, "learning_rate": 1e-3})
    console.on_evaluate(args, _state(1), control, metrics={"eval_loss": 1.5})
    console.on_train_end(args, _state(10), control)
    assert console.progress is None and "validation at step 1" in out.getvalue()


def test_eval_columns_keep_what_people_read():
    cols = dict(eval_columns({"eval_loss": 1.0, "eval_rewards/margins": 0.3,
                              "eval_logps/chosen": -20.0, "eval_runtime": 1.0, "epoch": 1,
                              "test_accuracy": 0.9}))
    assert cols == {"loss": 1.0, "rewards/margins": 0.3, "accuracy": 0.9}


def test_data_preparation_is_one_line_per_stage():
    lines = data_lines({"stages": [{"stage": "read", "in": 10, "kept": 10, "dropped": {}},
                                   {"stage": "exact_dedup", "in": 10, "kept": 8,
                                    "dropped": {"exact_duplicate": 2}}],
                        "splits": {"train": 7, "validation": 1}})
    assert lines == ["data  read               10 of 10 rows",
                     "data  exact_dedup         8 of 10 rows  (dropped: exact duplicate 2)",
                     "data  splits       train 7, validation 1"]
