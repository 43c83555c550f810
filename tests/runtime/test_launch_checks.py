"""The launch side of a cluster run, piece by piece: the preflight's verdicts (devices given
as a GPU machine would report them), torchrun's and accelerate's reports of a process
killed by a signal, whose checkpoint a run directory holds, FSDP's final full save, and
FSDP's own activation checkpointing."""

from __future__ import annotations

import io
import json
from types import SimpleNamespace

import pytest

from ftc.runtime.launcher_output import LauncherStderr
from ftc.runtime.preflight import check, port_is_free
from ftc.runtime.run_dir import plan_resume, prepare_run_dir
from ftc.runtime.run_lock import RunFailure, RunLock, load_run_lock

from .conftest import base_recipe, compile_bundle, merge


@pytest.fixture(scope="module")
def gpu_lock(tmp_path_factory, tiny_model, tickets):
    recipe = merge(base_recipe("gpu", tiny_model, tickets),
                   {"hardware": {"accelerator": "gpu", "gpus": 2, "strategy": "ddp"},
                    "training": {"precision": "bf16"}})
    return load_run_lock(compile_bundle(tmp_path_factory.mktemp("gpu"), recipe))


def _rules(problems) -> list[str]:
    return [d.rule for d in problems]


def _line_of(lock: RunLock, key: str) -> int:
    return lock.positions[key][0]


def test_no_gpu_here(gpu_lock):
    _, problems = check(gpu_lock, "0", "", "", devices=(0, False))
    (problem,) = problems
    assert problem.rule == "FTC540" and "no GPU is visible here" in problem.message
    assert problem.line == _line_of(gpu_lock, "hardware.accelerator")
    assert "--set hardware.accelerator=cpu" in problem.hint


def test_fewer_gpus_than_processes_and_no_bf16(gpu_lock):
    _, problems = check(gpu_lock, "0", "", "", devices=(1, False))
    assert _rules(problems) == ["FTC541", "FTC543"]
    assert "--set hardware.gpus=1" in problems[0].hint
    assert "--set training.precision=fp16" in problems[1].hint
    port, problems = check(gpu_lock, "0", "", "", devices=(2, True))
    assert problems == [] and port_is_free(port)


def test_ports_and_ranks(gpu_lock):
    _, problems = check(gpu_lock, "0", "http", "", devices=(2, True))
    assert _rules(problems) == ["FTC542"] and "not a port number" in problems[0].message
    _, problems = check(gpu_lock, "1", "", "", devices=(2, True))  # a one-node bundle
    assert _rules(problems) == ["FTC544"] and "0..0" in problems[0].hint


TORCHRUN_FAILURE = b"""\
torch.distributed.elastic.multiprocessing.errors.ChildFailedError:
============================================================
ftc.runtime FAILED
------------------------------------------------------------
Failures:
[1]:
  time      : 2026-11-28_19:10:39
  host      : localhost
  rank      : 0 (local_rank: 0)
  exitcode  : -15 (pid: 22694)  (SIGTERM)
  error_file: <N/A>
  traceback : Signal 15 (SIGTERM) received by PID 22694
------------------------------------------------------------
Root Cause (first observed failure):
[0]:
  time      : 2026-11-28_19:10:39
  host      : localhost
  rank      : 1 (local_rank: 1)
  exitcode  : -9 (pid: 22695)  (SIGKILL)
  error_file: <N/A>
  traceback : Signal 9 (SIGKILL) received by PID 22695
============================================================
"""


def test_the_root_cause_signal_is_the_one_reported():
    err = LauncherStderr(io.BytesIO())
    for i in range(0, len(TORCHRUN_FAILURE), 37):  # arrives in pieces, as from a pipe
        err.feed(TORCHRUN_FAILURE[i:i + 37])
    err.close()
    assert err.killed is not None and err.killed.text() == "signal 9 (SIGKILL) on rank 1"


