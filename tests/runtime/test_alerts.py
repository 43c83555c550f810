"""Each alert provoked on the tiny model, in-process through the runtime's orchestrator:
a very high learning rate (SGD, no clipping) spikes the loss and then makes it NaN (the
run stops with FTC550); many epochs on eight rows overfit; a learning rate of 1e-6 makes
no progress (plateau), and early stopping ends that run before max_steps.

Alerts go to the console, metrics.jsonl and summary.json with their step."""

from __future__ import annotations

import json

import pytest

from ftc.runtime.run_lock import RunFailure

from .conftest import base_recipe, compile_bundle, merge, only_run_dir, read_jsonl

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
QUIET = {"metrics": ["loss"], "samples": 0, "baseline": False}  # no generation: fast


def _train(workdir, recipe):
    from ftc.runtime.train import run_training

    bundle = compile_bundle(workdir, recipe)
    try:
        return run_training(bundle / "recipe.lock.yaml"), None
    except RunFailure as failure:
        return None, failure


def _alerts(run_dir, kind: str) -> list[dict]:
    return [m for m in read_jsonl(run_dir / "metrics.jsonl") if m.get("alert") == kind]


@pytest.fixture(scope="module")
def diverging(tmp_path_factory, tiny_model, tickets):
    """Full fine-tuning with plain SGD at learning rate 1.0 and no gradient clipping."""
    workdir = tmp_path_factory.mktemp("diverging")
    recipe = base_recipe("diverging", tiny_model, tickets)
    recipe["method"] = {"kind": "full"}
    recipe = merge(recipe, {"training": {
        "optimizer": "sgd", "learning_rate": 1.0, "max_grad_norm": 0, "scheduler": "constant",
        "warmup_ratio": 0, "logging_steps": 1, "max_steps": 40, "eval": {"every": 40},
        "save": {"every": 40}}, "evaluation": QUIET})
    summary, failure = _train(workdir, recipe)
    return {"dir": only_run_dir(workdir, "diverging"), "failure": failure, "summary": summary}


def test_a_loss_spike(diverging, capsys):
    spikes = _alerts(diverging["dir"], "loss_spike")
    assert spikes, "no loss spike was seen"
    first = spikes[0]
    assert first["step"] >= 4 and "loss spike at step" in first["message"]
    losses = {m["step"]: m["loss"] for m in read_jsonl(diverging["dir"] / "metrics.jsonl")
              if isinstance(m.get("loss"), float)}
    assert first["value"] == losses[first["step"]] > 1.5 * losses[first["step"] - 1]


def test_a_nan_loss_stops_the_run_with_a_message(diverging):
    failure = diverging["failure"]
    assert failure is not None and diverging["summary"] is None
    (diag,) = failure.diagnostics
    assert diag.rule == "FTC550" and "loss is nan" in diag.message
    assert "learning_rate" in diag.message
    summary = json.loads((diverging["dir"] / "summary.json").read_text())
    stop = summary["stopped"]
    assert stop["alert"] == "nonfinite_loss" and stop["step"] < 40
    assert summary["steps"] == stop["step"]
    assert [a["alert"] for a in summary["alerts"]][-1] == "nonfinite_loss"
    assert _alerts(diverging["dir"], "nonfinite_loss")[0]["step"] == stop["step"]
    assert not (diverging["dir"] / "model").exists()  # nothing saved from a NaN model
    assert (diverging["dir"] / "report.html").is_file()  # what happened, drawn


def test_overfitting(tmp_path, tiny_model, tickets):
    """Eight training rows, full fine-tuning, twenty epochs: memorised, not learned."""
    few = tmp_path / "few.jsonl"
    few.write_text("".join(tickets["train"].read_text().splitlines(keepends=True)[:8]))
    recipe = base_recipe("overfit", tiny_model, {**tickets, "train": few})
    recipe["method"] = {"kind": "full"}
    recipe = merge(recipe, {"training": {
        "learning_rate": 3e-3, "scheduler": "constant", "warmup_ratio": 0, "logging_steps": 2,
        "max_steps": 40, "eval": {"every": 4}, "save": {"every": 40}}, "evaluation": QUIET})
    summary, failure = _train(tmp_path, recipe)
    assert failure is None
    (alert,) = [a for a in summary["alerts"] if a["alert"] == "overfitting"]
    assert "validation loss rose" in alert["message"] and "training loss fell" in alert["message"]
    run_dir = only_run_dir(tmp_path, "overfit")
    evals = {m["step"]: m["eval_loss"] for m in read_jsonl(run_dir / "metrics.jsonl")
             if "eval_loss" in m}
    steps = sorted(s for s in evals if s <= alert["step"])[-4:]
    assert [evals[s] for s in steps] == sorted(evals[s] for s in steps)  # rising
    assert _alerts(run_dir, "overfitting")[0]["step"] == alert["step"]


def test_a_plateau_and_early_stopping(tmp_path, tiny_model, tickets, capsys):
    recipe = merge(base_recipe("plateau", tiny_model, tickets), {
        "training": {"learning_rate": 1e-6, "scheduler": "constant", "warmup_ratio": 0,
                     "logging_steps": 2, "max_steps": 24, "eval": {"every": 2},
                     "save": {"every": 2},
                     "early_stopping": {"enabled": True, "patience": 2, "threshold": 0.01}},
        "evaluation": {**QUIET, "alerts": {"plateau": {"evaluations": 2}}}})
    summary, failure = _train(tmp_path, recipe)
    assert failure is None
    (alert,) = [a for a in summary["alerts"] if a["alert"] == "plateau"]
    assert alert["step"] == 4 and "has not improved" in alert["message"]
    assert summary["steps"] < 24  # early stopping: no improvement of 0.01 in 2 evaluations
    out = capsys.readouterr()
    assert f"ftc: alert: plateau at step {alert['step']}" in out.err
