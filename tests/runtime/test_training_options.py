"""Training options (issue 13) reach the trainer: each read back from the SFTConfig built
from a real lock, GPU-only options refused on this CPU machine with a located FTC515,
and one grouped run that trains the CPU-capable ones for a few steps each."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ftc.runtime.run_lock import RunFailure, load_run_lock

from .conftest import base_recipe, compile_bundle, merge


def lock_for(tmp_path, tiny_model, tickets, extra: dict, name: str = "opts"):
    recipe = merge(base_recipe(name, tiny_model, tickets), extra)
    return load_run_lock(compile_bundle(tmp_path, recipe))


def args_for(tmp_path, tiny_model, tickets, extra: dict):
    from ftc.runtime.training_args import sft_config

    lock = lock_for(tmp_path, tiny_model, tickets, extra)
    return sft_config(lock, tmp_path / "out", check=False)


def gpu(**training) -> dict:
    """A GPU bundle (nothing checks for a GPU at compile time); fp32 so that this CPU
    machine can still build the arguments."""
    return {"hardware": {"accelerator": "gpu"}, "training": {"precision": "fp32", **training}}


@pytest.mark.parametrize("extra,expect", [
    ({"training": {"optimizer": "paged_lion_8bit", "betas": [0.8, 0.95]}},
     {"optim": "paged_lion_8bit", "adam_beta1": 0.8, "adam_beta2": 0.95}),
    ({"training": {"optimizer": "adamw_bnb_8bit", "epsilon": 1e-6}},
     {"optim": "adamw_8bit", "adam_epsilon": 1e-6, "adam_beta2": 0.999}),
    ({"training": {"optimizer": "adamw_torch_fused"}}, {"optim": "adamw_torch_fused"}),
    ({"training": {"optimizer": "adafactor"}}, {"optim": "adafactor"}),
    ({"training": {"optimizer": "sgd"}}, {"optim": "sgd"}),
    ({"training": {"scheduler": "cosine", "min_lr_ratio": 0.2}},
     {"lr_scheduler_type": "cosine_with_min_lr", "lr_scheduler_kwargs": {"min_lr_rate": 0.2}}),
    ({"training": {"scheduler": "polynomial", "min_lr_ratio": 0.1}},
     {"lr_scheduler_type": "polynomial", "lr_scheduler_kwargs": {"lr_end": 2e-4}}),
    ({"training": {"scheduler": "constant_with_warmup", "warmup_steps": 3}},
     {"lr_scheduler_type": "constant_with_warmup", "warmup_steps": 3}),
    ({"training": {"gradient_checkpointing": "reentrant"}},
     {"activation_checkpointing": True, "activation_checkpointing_kwargs": {"use_reentrant": True}}),
    ({"training": {"gradient_checkpointing": True}},
     {"activation_checkpointing_kwargs": {"use_reentrant": False}}),
    ({"training": {"torch_compile": True, "neftune_noise_alpha": 5}},
     {"torch_compile": True, "neftune_noise_alpha": 5}),
    ({"training": {"precision": "pure_bf16"}}, {"bf16": False, "fp16": False}),
    (gpu(liger_kernel=True), {"use_liger_kernel": True}),
    (gpu(activation_offloading=True), {"activation_offloading": True}),
    ({"logging": {"report_to": ["wandb", "mlflow"], "run_name": "first"}},
     {"report_to": ["wandb", "mlflow"], "run_name": "first", "project": "opts"}),
])
def test_option_reaches_the_sft_config(tmp_path, tiny_model, tickets, extra, expect):
    args = args_for(tmp_path, tiny_model, tickets, extra)
    for name, value in expect.items():
        got = getattr(args, name)
        got = getattr(got, "value", got)  # enums (optim, scheduler)
        assert got == value, (name, got, value)


def test_pure_bf16_loads_bf16_weights_for_full_training(tmp_path, tiny_model, tickets):
    import torch

    from ftc.runtime.model_loading import weights_dtype

    def full(precision: str):
        recipe = merge(base_recipe("full", tiny_model, tickets),
                       {"training": {"learning_rate": 1e-4, "precision": precision}})
        recipe["method"] = {"kind": "full"}
        return load_run_lock(compile_bundle(tmp_path / precision, recipe))

    pure, mixed = full("pure_bf16"), full("bf16")
    assert weights_dtype(pure) == torch.bfloat16  # no fp32 master copy
    assert weights_dtype(mixed) == torch.float32  # autocast over fp32 master weights


@pytest.mark.parametrize("extra,path", [
    (gpu(liger_kernel=True), "training.liger_kernel"),
    (gpu(activation_offloading=True), "training.activation_offloading"),
    (gpu(tf32=True), "training.tf32"),
    (gpu(loss_kernel="cut_cross_entropy"), "training.loss_kernel"),
])
def test_gpu_options_are_refused_without_a_gpu(tmp_path, tiny_model, tickets, extra, path):
    from ftc.runtime.training_args import sft_config

    lock = lock_for(tmp_path, tiny_model, tickets, extra)
    with pytest.raises(RunFailure) as info:
        sft_config(lock, tmp_path / "out")
    diag = info.value.diagnostics[0]
    assert diag.rule == "FTC515" and path in diag.message and "GPU" in diag.message
    line = (lock.path.read_text().splitlines())[diag.line - 1]
    assert line.strip().startswith(path.rsplit(".", 1)[1] + ":")


def test_missing_packages_are_refused(tmp_path, tiny_model, tickets, monkeypatch):
    from ftc.runtime import options

    lock = lock_for(tmp_path, tiny_model, tickets, {"logging": {"report_to": ["mlflow"]}})
    monkeypatch.setattr(options, "_installed", lambda module: module != "mlflow")
    with pytest.raises(RunFailure) as info:
        options.check_options(lock)
    diag = info.value.diagnostics[0]
    assert diag.rule == "FTC516" and "mlflow" in diag.message and "pip install" in diag.hint
    monkeypatch.setattr(options, "_has_cuda", lambda: True)
    monkeypatch.setattr(options, "_cuda", lambda minimum: True)
    liger = lock_for(tmp_path / "l", tiny_model, tickets, gpu(liger_kernel=True))
    monkeypatch.setattr(options, "_installed", lambda module: module != "liger_kernel")
    with pytest.raises(RunFailure, match="liger-kernel"):
        options.check_options(liger)


def test_the_runtime_refuses_before_training(tmp_path, tiny_model, tickets):
    recipe = merge(base_recipe("liger", tiny_model, tickets),
                   gpu(liger_kernel=True))
    bundle = compile_bundle(tmp_path, recipe)
    done = subprocess.run([sys.executable, "-m", "ftc.runtime", str(bundle / "recipe.lock.yaml")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert "FTC515" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "runs").exists()  # refused before a run directory was made


def test_tracker_environment_points_at_the_run(tmp_path, tiny_model, tickets):
    from ftc.runtime.trackers import tracker_environment

    lock = lock_for(tmp_path, tiny_model, tickets, {"logging": {
        "report_to": ["wandb", "mlflow"], "wandb": {"mode": "offline", "entity": "team"}}})
    run_dir = tmp_path / "runs" / "opts" / "run-1"
    env = tracker_environment(lock, run_dir)
    assert env["WANDB_PROJECT"] == "opts" and env["WANDB_MODE"] == "offline"
    assert env["WANDB_ENTITY"] == "team" and env["WANDB_DIR"] == str(run_dir)
    assert env["MLFLOW_EXPERIMENT_NAME"] == "opts"
    assert env["MLFLOW_TRACKING_URI"] == (tmp_path / "runs" / "opts" / "mlruns").as_uri()
    json.dumps(env)  # plain strings only