def test_ranks_torchrun_stopped_after_a_failure_are_no_signal_news():
    exited = TORCHRUN_FAILURE.replace(b"exitcode  : -9 (pid: 22695)  (SIGKILL)",
                                      b"exitcode  : 1 (pid: 22695)").replace(
        b"traceback : Signal 9 (SIGKILL) received by PID 22695",
        b"traceback : To enable traceback see: https://pytorch.org/docs/stable/elastic")
    err = LauncherStderr(io.BytesIO())
    err.feed(exited)
    assert err.killed is None  # rank 0 was SIGTERMed by torchrun, after rank 1 exited 1


def test_the_one_process_launcher_reports_a_signal_too():
    err = LauncherStderr(io.BytesIO())
    err.feed(b"subprocess.CalledProcessError: Command '['python', '-m', 'ftc.runtime']' "
             b"died with <Signals.SIGTERM: 15>.\n")
    assert err.killed.text() == "signal 15 (SIGTERM) on rank 0"
    quiet = LauncherStderr(io.BytesIO())
    quiet.feed(b"error: FTC503 something else\n")
    assert quiet.killed is None


@pytest.fixture
def cpu_lock(tmp_path, tiny_model, tickets):
    return load_run_lock(compile_bundle(tmp_path, base_recipe("own", tiny_model, tickets)))


def _checkpointed_run(lock: RunLock, world_size: int):
    run_dir = lock.dir.parent / "runs" / "own" / "run-1"
    prepare_run_dir(lock, run_dir, world_size)
    (run_dir / "checkpoint-2").mkdir()
    (run_dir / "checkpoint-2" / "trainer_state.json").write_text("{}")
    return run_dir


def test_a_checkpoint_resumes_only_at_the_world_size_that_wrote_it(cpu_lock):
    run_dir = _checkpointed_run(cpu_lock, world_size=2)
    assert plan_resume(cpu_lock, None, 2).resume_from == run_dir / "checkpoint-2"
    with pytest.raises(RunFailure) as refused:
        plan_resume(cpu_lock, None, 1)
    assert "2 process(es) there, 1 here" in str(refused.value)
    with pytest.raises(RunFailure) as refused:
        plan_resume(cpu_lock, str(run_dir), 1)
    assert "belongs to another bundle" in str(refused.value)


def test_run_directories_of_older_ftc_are_not_resumed(cpu_lock):
    run_dir = _checkpointed_run(cpu_lock, world_size=1)
    info = json.loads((run_dir / "ftc_run.json").read_text())
    del info["bundle"]  # what ftc wrote before checkpoints belonged to a bundle
    (run_dir / "ftc_run.json").write_text(json.dumps(info))
    with pytest.raises(RunFailure) as refused:
        plan_resume(cpu_lock, None, 1)
    assert "no bundle record" in str(refused.value)


def test_fsdp_saves_the_final_weights_whole():
    from accelerate.utils import FullyShardedDataParallelPlugin

    from ftc.runtime.methods.common import full_state_dict_for_fsdp

    plugin = FullyShardedDataParallelPlugin(fsdp_version=2,
                                            state_dict_type="SHARDED_STATE_DICT")
    trainer = SimpleNamespace(is_fsdp_enabled=True,
                              accelerator=SimpleNamespace(state=SimpleNamespace(
                                  fsdp_plugin=plugin)))
    full_state_dict_for_fsdp(trainer)
    # what transformers' Trainer.save_model tests before it writes any weights under FSDP
    assert "FULL_STATE_DICT" in str(plugin.state_dict_type)
    assert type(plugin.state_dict_config).__name__ == "FullStateDictConfig"


@pytest.mark.parametrize("kind,by_trainer", [("full", False), ("lora", True)])
def test_fsdp_checkpoints_activations_itself_except_for_adapters(cpu_lock, kind, by_trainer):
    """The Trainer's side of accelerate.yaml's fsdp_activation_checkpointing: never both."""
    from ftc.runtime.training_args import sft_config

    values = json.loads(json.dumps(cpu_lock.values))
    values["training"]["gradient_checkpointing"] = True
    values["hardware"]["strategy"] = "fsdp"
    values["method"]["kind"] = kind
    args = sft_config(RunLock(cpu_lock.path, values), cpu_lock.dir / "out")
    assert args.activation_checkpointing is by_trainer
