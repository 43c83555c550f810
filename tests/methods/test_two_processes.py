"""DPO and distillation under `accelerate launch` with two CPU processes (gloo, DDP):
both ranks train the same steps, the launcher exits 0, and each method's signature holds."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import compile_lock, recipe

pytestmark = [pytest.mark.slow, pytest.mark.distributed, pytest.mark.timeout(900)]

DRIVER = Path(__file__).with_name("two_process_driver.py")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(lock, out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false",
           "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run(
        [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes",
         "2", "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
         "--main_process_port", str(_free_port()), str(DRIVER), str(lock.path), str(out)],
        env=env, capture_output=True, text=True, timeout=840)
    assert done.returncode == 0, done.stderr[-4000:]
    assert "terminate called" not in done.stderr
    ranks = [json.loads((out / f"rank-{r}.json").read_text()) for r in (0, 1)]
    for rank, record in enumerate(ranks):
        assert record["rank"] == rank and record["world_size"] == 2
        assert record["distributed_type"].endswith("MULTI_CPU")
    assert ranks[0]["steps"] == ranks[1]["steps"] > 0
    return json.loads((out / "result.json").read_text())


def test_dpo_trains_on_two_processes(tmp_path, models, data):
    values = recipe("dpo-2p", models["student"], {"kind": "dpo", "dpo": {"beta": 0.1}},
                    data["pref-train"], data["pref-val"], learning_rate=5e-3, max_steps=6,
                    micro_batch_size=2, gradient_accumulation=2)
    values["hardware"]["gpus"] = 2
    lock = compile_lock(tmp_path, values)
    assert lock.get("hardware.strategy") == "ddp" and lock.get("training.batch_size") == 8
    result = _launch(lock, tmp_path / "out")
    assert result["after"]["eval_rewards/margins"] > result["before"]["eval_rewards/margins"] + 0.05
    assert result["after"]["eval_rewards/accuracies"] > 0.6
    assert (Path(result["outputs"]["adapter"]) / "adapter_config.json").is_file()


def test_distillation_trains_on_two_processes(tmp_path, models, data):
    values = recipe("distill-2p", models["raw"],
                    {"kind": "distill", "distill": {"teacher": str(models["teacher"]),
                                                    "alpha": 1.0}},
                    data["tickets-train"], data["tickets-val"], learning_rate=1e-2,
                    max_steps=6, micro_batch_size=2, gradient_accumulation=2)
    values["hardware"]["gpus"] = 2
    lock = compile_lock(tmp_path, values)
    result = _launch(lock, tmp_path / "out")
    kl = [h["distill_kl"] for h in result["log"] if "distill_kl" in h and "eval_loss" not in h]
    assert len(kl) == 6 and sum(kl[-2:]) < sum(kl[:2]), kl
    assert result["after"]["eval_loss"] < result["before"]["eval_loss"]
    assert (Path(result["outputs"]["adapter"]) / "adapter_config.json").is_file()
