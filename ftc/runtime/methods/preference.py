"""Preference methods on prompt/chosen/rejected pairs: DPO and reward models (TRL).

dpo:    TRL's DPOTrainer, beta/loss/label_smoothing from method.dpo. The reference
        policy is never a second copy when adapters train: with method.tuning
        lora/qlora TRL computes the reference log-probabilities with the adapter
        disabled (ref_model stays None); with full tuning TRL loads a frozen copy
        of model.base as the reference.
reward: TRL's RewardTrainer on a sequence-classification head (one score per
        sequence), center_rewards_coefficient from method.reward. The output is
        always a standalone model (LoRA merged), so an rlhf recipe can load it.

method.dpo.max_prompt_length keeps the end of longer prompts (TRL 1.x truncates
only the whole sequence): a text prompt loses its first tokens, a chat prompt
its oldest messages and then the start of its first remaining one.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ftc.runtime.methods.common import (
    config_for,
    load_policy,
    model_kwargs,
    save_policy,
    tuning_view,
)
from ftc.runtime.methods.interface import MethodBase, MethodContext, MethodJob, Stage
from ftc.runtime.run_lock import RunLock


def truncate_prompt(prompt, tokenizer, limit: int):
    """prompt (text or chat messages) cut to at most `limit` tokens, keeping its end."""
    if isinstance(prompt, str):
        ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        return prompt if len(ids) <= limit else tokenizer.decode(ids[-limit:])
    messages = [dict(m) for m in prompt]

    def length(msgs) -> int:
        return len(tokenizer.apply_chat_template(msgs, tokenize=True, return_dict=True)
                   ["input_ids"])

    while len(messages) > 1 and length(messages) > limit:
        messages.pop(0)
    while length(messages) > limit and messages[0]["content"]:
        ids = tokenizer(messages[0]["content"], add_special_tokens=False)["input_ids"]
        over = length(messages) - limit
        messages[0]["content"] = tokenizer.decode(ids[min(len(ids), over):])
    return messages


def _pairs(records: list[dict], tokenizer, limit: int | None):
    from ftc.runtime.data_loading import to_dataset

    if limit:
        records = [{**r, "prompt": truncate_prompt(r["prompt"], tokenizer, limit)}
                   for r in records]
    return to_dataset(records)


def dpo_config(lock: RunLock, args):
    from trl import DPOConfig

    block = lock.get("method.dpo") or {}
    return config_for(DPOConfig, args,
                      beta=float(block.get("beta", 0.1)),
                      loss_type=[block.get("loss", "sigmoid")],
                      label_smoothing=float(block.get("label_smoothing", 0.0)),
                      max_length=int(lock.get("model.max_seq_length") or 1024),
                      trust_remote_code=bool(lock.get("model.trust_remote_code", False)))


def build_dpo(ctx: MethodContext) -> MethodJob:
    """One DPO stage; saves the policy (adapter or model) like SFT does."""
    from trl import DPOTrainer

    lock = ctx.lock
    limit = lock.get("method.dpo.max_prompt_length")
    train = _pairs(ctx.splits.train, ctx.tokenizer, limit)
    validation = _pairs(ctx.splits.validation, ctx.tokenizer, limit) \
        if ctx.splits.validation else None
    test = _pairs(ctx.splits.test, ctx.tokenizer, limit) if ctx.splits.test else None

    def factory():
        model, peft_config = load_policy(lock, ctx.args)
        ref = None if peft_config is not None else _frozen_copy(lock)
        return DPOTrainer(model=model, ref_model=ref, args=dpo_config(lock, ctx.args),
                          train_dataset=train, eval_dataset=validation,
                          processing_class=ctx.tokenizer, peft_config=peft_config,
                          callbacks=list(ctx.callbacks))

    stage = Stage("dpo", factory, test_dataset=test)
    return MethodJob("dpo", [stage],
                     lambda run_dir: save_policy(lock, stage.trainer, ctx.tokenizer, Path(run_dir)))


def _frozen_copy(lock: RunLock):
    """The full-tuning reference: model.base loaded again, frozen (what TRL would load)."""
    from ftc.runtime.methods.common import load_frozen
    from ftc.runtime.model_loading import model_ref

    return load_frozen(lock, model_ref(lock), lock.get("model.revision"))


def reward_config(lock: RunLock, args):
    from trl import RewardConfig

    coefficient = float(lock.get("method.reward.center_rewards_coefficient") or 0.0)
    return config_for(RewardConfig, args,
                      center_rewards_coefficient=coefficient or None,
                      max_length=int(lock.get("model.max_seq_length") or 1024),
                      trust_remote_code=bool(lock.get("model.trust_remote_code", False)))


def load_reward_policy(lock: RunLock, args):
    """(sequence-classification model with one output, peft config) as method.tuning says."""
    from transformers import AutoModelForSequenceClassification

    from ftc.runtime.methods.common import device_index
    from ftc.runtime.model_loading import lora_config, model_ref, quantization_config, weights_dtype

    view = tuning_view(lock)
    quant = quantization_config(view)
    kwargs = {**model_kwargs(view), "num_labels": 1, "revision": lock.get("model.revision"),
              "dtype": weights_dtype(view)}
    if quant is not None:
        kwargs["quantization_config"] = quant
        if quant.load_in_4bit:
            kwargs["dtype"] = quant.bnb_4bit_compute_dtype
        if device_index(args) is not None:
            kwargs["device_map"] = {"": device_index(args)}
    model = AutoModelForSequenceClassification.from_pretrained(model_ref(lock), **kwargs)
    if quant is not None:
        from peft import prepare_model_for_kbit_training

        from ftc.runtime.model_loading import keep_cpu_4bit_unpacked
        from ftc.runtime.training_args import checkpointing_kwargs

        keep_cpu_4bit_unpacked(model)

        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=bool(lock.get("training.gradient_checkpointing")),
            gradient_checkpointing_kwargs=checkpointing_kwargs(lock) or {})
    peft = lora_config(view)
    if peft is not None:
        peft = dataclasses.replace(peft, task_type="SEQ_CLS")  # the score head trains too
    return model, peft


def build_reward(ctx: MethodContext) -> MethodJob:
    """One RewardTrainer stage; saves run_dir/model, a standalone reward model."""
    from transformers import AutoModelForSequenceClassification
    from trl import RewardTrainer

    from ftc.runtime.data_loading import to_dataset

    lock = ctx.lock

    def factory():
        model, peft_config = load_reward_policy(lock, ctx.args)
        model.config.pad_token_id = ctx.tokenizer.pad_token_id
        return RewardTrainer(model=model, args=reward_config(lock, ctx.args),
                             train_dataset=to_dataset(ctx.splits.train),
                             eval_dataset=to_dataset(ctx.splits.validation),
                             processing_class=ctx.tokenizer, peft_config=peft_config,
                             callbacks=list(ctx.callbacks))

    stage = Stage("reward", factory, test_dataset=to_dataset(ctx.splits.test))

    def save(run_dir: Path) -> dict[str, str]:
        return save_policy(lock, stage.trainer, ctx.tokenizer, Path(run_dir),
                           model_class=AutoModelForSequenceClassification, always_merge=True,
                           num_labels=1)

    return MethodJob("reward", [stage], save)


class Preference(MethodBase):
    """Preference pairs (prompt/chosen/rejected); dpo or reward builds the trainer.

    Neither loss is a per-token cross-entropy (no perplexity); each method states its
    own results: DPO's implicit reward margin and accuracy (chosen preferred), the
    reward model's pairwise accuracy and margin.
    """

    perplexity = False

    def __init__(self, builder, loss_name: str, results: list[tuple[str, str, bool]]) -> None:
        self._builder = builder
        self.loss_name = loss_name
        self._results = results

    def results_of(self, history: list[dict]) -> list[dict]:
        from ftc.evaluation.trends import results

        return results(history, self._results)

    def load_splits(self, lock: RunLock, prepared):
        from ftc.runtime.methods.data import preference_splits

        return preference_splits(lock, prepared)

    def build(self, ctx: MethodContext) -> MethodJob:
        return self._builder(ctx)


DPO = Preference(build_dpo, "DPO loss", [
    ("rewards/margins", "reward margin", False),
    ("rewards/accuracies", "reward accuracy (chosen preferred)", False)])
REWARD = Preference(build_reward, "reward loss", [
    ("accuracy", "pairwise accuracy (chosen scored higher)", False),
    ("margin", "reward margin", False)])
