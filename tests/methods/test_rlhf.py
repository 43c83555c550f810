"""RLHF with GRPO against a reward model trained by the reward method: the policy's mean
reward rises, and the reward model is found from a model directory or a reward run."""

from __future__ import annotations

import json

import pytest
import torch

from ftc.runtime.run_lock import RunFailure

from .conftest import compile_lock, prepared_job, recipe

SAMPLES = 8  # completions per evaluation prompt
LENGTH = 4  # tokens per completion: "Category: <name>" and one more


def _rlhf_recipe(name, models, data, reward_model, **training):
    # 8 completions per prompt, 2 prompts a step: a group nearly always holds a sample
    # of the preferred category, so its advantage is clear from the first steps
    return recipe(name, models["student"],
                  {"kind": "rlhf", "tuning": "full",
                   "rlhf": {"reward_model": str(reward_model), "num_generations": 8,
                            "max_completion_length": LENGTH}},
                  data["tickets-train"], micro_batch_size=16, gradient_accumulation=1,
                  **training)


class Sampled:
    """Completions sampled once from the starting policy, scored once by the reward model."""

    def __init__(self, policy, tokenizer, reward_model, reward_tokenizer, prompts):
        tokenizer.padding_side = "left"
        texts = [tokenizer.apply_chat_template(p, add_generation_prompt=True, tokenize=False)
                 for p in prompts]
        self.enc = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        torch.manual_seed(0)
        with torch.no_grad():
            out = policy.generate(**self.enc, max_new_tokens=LENGTH, do_sample=True, top_k=0,
                                  num_return_sequences=SAMPLES,
                                  pad_token_id=tokenizer.pad_token_id)
        self.ids = out
        self.width = self.enc["input_ids"].shape[1]
        completions = tokenizer.batch_decode(out[:, self.width:], skip_special_tokens=True)
        scored = [reward_tokenizer.apply_chat_template(
            p + [{"role": "assistant", "content": c}], tokenize=False)
            for p, c in zip([p for p in prompts for _ in range(SAMPLES)], completions,
                            strict=True)]
        reward_tokenizer.padding_side = "right"
        with torch.no_grad():
            self.rewards = reward_model(**reward_tokenizer(scored, return_tensors="pt",
                                                           padding=True)).logits.squeeze(-1)
        self.old = self.logprob(policy)

    def logprob(self, policy) -> torch.Tensor:
        attention = (self.ids != -1).long()
        attention[:, :self.width] = self.enc["attention_mask"].repeat_interleave(SAMPLES, 0)
        with torch.no_grad():
            logits = policy(input_ids=self.ids, attention_mask=attention).logits[:, :-1]
        taken = torch.log_softmax(logits.float(), -1).gather(-1, self.ids[:, 1:, None])[..., 0]
        return taken[:, self.width - 1:].sum(-1)

    def mean_reward(self, policy=None) -> float:
        """The policy's expected reward on these prompts (self-normalised importance weights)."""
        if policy is None:
            return self.rewards.mean().item()
        weights = torch.softmax(self.logprob(policy) - self.old, 0)
        return (weights * self.rewards).sum().item()


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_grpo_raises_the_policys_mean_reward(tmp_path, models, data, reward_run):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from ftc.runtime.methods.run import train_job

    reward_dir = reward_run["outputs"]["model"]
    _, job, run_dir = prepared_job(tmp_path, _rlhf_recipe(
        "rlhf", models, data, reward_dir, learning_rate=1e-3, max_steps=12))
    trainer = job.stages[0].trainer
    reward_model = AutoModelForSequenceClassification.from_pretrained(reward_dir).eval()
    reward_tokenizer = AutoTokenizer.from_pretrained(reward_dir)
    prompts = [json.loads(line)["messages"][:1]
               for line in data["tickets-val"].read_text().splitlines()][:16]
    policy = trainer.model
    sampled = Sampled(policy.eval(), trainer.processing_class, reward_model, reward_tokenizer,
                      prompts)
    before = sampled.mean_reward()
    result = train_job(job, run_dir)
    after = sampled.mean_reward(policy.eval())
    assert after > before + 2.0, (before, after)
    logged = [h["reward"] for h in trainer.state.log_history if "reward" in h]
    assert len(logged) == 12
    assert sum(logged[-4:]) / 4 > sum(logged[:4]) / 4 + 1.0, logged
    assert "model" in result.outputs


@pytest.mark.slow
def test_the_reward_model_is_found_in_a_reward_run(tmp_path, models, data, reward_run):
    from ftc.runtime.methods.rlhf import resolve_reward_model

    run_dir = reward_run["run_dir"]
    (run_dir / "summary.json").write_text("{}")  # a finished run, as the runtime leaves it
    runs_root = tmp_path / "reward-runs"
    runs_root.mkdir()
    (runs_root / "run-1").symlink_to(run_dir, target_is_directory=True)
    lock = compile_lock(tmp_path, _rlhf_recipe("rlhf-chain", models, data, runs_root))
    assert resolve_reward_model(lock) == str(runs_root / "run-1" / "model")

    empty = tmp_path / "nothing-here"
    empty.mkdir()
    lock = compile_lock(tmp_path / "e", _rlhf_recipe("rlhf-none", models, data, empty))
    with pytest.raises(RunFailure) as failure:
        resolve_reward_model(lock)
    (diag,) = failure.value.diagnostics
    assert diag.rule == "FTC504" and "no reward model" in diag.message and diag.line > 1
