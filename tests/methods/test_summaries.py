"""What each method's summary says about its own results, through the orchestrator: DPO's
reward margin and accuracy (chosen preferred) and preference accuracy base vs tuned, the
KL of a distilled student to its teacher, GRPO's mean reward and its trend; never a
perplexity where the loss is not a token cross-entropy, and no loss at all for GRPO.

This file sorts after test_rlhf.py on purpose: an in-process run that evaluates before its
first step (eval_on_start, as the orchestrator does) leaves state behind that shifts the
numbers of test_grpo_raises_the_policys_mean_reward below its threshold when it runs
later in the same process (seen on main as well; each real run is its own process)."""

from __future__ import annotations

import pytest

from .conftest import compile_lock, recipe

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
EVAL = {"strategy": "steps", "every": 5}
NO_GENERATION = {"samples": 0}  # what these tests read needs no generated answers


def _summary(tmp_path, values, evaluation=None) -> tuple[dict, str]:
    from ftc.runtime.summary_text import format_summary
    from ftc.runtime.train import run_training

    lock = compile_lock(tmp_path, {**values, "evaluation": {**NO_GENERATION, **(evaluation or {})}})
    summary = run_training(lock.path)
    return summary, format_summary(summary)


def test_dpo_shows_margins_and_accuracy(tmp_path, models, data):
    summary, text = _summary(tmp_path, recipe(
        "dpo-summary", models["student"], {"kind": "dpo", "tuning": "lora",
                                           "dpo": {"beta": 0.1}},
        data["pref-train"], data["pref-val"], learning_rate=5e-3, max_steps=10, eval=EVAL))
    results = {r["label"]: r for r in summary["results"]}
    margin = results["reward margin"]
    accuracy = results["reward accuracy (chosen preferred)"]
    assert margin["split"] == accuracy["split"] == "validation"
    assert margin["first"] == pytest.approx(0.0, abs=1e-4)  # policy == reference at step 0
    assert margin["last"] > 0.1 and accuracy["last"] > accuracy["first"]
    ev = summary["evaluation"]
    assert ev["task"] == "preference" and ev["metrics"] == ["preference_accuracy", "loss"]
    assert set(ev["base"]) == set(ev["tuned"]) == {"preference_accuracy", "loss"}
    assert summary["eval_perplexity"] is None and summary["loss_name"] == "DPO loss"
    assert "reward margin:" in text and "reward accuracy (chosen preferred):" in text
    assert "validation DPO loss:" in text and "perplexity" not in text
    assert "preference accuracy" in text


def test_distillation_shows_the_kl_to_the_teacher(tmp_path, models, data):
    summary, text = _summary(tmp_path, recipe(
        "distill-summary", models["raw"], {"kind": "distill", "tuning": "full",
                                           "distill": {"teacher": str(models["teacher"]),
                                                       "temperature": 2.0, "alpha": 0.8}},
        data["tickets-train"], data["tickets-val"], learning_rate=3e-3, max_steps=10,
        eval=EVAL), {"metrics": ["loss"]})
    results = {r["label"]: r for r in summary["results"]}
    kl = results["KL to the teacher"]
    assert kl["split"] == "validation" and kl["last"] < kl["first"]
    assert "perplexity (cross-entropy part)" in results
    assert summary["eval_perplexity"] is None  # exp of the mixed loss is no perplexity
    assert "KL to the teacher:" in text


def test_rlhf_shows_the_mean_reward_and_its_trend(tmp_path, models, data, reward_run):
    summary, text = _summary(tmp_path, recipe(
        "rlhf-summary", models["student"],
        {"kind": "rlhf", "tuning": "full",
         "rlhf": {"reward_model": str(reward_run["outputs"]["model"]), "num_generations": 4,
                  "max_completion_length": 4}},
        data["tickets-train"], data["tickets-val"], micro_batch_size=8, gradient_accumulation=1,
        max_steps=3, logging_steps=1))
    (reward,) = [r for r in summary["results"] if r["split"] == "train"]
    assert reward["label"] == "mean reward" and reward["slope"] is not None
    assert summary["train_loss"] is None and summary["evaluation"]["metrics"] == []
    assert "mean reward:" in text and "per step" in text
    assert "train loss" not in text and "perplexity" not in text
