"""Known run-time failures are explained (`path:line:col: error: FTCnnn ...`, exit 1),
never a traceback, and leave no run directory behind."""

from __future__ import annotations

import json
import resource

import pytest

from .conftest import base_recipe, compile_bundle, ftc, merge

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def _fails(workdir, recipe, *, preexec_fn=None):
    bundle = compile_bundle(workdir, recipe)
    done = ftc("launch", str(bundle), cwd=workdir, preexec_fn=preexec_fn)
    assert done.returncode == 1, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    return bundle, done.stderr


def _lock_line(bundle, prefix):
    lines = (bundle / "recipe.lock.yaml").read_text().splitlines()
    return next(i for i, text in enumerate(lines, 1) if text.strip().startswith(prefix))


def test_missing_data_file(tmp_path, tiny_model, tickets):
    missing = tmp_path / "data" / "gone.jsonl"
    recipe = merge(base_recipe("nodata", tiny_model, tickets),
                   {"data": {"train": str(missing)}})
    _, stderr = _fails(tmp_path, recipe)
    assert f"{missing}:1:1: error: FTC300 file not found" in stderr
    assert not (tmp_path / "runs").exists()


def test_model_path_that_does_not_exist(tmp_path, tiny_model, tickets):
    recipe = merge(base_recipe("nomodel", tiny_model, tickets),
                   {"model": {"base": "./models/not-made-yet"}})
    bundle, stderr = _fails(tmp_path, recipe)
    line = _lock_line(bundle, "base:")
    assert f"recipe.lock.yaml:{line}:" in stderr and "FTC504" in stderr
    assert "not-made-yet" in stderr and "ftc init-tiny-model" in stderr
    assert not (tmp_path / "runs").exists()


def test_preference_data_for_an_sft_method(tmp_path, tiny_model, tickets):
    # a .json file: the compiler cannot tell its format, so the runtime must
    pairs = tmp_path / "pairs.json"
    pairs.write_text(json.dumps([
        {"prompt": f"Ticket {i}: where is my order?", "chosen": f"On its way, day {i}.",
         "rejected": "No idea."} for i in range(40)]))
    recipe = merge(base_recipe("wrongformat", tiny_model, tickets),
                   {"data": {"train": str(pairs)}})
    recipe["data"].pop("validation")
    bundle, stderr = _fails(tmp_path, recipe)
    assert "FTC503" in stderr and "'preference' format" in stderr
    assert "method.kind dpo" in stderr  # the hint says what would train on it
    assert f"recipe.lock.yaml:{_lock_line(bundle, 'format:')}:" in stderr
    assert not (tmp_path / "runs" / "wrongformat").exists() or not list(
        (tmp_path / "runs" / "wrongformat").glob("run-*"))


def _cap_address_space():
    """6 GiB of address space (training this tiny model needs far less): the allocation
    below then fails the same way on any machine, however much memory it has."""
    limit = 6 << 30
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def test_out_of_memory_gives_the_troubleshooting_advice(tmp_path, tiny_model, tickets):
    # one ~25k-token ticket with eager attention: the attention scores alone need
    # 4 heads x 25k x 25k x 4 bytes = 10 GB, a real allocation that cannot succeed
    long_ticket = {"messages": [
        {"role": "user", "content": "my order is late " * 5000},
        {"role": "assistant", "content": "Category: shipping\nReply: Sorry."}]}
    data = tmp_path / "long.jsonl"
    data.write_text(json.dumps(long_ticket) + "\n")
    recipe = merge(base_recipe("oom", tiny_model, tickets), {
        "model": {"max_seq_length": 30000, "attn_implementation": "eager"},
        "data": {"train": str(data), "length_policy": "truncate"},
        "training": {"micro_batch_size": 2, "max_steps": 1, "eval": {"strategy": "no"}},
    })
    bundle, stderr = _fails(tmp_path, recipe, preexec_fn=_cap_address_space)
    assert "FTC509 out of memory" in stderr
    assert f"recipe.lock.yaml:{_lock_line(bundle, 'micro_batch_size:')}:" in stderr
    # the troubleshooting table's fixes for this recipe, cheapest first
    advice = stderr[stderr.index("what to change"):]
    order = [advice.index(fix) for fix in (
        "training.micro_batch_size: 1, training.gradient_accumulation:",
        "training.gradient_checkpointing: true", "method.kind: qlora", "hardware.strategy: zero")]
    assert order == sorted(order)


def test_a_gpu_bundle_on_a_machine_without_one_stops_before_any_work(tmp_path, tiny_model,
                                                                   tickets):
    """Was: the data prepared for 30 s, then accelerate's `ValueError: Your setup doesn't
    support bf16/gpu` traceback. Now the preflight refuses it before anything runs."""
    recipe = merge(base_recipe("needsgpu", tiny_model, tickets),
                   {"hardware": {"accelerator": "gpu"}})
    bundle, stderr = _fails(tmp_path, recipe)
    assert f"recipe.lock.yaml:{_lock_line(bundle, 'accelerator:')}:" in stderr
    assert "FTC540 this bundle trains on GPUs" in stderr and "no GPU is visible here" in stderr
    assert "--set hardware.accelerator=cpu" in stderr
    assert not (tmp_path / "runs").exists()  # no data prepared, no run directory
