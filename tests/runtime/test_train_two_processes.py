"""Two CPU processes (gloo) on one node from a compiled bundle. Both ranks must train,
the launcher's exit status must be 0 (no SIGABRT at teardown), and the result must load
and generate. Other strategies with two processes: ZeRO-2 LoRA in test_resume.py, ZeRO-3
in test_sharded_strategies.py, DDP LoRA and ZeRO-2 full across two nodes in
test_multinode.py."""

from __future__ import annotations

import json

import pytest

from .conftest import (
    assert_trained_and_generates,
    compile_bundle,
    ftc,
    only_run_dir,
    rank_records,
    short_run,
)

pytestmark = [pytest.mark.slow, pytest.mark.distributed, pytest.mark.timeout(900)]

CASES = {
    # name: (method.kind, hardware.strategy, what the runtime reports on every rank)
    "ddp-qlora": ("qlora", "ddp", "MULTI_CPU"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_two_processes_train_and_the_result_generates(name, tmp_path, tiny_model, tickets):
    kind, strategy, distributed_type = CASES[name]
    recipe = short_run(name, tiny_model, tickets, kind, steps=6, gpus=2, strategy=strategy)
    bundle = compile_bundle(tmp_path, recipe)
    done = ftc("launch", str(bundle), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-4000:]
    assert "terminate called" not in done.stderr

    run_dir = only_run_dir(tmp_path, name)
    for record in rank_records(run_dir, 2, steps=6):
        assert record["distributed_type"].endswith(distributed_type)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["world_size"] == 2 and summary["steps"] == 6
    assert summary["eval_loss"]["last"] < summary["eval_loss"]["first"]
    assert_trained_and_generates(run_dir, tiny_model)
