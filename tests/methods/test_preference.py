"""DPO and reward models on preference pairs: their own signatures (reward margin and
chosen-over-rejected accuracy rise; the reference is the adapter-disabled base or a
frozen copy; a reward model that ranks chosen over rejected), and the data they refuse."""

from __future__ import annotations

import json

import pytest
import torch

from ftc.runtime.run_lock import RunFailure

from .conftest import prepared_job, recipe, state_dict_on_disk

slow = pytest.mark.slow


def _dpo(tmp_path, models, data, tuning: str, **training):
    return prepared_job(tmp_path, recipe(
        f"dpo-{tuning}", models["student"], {"kind": "dpo", "tuning": tuning,
                                             "dpo": {"beta": 0.1}},
        data["pref-train"], data["pref-val"], **training))


@slow
@pytest.mark.timeout(600)
def test_dpo_with_lora_raises_margin_and_accuracy_against_the_adapter_free_base(
        tmp_path, models, data):
    from ftc.runtime.methods.run import train_job

    _, job, run_dir = _dpo(tmp_path, models, data, "lora", learning_rate=5e-3, max_steps=10)
    trainer = job.stages[0].trainer
    assert trainer.ref_model is None  # no second copy: the reference is the adapter disabled
    before = trainer.evaluate()
    assert before["eval_rewards/margins"] == pytest.approx(0.0, abs=1e-4)  # policy == reference
    result = train_job(job, run_dir)
    after = result.stages["dpo"]
    assert after["eval_rewards/margins"] > before["eval_rewards/margins"] + 0.1
    assert after["eval_rewards/accuracies"] > max(0.75, before["eval_rewards/accuracies"])
    # LoRA leaves the base weights as they were; the adapter is what was saved
    base = trainer.model.get_base_model().state_dict()
    for name, tensor in state_dict_on_disk(models["student"]).items():
        key = next(k for k in base if k.replace(".base_layer", "") == name)
        assert torch.equal(base[key], tensor), name
    assert (run_dir / "adapter" / "adapter_config.json").is_file()


@slow
@pytest.mark.timeout(600)
def test_full_dpo_keeps_a_frozen_reference_copy(tmp_path, models, data):
    from ftc.runtime.methods.run import train_job

    _, job, run_dir = _dpo(tmp_path, models, data, "full", learning_rate=2e-4, max_steps=6)
    trainer = job.stages[0].trainer
    ref = trainer.ref_model
    assert ref is not None and ref is not trainer.model
    assert not any(p.requires_grad for p in ref.parameters())
    before = trainer.evaluate()
    result = train_job(job, run_dir)
    assert result.stages["dpo"]["eval_rewards/margins"] > before["eval_rewards/margins"] + 0.05
    on_disk = state_dict_on_disk(models["student"])
    ref_now, policy_now = ref.state_dict(), trainer.model.state_dict()
    assert all(torch.equal(ref_now[k], v) for k, v in on_disk.items())
    assert any(not torch.equal(policy_now[k], v) for k, v in on_disk.items())
    assert (run_dir / "model" / "config.json").is_file()


@slow
def test_reward_model_learns_to_rank_chosen_over_rejected(reward_run, data):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    before, after = reward_run["before"], reward_run["after"]
    assert after["eval_accuracy"] >= 0.9 > before["eval_accuracy"]
    assert after["eval_margin"] > before["eval_margin"] + 1.0
    # the standalone (merged) model scores pairs like the trained one did
    path = reward_run["outputs"]["model"]
    model = AutoModelForSequenceClassification.from_pretrained(path).eval()
    tokenizer = AutoTokenizer.from_pretrained(path)
    assert model.config.num_labels == 1
    wins = 0
    pairs = [json.loads(line) for line in data["category-val"].read_text().splitlines()]
    for pair in pairs:
        scores = []
        for side in ("chosen", "rejected"):
            text = tokenizer.apply_chat_template(pair["prompt"] + pair[side], tokenize=False)
            with torch.no_grad():
                scores.append(model(**tokenizer(text, return_tensors="pt")).logits.item())
        wins += scores[0] > scores[1]
    assert wins >= 0.9 * len(pairs)


def test_long_prompts_keep_their_end(models):
    from transformers import AutoTokenizer

    from ftc.runtime.methods.preference import truncate_prompt

    tokenizer = AutoTokenizer.from_pretrained(models["student"])
    text = "Hello, I ordered a blender on Monday. " * 6 + "Where is order #12345?"
    cut = truncate_prompt(text, tokenizer, 12)
    assert len(tokenizer(cut, add_special_tokens=False)["input_ids"]) <= 12
    assert text.endswith(cut.strip()[-15:])
    chat = [{"role": "user", "content": "first question " * 10},
            {"role": "assistant", "content": "an answer"},
            {"role": "user", "content": "My card was charged twice for order #777."}]
    kept = truncate_prompt(chat, tokenizer, 24)
    assert kept[-1]["content"].endswith("#777.") and len(kept) == 1
    assert len(tokenizer.apply_chat_template(kept, tokenize=True, return_dict=True)
               ["input_ids"]) <= 24
    assert truncate_prompt("short", tokenizer, 50) == "short"


@pytest.mark.parametrize("kind,train", [("dpo", "tickets-train"), ("prefix", "pref-train")])
def test_a_method_refuses_data_in_the_wrong_format(kind, train, tmp_path, models, data):
    from ftc.runtime.data_loading import prepare
    from ftc.runtime.methods import method_for

    from .conftest import compile_lock

    values = recipe(f"wrong-{kind}", models["student"], {"kind": kind}, data[train])
    values["data"]["format"] = "auto"
    values["lint"] = {"ignore": ["FTC118"]}  # the compiler would stop it first; the runtime too
    lock = compile_lock(tmp_path, values)
    with pytest.raises(RunFailure) as failure:
        method_for(lock).load_splits(lock, prepare(lock, tmp_path / "prepared"))
    (diag,) = failure.value.diagnostics
    assert diag.rule == "FTC503" and diag.path.endswith("recipe.lock.yaml")
    assert ("preference" in diag.message) and kind in diag.message
