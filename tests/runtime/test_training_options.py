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
     {"activation_checkpointing": True,
      "activation_checkpointing_kwargs": {"use_reentrant": True}}),
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


# ---------------------------------------------------------------- training runs on CPU


def train_briefly(tmp_path, tiny_model, tickets, extra: dict, full: bool = False,
                  callbacks=(), adjust=None):
    """Train 3 steps in-process through the method interface; the trainer afterwards."""
    from ftc.runtime.methods.run import build_job, prepare_inputs

    recipe = merge(base_recipe("run", tiny_model, tickets), merge({
        "training": {"max_steps": 3, "logging_steps": 1, "micro_batch_size": 2,
                     "eval": {"strategy": "no"}, "save": {"strategy": "no"}},
        "logging": {"report_to": ["none"]}}, extra))
    if full:
        recipe["method"] = {"kind": "full"}
        recipe["training"].setdefault("learning_rate", 1e-4)
    lock = load_run_lock(compile_bundle(tmp_path, recipe))
    tokenizer, splits, args = prepare_inputs(lock, tmp_path / "run")
    args.disable_tqdm = True
    if adjust:
        adjust(args)
    trainer = build_job(lock, tokenizer, splits, args, callbacks).stages[0].trainer
    trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert len(losses) == 3 and all(loss == loss and loss < 100 for loss in losses), losses
    return trainer


def optimizer_states(trainer) -> dict:
    import torch

    opt = getattr(trainer.optimizer, "optimizer", trainer.optimizer)
    states = {}
    for state in opt.state.values():
        for key, value in state.items():
            if torch.is_tensor(value) and value.numel() > 1:
                states.setdefault(key, set()).add(value.dtype)
    return states


@pytest.mark.slow
@pytest.mark.parametrize("name,state,dtype", [
    ("adamw_bnb_8bit", "state1", "torch.uint8"),  # alias of adamw_8bit: bitsandbytes on CPU
    ("paged_adamw_32bit", "state2", "torch.float32"),
    ("lion_8bit", "state1", "torch.uint8"),
    ("adamw_torch_fused", "exp_avg_sq", "torch.float32"),
    ("adafactor", "exp_avg_sq_row", "torch.float32"),
    ("sgd", None, None),
])
def test_optimizers_train_on_cpu(tmp_path, tiny_model, tickets, name, state, dtype):
    trainer = train_briefly(tmp_path, tiny_model, tickets,
                            {"training": {"optimizer": name}}, full=True)
    states = optimizer_states(trainer)
    if state is None:
        assert states == {}  # plain SGD keeps no state
    else:
        assert dtype in {str(d) for d in states[state]}, states


@pytest.mark.slow
def test_schedule_floor_warmup_neftune_and_pure_bf16_train_on_cpu(tmp_path, tiny_model,
                                                                  tickets):
    import torch
    from transformers import TrainerCallback

    seen = {}

    class Probe(TrainerCallback):
        def on_step_end(self, args, state, control, model=None, **kwargs):
            embeddings = model.get_input_embeddings()
            seen["neftune"] = getattr(embeddings, "neftune_noise_alpha", None)
            seen["hooks"] = len(embeddings._forward_hooks)

    trainer = train_briefly(tmp_path / "a", tiny_model, tickets, {"training": {
        "scheduler": "cosine", "min_lr_ratio": 0.5, "warmup_steps": 1,
        "neftune_noise_alpha": 5, "precision": "pure_bf16"}}, callbacks=[Probe()])
    rates = [h["learning_rate"] for h in trainer.state.log_history if "learning_rate" in h]
    peak = trainer.args.learning_rate
    assert rates[0] < peak and rates[1] == pytest.approx(peak)  # one warmup step
    assert rates[-1] < peak and min(rates[1:]) >= 0.5 * peak - 1e-12  # decays to the floor
    assert seen == {"neftune": 5, "hooks": 1}  # NEFTune's noise hook on the embeddings
    adapters = [p for p in trainer.model.parameters() if p.requires_grad]
    assert adapters and all(p.dtype == torch.bfloat16 for p in adapters)  # pure bf16 LoRA

    full = train_briefly(tmp_path / "b", tiny_model, tickets,
                         {"training": {"precision": "pure_bf16"}}, full=True)
    assert all(p.dtype == torch.bfloat16 for p in full.model.parameters())
    assert optimizer_states(full)["exp_avg"] == {torch.bfloat16}  # no fp32 states either


@pytest.mark.slow
def test_torch_compile_trains_on_cpu(tmp_path, tiny_model, tickets):
    """The lock's torch_compile makes accelerate wrap the model in torch.compile.

    Inductor's C++ build of the tiny model takes about 3 minutes on 2 busy cores, so this
    test asks dynamo for its eager backend (the same graph capture, no code
    generation); the recipe itself keeps transformers' default backend (inductor).
    """
    def eager(args):
        assert args.torch_compile and args.torch_compile_backend == "inductor"
        args.torch_compile_backend = "eager"

    trainer = train_briefly(tmp_path, tiny_model, tickets, {"training": {"torch_compile": True}},
                            adjust=eager)
    assert type(trainer.model_wrapped).__name__ == "OptimizedModule"
