"""The runtime's reading of a lock: positions for errors, and SFTConfig built
value for value from the lock's training section."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from ftc.runtime.run_lock import RunFailure, load_run_lock

from .conftest import base_recipe, compile_bundle, merge


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, tiny_model, tickets):
    recipe = merge(base_recipe("args", tiny_model, tickets), {
        "training": {"micro_batch_size": 2, "gradient_accumulation": 3, "warmup_ratio": 0.1,
                     "scheduler": "linear", "gradient_checkpointing": True,
                     "weight_decay": 0.01, "max_grad_norm": 0.5,
                     "eval": {"every": 7}, "save": {"every": 14, "keep_last": 3}},
        "data": {"packing": True},
    })
    return compile_bundle(tmp_path_factory.mktemp("args"), recipe)


def test_errors_point_at_the_value_in_the_lock(bundle):
    lock = load_run_lock(bundle / "recipe.lock.yaml")
    lines = (bundle / "recipe.lock.yaml").read_text().splitlines()
    diag = lock.error("training.micro_batch_size", "FTC509", "x")
    assert lines[diag.line - 1].strip().startswith("micro_batch_size:")
    assert lock.error("data.train", "FTC502", "x").line == next(
        i for i, text in enumerate(lines, 1) if text.strip().startswith("train:"))
    # unknown keys fall back to the nearest parent that is there
    parent = lock.error("training.nothing_here", "FTC599", "x")
    assert lines[parent.line - 1].strip() == "training:"


def test_bad_lock_files_are_diagnostics(tmp_path):
    broken = tmp_path / "recipe.lock.yaml"
    broken.write_text("name: x\nmodel: [unclosed\n")
    with pytest.raises(RunFailure) as info:
        load_run_lock(broken)
    assert info.value.diagnostics[0].rule == "FTC501"
    assert info.value.diagnostics[0].line >= 2
    other = tmp_path / "other.yaml"
    other.write_text("just: text\n")
    with pytest.raises(RunFailure, match="not an ftc lock"):
        load_run_lock(other)


def test_runtime_entry_point_exits_1_without_traceback(tmp_path):
    done = subprocess.run([sys.executable, "-m", "ftc.runtime", str(tmp_path / "none.yaml")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "FTC501" in done.stderr and "Traceback" not in done.stderr


def test_training_arguments_copy_the_lock(bundle):
    from ftc.runtime.training_args import apply_data_facts, sft_config

    lock = load_run_lock(bundle)
    args = sft_config(lock, bundle / "out")
    assert args.per_device_train_batch_size == 2
    assert args.gradient_accumulation_steps == 3
    assert args.learning_rate == pytest.approx(2e-3)
    assert str(args.lr_scheduler_type.value) == "linear"
    assert math.isclose(args.warmup_steps, 0.1)  # below 1: a ratio of the total steps
    assert args.activation_checkpointing is True
    assert args.weight_decay == 0.01 and args.max_grad_norm == 0.5
    assert args.max_steps == 12 and args.seed == 7
    assert args.eval_steps == 7 and args.save_steps == 14 and args.save_total_limit == 3
    assert args.use_cpu is True and not args.bf16 and not args.fp16
    assert args.packing is True and args.padding_free is True and args.max_length == 256
    assert args.report_to == ["tensorboard"]
    apply_data_facts(args, "completion", has_validation=False)
    assert args.completion_only_loss is True and args.assistant_only_loss is False
    assert args.eval_strategy == "no"


def test_batches_group_by_length_unless_packing(bundle, tmp_path, tiny_model, tickets):
    """Unpacked runs draw batches of similar lengths (transformers' LengthGroupedSampler);
    packed rows, data.group_by_length false and preference pairs (no input_ids) do not."""
    from trl import DPOConfig

    from ftc.runtime.methods.common import config_for
    from ftc.runtime.training_args import sft_config

    assert sft_config(load_run_lock(bundle), tmp_path / "p").train_sampling_strategy == "random"
    for setting, expected in ((None, "group_by_length"), (False, "random")):
        data = {} if setting is None else {"group_by_length": setting}
        grouped = compile_bundle(tmp_path / f"g-{setting}",
                                 merge(base_recipe("grouped", tiny_model, tickets), {"data": data}))
        args = sft_config(load_run_lock(grouped), tmp_path / "out")
        assert args.train_sampling_strategy == expected
    assert config_for(DPOConfig, args).train_sampling_strategy == "random"
    args.train_sampling_strategy = "group_by_length"
    assert config_for(DPOConfig, args).train_sampling_strategy == "random"


def test_length_grouped_order_depends_on_seed_and_epoch_only():
    """A resumed run must draw the batches the interrupted one would have drawn."""
    import torch
    from transformers.trainer_pt_utils import LengthGroupedSampler

    from ftc.runtime.length_grouping import epoch_seeded

    lengths = [(i * 37) % 101 + 1 for i in range(400)]

    def order(epoch: int, global_seed: int) -> list[int]:
        torch.manual_seed(global_seed)  # whatever the global state is at that moment
        sampler = epoch_seeded(LengthGroupedSampler(8, lengths=lengths), seed=7)
        sampler.set_epoch(epoch)
        return list(sampler)

    assert order(0, 1) == order(0, 2) and sorted(order(0, 1)) == list(range(400))
    assert order(1, 1) == order(1, 3) != order(0, 1)
    batches = [order(0, 1)[i:i + 8] for i in range(0, 400, 8)]  # still grouped by length
    spread = sum(max(lengths[j] for j in b) - min(lengths[j] for j in b) for b in batches)
    assert spread / len(batches) < 30  # random batches of 8 spread about 80
