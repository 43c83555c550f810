"""Resume after kill -9: `ftc launch BUNDLE --resume` continues from the last
checkpoint, and the final loss matches an uninterrupted run with the same seed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from .conftest import PYTHON, base_recipe, compile_bundle, ftc, read_jsonl, runtime_env

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

STEPS = 30  # 120 of the 160 training examples: one epoch, no reshuffle in between


def _recipe(tiny_model, tickets):
    recipe = base_recipe("resume", tiny_model, tickets)
    recipe["training"].update({"max_steps": STEPS, "logging_steps": 1,
                               "eval": {"strategy": "no"},
                               "save": {"strategy": "steps", "every": 5, "keep_last": 3}})
    return recipe


def test_kill_9_then_resume_matches_an_uninterrupted_run(tmp_path, tiny_model, tickets):
    bundle = compile_bundle(tmp_path, _recipe(tiny_model, tickets))
    runs = tmp_path / "runs" / "resume"

    straight = ftc("launch", str(bundle), cwd=tmp_path)
    assert straight.returncode == 0, straight.stderr[-3000:]
    (reference,) = runs.glob("run-*")

    killed_dir = _launch_and_kill_after_checkpoint(bundle, runs, exclude=reference, step=10)
    assert not (killed_dir / "summary.json").exists()  # it really died mid-run

    resumed = ftc("launch", str(bundle), "--resume", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    summary = json.loads((killed_dir / "summary.json").read_text())
    assert summary["resumed_from"].startswith(str(killed_dir / "checkpoint-"))
    assert summary["steps"] == STEPS

    ours = _losses(killed_dir)
    theirs = _losses(reference)
    assert sorted(ours) == list(range(1, STEPS + 1))  # one line per step, none twice
    assert abs(ours[STEPS] - theirs[STEPS]) < 1e-4
    resumed_at = int(summary["resumed_from"].rsplit("-", 1)[1])
    for step in range(resumed_at + 1, STEPS + 1):  # every step after the resume, in fact
        assert abs(ours[step] - theirs[step]) < 1e-4, step


def _losses(run_dir):
    return {m["step"]: m["loss"] for m in read_jsonl(run_dir / "metrics.jsonl") if "loss" in m}


def _launch_and_kill_after_checkpoint(bundle, runs, exclude, step):
    proc = subprocess.Popen([PYTHON, "-m", "ftc.cli", "launch", str(bundle)],
                            env=runtime_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            fresh = [d for d in runs.glob("run-*") if d != exclude]
            if fresh and (fresh[0] / f"checkpoint-{step}" / "trainer_state.json").is_file():
                os.killpg(proc.pid, signal.SIGKILL)  # launcher, accelerate and the trainer
                proc.wait()
                return fresh[0]
            assert proc.poll() is None, "the run ended before it could be killed"
            time.sleep(0.05)
        raise AssertionError("no checkpoint appeared")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_resume_refuses_a_checkpoint_of_another_recipe(tmp_path, tiny_model, tickets):
    theirs = _recipe(tiny_model, tickets)
    theirs.update(name="other")
    theirs["training"].update({"max_steps": 5, "save": {"every": 5}})
    other_bundle = compile_bundle(tmp_path / "other", theirs)
    assert ftc("launch", str(other_bundle), cwd=tmp_path / "other").returncode == 0
    (checkpoint,) = (tmp_path / "other" / "runs" / "other").glob("run-*/checkpoint-5")

    ours = compile_bundle(tmp_path / "ours", _recipe(tiny_model, tickets))
    done = ftc("launch", str(ours), "--resume", str(checkpoint), cwd=tmp_path / "ours")
    assert done.returncode == 1
    assert "FTC508" in done.stderr and "another recipe" in done.stderr
    assert "name: \"other\" there, \"resume\" here" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "ours" / "runs").exists()  # nothing started, nothing written
