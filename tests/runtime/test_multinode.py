"""Two nodes on one machine: the bundle's launch.sh run twice at once, MACHINE_RANK 0 and 1,
MAIN_PROCESS_IP=127.0.0.1, one gloo process per "node" (what slurm.sbatch does on each node
of a cluster). DDP, and DeepSpeed ZeRO-2 through the multi-node launcher accelerate calls
"standard" (torchrun on every node; its default, pdsh with a hostfile, cannot start here
or on most clusters). Both "nodes" exit 0 and the saved result loads and generates."""

from __future__ import annotations

import json
import subprocess

import pytest

from .conftest import (
    assert_trained_and_generates,
    compile_bundle,
    free_port,
    only_run_dir,
    rank_records,
    runtime_env,
    short_run,
)

pytestmark = [pytest.mark.slow, pytest.mark.distributed, pytest.mark.timeout(900)]

CASES = {
    # name: (method.kind, hardware.strategy, what every rank reports)
    "2node-ddp-lora": ("lora", "ddp", "MULTI_CPU"),
    "2node-zero2-full": ("full", "zero2", "DEEPSPEED"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_two_nodes_train_through_launch_sh(name, tmp_path, tiny_model, tickets):
    kind, strategy, distributed_type = CASES[name]
    recipe = short_run(name, tiny_model, tickets, kind, gpus=1, nodes=2, strategy=strategy)
    bundle = compile_bundle(tmp_path, recipe)
    if strategy == "zero2":
        config = (bundle / "accelerate.yaml").read_text()
        assert 'deepspeed_multinode_launcher: "standard"' in config
    elsewhere = tmp_path / "elsewhere"  # launch.sh works from any directory
    elsewhere.mkdir()
    port = str(free_port())
    nodes = [subprocess.Popen(
        ["bash", str(bundle / "launch.sh")], cwd=elsewhere, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
        env=runtime_env(MACHINE_RANK=str(rank), MAIN_PROCESS_IP="127.0.0.1",
                        MAIN_PROCESS_PORT=port)) for rank in (0, 1)]
    try:
        logs = [node.communicate(timeout=800)[0] for node in nodes]
    finally:
        for node in nodes:
            if node.poll() is None:
                node.kill()
    for rank, node in enumerate(nodes):
        assert node.returncode == 0, f"node {rank}:\n{logs[rank][-4000:]}"
        assert "terminate called" not in logs[rank]

    run_dir = only_run_dir(tmp_path, name)
    for record in rank_records(run_dir, 2, steps=4):
        assert record["local_rank"] == 0  # one process on each "node"
        assert record["distributed_type"].endswith(distributed_type)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["world_size"] == 2 and summary["steps"] == 4
    assert_trained_and_generates(run_dir, tiny_model)
