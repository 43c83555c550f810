"""ZeRO-3 and FSDP on this CPU machine, with the pinned libraries.

ZeRO-3 runs: DeepSpeed's CPU accelerator shards the tiny model over two gloo processes,
and the weights it gathers at the end load with from_pretrained and generate.

FSDP does not: accelerate 1.15 applies FSDP only when the process group is a GPU kind
(AcceleratorState: `elif self.distributed_type in [MULTI_GPU, ...]`), and a use_cpu
launch is MULTI_CPU, so an FSDP bundle on CPU would silently train plain DDP. That is
why FTC124 refuses fsdp with accelerator cpu; the probe below shows accelerate's own
behaviour, and fails the day accelerate runs FSDP on CPU (then lift FTC124 for fsdp).
benchmarks/gpu_check.sh runs FSDP (and ZeRO-3) on a GPU.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .conftest import (
    PYTHON,
    assert_trained_and_generates,
    compile_bundle,
    free_port,
    ftc,
    only_run_dir,
    rank_records,
    runtime_env,
    short_run,
)

pytestmark = [pytest.mark.slow, pytest.mark.distributed, pytest.mark.timeout(900)]


def test_zero3_trains_two_processes_and_saves_loadable_weights(tmp_path, tiny_model, tickets):
    recipe = short_run("zero3-full", tiny_model, tickets, "full", gpus=2, strategy="zero3")
    bundle = compile_bundle(tmp_path, recipe)
    ds = json.loads((bundle / "deepspeed.json").read_text())
    assert ds["zero_optimization"]["stage"] == 3
    done = ftc("launch", str(bundle), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-4000:]
    run_dir = only_run_dir(tmp_path, "zero3-full")
    for record in rank_records(run_dir, 2, steps=4):
        assert record["distributed_type"].endswith("DEEPSPEED")
    assert_trained_and_generates(run_dir, tiny_model)


def test_accelerate_runs_fsdp_on_cpu_as_plain_ddp(tmp_path):
    from ftc.compiler.emit.accelerate_config import accelerate_config
    from ftc.compiler.emit.yaml_text import yaml_text

    values = {"hardware": {"accelerator": "cpu", "strategy": "fsdp", "world_size": 2,
                           "nodes": 1, "gpus": 2, "fsdp": {"version": 2}},
              "training": {"precision": "fp32"}}
    config = tmp_path / "accelerate.yaml"
    config.write_text(yaml_text(accelerate_config(values)))  # what an fsdp CPU bundle would get
    done = subprocess.run(
        [PYTHON, "-m", "accelerate.commands.launch", "--config_file", str(config),
         "--main_process_port", str(free_port()),
         str(Path(__file__).with_name("fsdp_probe.py")), str(tmp_path)],
        env=runtime_env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    for rank in (0, 1):
        seen = json.loads((tmp_path / f"rank-{rank}.json").read_text())
        assert seen["world_size"] == 2
        # no FSDP: the day these fail, accelerate shards on CPU and FTC124 can go
        assert seen["distributed_type"] == "DistributedType.MULTI_CPU", seen
        assert seen["fsdp_plugin"] is False, seen
