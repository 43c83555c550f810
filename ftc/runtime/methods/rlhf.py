"""RLHF: GRPO (TRL's GRPOTrainer) against a trained reward model.

The policy (model.base, trained as method.tuning says) samples
method.rlhf.num_generations completions per prompt; the reward model scores
each (prompt + completion) and GRPO raises the probability of completions that
score above their group's mean, with a KL penalty (beta) towards the reference
policy: with adapters that reference is the base with the adapter disabled.

method.rlhf.reward_model is a model directory (what a `reward` recipe writes
to run_dir/model) or, to chain the two recipes, the reward recipe's runs
directory (output_dir/<name>): then the newest finished run's model is used.
The effective batch counts completions: batch_size / num_generations prompts
per step (GRPO needs the batch to be a multiple of num_generations).
"""

from __future__ import annotations

from pathlib import Path

from ftc.runtime.methods.common import config_for, load_policy, save_policy
from ftc.runtime.methods.interface import MethodBase, MethodContext, MethodJob, Stage
from ftc.runtime.run_lock import RunLock

KEY = "method.rlhf.reward_model"


def resolve_reward_model(lock: RunLock) -> str:
    """The reward model directory: as given, or the newest finished run's model under it."""
    from ftc.runtime.model_loading import is_hub_id

    value = lock.get(KEY)
    path = lock.local(value)
    if not path.exists() and is_hub_id(value):
        return value
    if (path / "config.json").is_file():
        return str(path)
    candidates = sorted((p.parent for p in path.glob("*/model/config.json")
                         if (p.parent.parent / "summary.json").is_file()),
                        key=lambda p: p.parent.stat().st_mtime)
    if (path / "model" / "config.json").is_file():
        candidates.append(path / "model")
    if not candidates:
        raise lock.fail(KEY, "FTC504", f"no reward model at {value!r} (resolved to {path})",
                        "train one with a method.kind reward recipe and point reward_model at "
                        "its run's model directory (or at its output_dir/<name> directory)")
    return str(candidates[-1])


def load_reward_model(lock: RunLock):
    """(reward model, its tokenizer), frozen: a sequence classifier with one output."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from ftc.runtime.methods.common import load_frozen

    ref = resolve_reward_model(lock)
    try:
        model = load_frozen(lock, ref, None, AutoModelForSequenceClassification, num_labels=1)
        tokenizer = AutoTokenizer.from_pretrained(ref)
    except (OSError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise lock.fail(KEY, "FTC504", f"cannot load the reward model {ref!r}: {first}",
                        "it must be a sequence-classification model with its tokenizer, as a "
                        "`reward` recipe writes it") from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


def grpo_config(lock: RunLock, args):
    from trl import GRPOConfig

    block = lock.get("method.rlhf") or {}
    n = int(block.get("num_generations", 4))
    micro = int(args.per_device_train_batch_size)
    world = int(lock.get("hardware.world_size", 1))
    accum = int(args.gradient_accumulation_steps)
    if (micro * world * accum) % n:
        raise lock.fail("method.rlhf.num_generations", "FTC513",
                        f"GRPO samples {n} completions per prompt, but the batch of "
                        f"{micro * world * accum} completions is not a multiple of {n}",
                        f"choose training.batch_size as a multiple of {n}")
    eval_batch = max(micro, n) // n * n  # eval batches hold whole groups too
    return config_for(GRPOConfig, args,
                      num_generations=n,
                      max_completion_length=int(block.get("max_completion_length", 64)),
                      beta=float(block.get("beta", 0.04)),
                      temperature=float(block.get("temperature", 1.0)),
                      per_device_eval_batch_size=eval_batch,
                      trust_remote_code=bool(lock.get("model.trust_remote_code", False)))


def build_rlhf(ctx: MethodContext) -> MethodJob:
    """One GRPO stage; saves the policy (adapter or model) like SFT does."""
    from trl import GRPOTrainer

    from ftc.runtime.data_loading import to_dataset

    lock = ctx.lock
    config = grpo_config(lock, ctx.args)

    def factory():
        reward_model, reward_tokenizer = load_reward_model(lock)
        model, peft_config = load_policy(lock, ctx.args)
        return GRPOTrainer(model=model, reward_funcs=reward_model, args=config,
                           train_dataset=to_dataset(ctx.splits.train),
                           eval_dataset=to_dataset(ctx.splits.validation),
                           processing_class=ctx.tokenizer,
                           reward_processing_classes=reward_tokenizer,
                           peft_config=peft_config, callbacks=list(ctx.callbacks))

    stage = Stage("rlhf", factory, test_dataset=to_dataset(ctx.splits.test))
    return MethodJob("rlhf", [stage],
                     lambda run_dir: save_policy(lock, stage.trainer, ctx.tokenizer, Path(run_dir)))


class RLHF(MethodBase):
    """Prompts from any data format; GRPO against the reward model."""

    def load_splits(self, lock: RunLock, prepared):
        from ftc.runtime.methods.data import prompt_splits

        return prompt_splits(prepared)

    def build(self, ctx: MethodContext) -> MethodJob:
        return build_rlhf(ctx)


RLHF_METHOD = RLHF()
