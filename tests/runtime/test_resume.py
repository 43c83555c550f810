"""Resume after kill -9, on two processes with DeepSpeed ZeRO-2: one training process is
killed mid-run (as the out-of-memory killer would), `ftc launch` says which signal ended
it and prints the exact command that resumes, that command continues from the last
checkpoint, and the final loss matches an uninterrupted run with the same seed.

A checkpoint belongs to the bundle that wrote it: a bundle with another batch layout
under the same output_dir/<name> neither picks it up nor overwrites it."""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import time

import psutil
import pytest

from .conftest import PYTHON, base_recipe, compile_bundle, ftc, merge, read_jsonl, runtime_env

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

STEPS = 8  # 2 x 4 examples a step: 64 of the 160, one epoch, no reshuffle in between
KILL_AFTER = 4  # the checkpoint after which rank 1 is killed: steps remain to resume


def _recipe(tiny_model, tickets):
    recipe = base_recipe("resume", tiny_model, tickets)
    recipe["training"].update({"max_steps": STEPS, "logging_steps": 1,
                               "eval": {"strategy": "no"},
                               "save": {"strategy": "steps", "every": 2, "keep_last": 3}})
    recipe["hardware"].update({"gpus": 2, "strategy": "zero2"})
    return recipe


@pytest.fixture(scope="module")
def straight(tmp_path_factory, tiny_model, tickets):
    """(workdir, bundle, run dir): one uninterrupted run of the two-process recipe. The
    kill -9 test compares its losses with it; the bundle test resumes against it as a
    run of another bundle (one launch fewer than training a run of its own)."""
    workdir = tmp_path_factory.mktemp("resume")
    bundle = compile_bundle(workdir, _recipe(tiny_model, tickets))
    done = ftc("launch", str(bundle), cwd=workdir)
    assert done.returncode == 0, done.stderr[-3000:]
    (reference,) = (workdir / "runs" / "resume").glob("run-*")
    return workdir, bundle, reference


@pytest.mark.distributed
def test_kill_9_of_a_rank_then_resume_matches_an_uninterrupted_run(straight):
    workdir, bundle, reference = straight
    runs = reference.parent

    killed_dir, stderr = _launch_and_kill_a_rank(bundle, runs, exclude=reference,
                                                  step=KILL_AFTER)
    assert not (killed_dir / "summary.json").exists()  # it really died mid-run
    assert "FTC545 training was killed by signal 9 (SIGKILL) on rank 1" in stderr, stderr[-3000:]
    command = f"ftc launch {shlex.quote(str(bundle))} --resume"
    assert command in stderr

    resumed = ftc(*shlex.split(command)[1:], cwd=workdir)  # exactly what it printed
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    summary = json.loads((killed_dir / "summary.json").read_text())
    assert summary["resumed_from"].startswith(str(killed_dir / "checkpoint-"))
    assert summary["steps"] == STEPS and summary["world_size"] == 2

    ours = _losses(killed_dir)
    theirs = _losses(reference)
    assert sorted(ours) == list(range(1, STEPS + 1))  # one line per step, none twice
    assert abs(ours[STEPS] - theirs[STEPS]) < 1e-4
    resumed_at = int(summary["resumed_from"].rsplit("-", 1)[1])
    assert KILL_AFTER <= resumed_at < STEPS
    for step in range(resumed_at + 1, STEPS + 1):  # every step after the resume, in fact
        assert abs(ours[step] - theirs[step]) < 1e-4, step


def _losses(run_dir):
    return {m["step"]: m["loss"] for m in read_jsonl(run_dir / "metrics.jsonl") if "loss" in m}


def _launch_and_kill_a_rank(bundle, runs, exclude, step):
    """Start `ftc launch`, SIGKILL the rank-1 training process after checkpoint-`step`."""
    proc = subprocess.Popen([PYTHON, "-m", "ftc.cli", "launch", str(bundle)],
                            env=runtime_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 600
    try:
        while time.monotonic() < deadline:
            fresh = [d for d in runs.glob("run-*") if d != exclude]
            if fresh and (fresh[0] / f"checkpoint-{step}" / "trainer_state.json").is_file():
                _rank_process(proc.pid, "1").send_signal(signal.SIGKILL)
                _, stderr = proc.communicate(timeout=300)
                assert proc.returncode == 1
                return fresh[0], stderr
            assert proc.poll() is None, "the run ended before it could be killed"
            time.sleep(0.05)
        raise AssertionError("no checkpoint appeared")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _rank_process(launcher_pid: int, rank: str) -> psutil.Process:
    for child in psutil.Process(launcher_pid).children(recursive=True):
        try:
            if "ftc.runtime" in child.cmdline() and child.environ().get("RANK") == rank:
                return child
        except psutil.NoSuchProcess:
            continue
    raise AssertionError(f"no training process with RANK={rank}")


@pytest.mark.distributed
def test_resume_takes_only_checkpoints_of_this_bundle(straight, tmp_path, tiny_model, tickets):
    """The bug: --resume continued the newest run under output_dir/<name> whatever bundle
    wrote it (here: another micro batch), overwriting its lock and summary. The runs there
    are the module's uninterrupted run (and the kill -9 test's, when it ran first)."""
    _, _, their_run = straight
    before = _snapshot(their_run.parent)

    ours = merge(_recipe(tiny_model, tickets), {"training": {"micro_batch_size": 2}})
    ours["output_dir"] = str(their_run.parent.parent)  # the same output_dir/<name>
    bundle = compile_bundle(tmp_path, ours)  # as deep as theirs: the same relative data paths
    done = ftc("launch", str(bundle), "--resume", cwd=tmp_path)
    assert done.returncode == 1, done.stderr[-3000:]
    assert "FTC508 nothing of this bundle to resume" in done.stderr
    assert "training.micro_batch_size: 4 there, 2 here" in done.stderr
    assert "Traceback" not in done.stderr

    explicit = ftc("launch", str(bundle), "--resume", str(their_run / "checkpoint-4"),
                   cwd=tmp_path)
    assert explicit.returncode == 1
    assert "belongs to another bundle (" in explicit.stderr
    assert "training.micro_batch_size: 4 there, 2 here" in explicit.stderr
    assert _snapshot(their_run.parent) == before  # nothing new, nothing touched


def _snapshot(runs):
    """{run name: {file name: bytes}} of the top-level files of every run under runs."""
    return {d.name: {p.name: p.read_bytes() for p in d.iterdir() if p.is_file()}
            for d in runs.glob("run-*")}
