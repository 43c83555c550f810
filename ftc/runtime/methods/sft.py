"""Supervised fine-tuning (full, LoRA, QLoRA) through TRL's SFTTrainer.

The plainest method, and the base others reuse: distillation puts its loss on
`trainer_class()`, prefix tuning and adapters train on the same trainer. PEFT
wraps the model inside TRL from `lora_config` (None for full fine-tuning);
QLoRA's 4-bit base comes from the shared model loader.
"""

from __future__ import annotations

from pathlib import Path

from ftc.runtime.methods.common import device_index, save_policy
from ftc.runtime.methods.interface import MethodBase, MethodContext, MethodJob, Stage
from ftc.runtime.run_lock import RunLock


class SFT(MethodBase):
    """full / lora / qlora: one SFTTrainer stage; saves run_dir/adapter or run_dir/model."""

    def check_data(self, lock: RunLock, tokenizer, prepared) -> None:
        from ftc.runtime.chat_template import apply_chat_template_setting
        from ftc.runtime.data_loading import check_format

        check_format(lock, prepared.format)  # refuse before anything is written
        if prepared.format == "messages":
            apply_chat_template_setting(lock, tokenizer)

    def apply_chat_template(self, lock: RunLock, tokenizer, splits) -> None:
        if splits.format == "messages":
            from ftc.runtime.chat_template import apply_chat_template_setting

            apply_chat_template_setting(lock, tokenizer)

    def build(self, ctx: MethodContext) -> MethodJob:
        from ftc.runtime.data_loading import to_dataset
        from ftc.runtime.model_loading import check_target_modules, load_model

        lock = ctx.lock

        def factory():
            model = load_model(lock, device_index=device_index(ctx.args))
            check_target_modules(lock, model)
            trainer = build_trainer(lock, model, ctx.tokenizer, ctx.splits, ctx.args,
                                    ctx.callbacks)
            _check_something_to_train(lock, trainer)
            return trainer

        stage = Stage(lock.get("method.kind"), factory,
                      test_dataset=to_dataset(ctx.splits.test))
        return MethodJob(lock.get("method.kind"), [stage],
                         lambda run_dir: save_policy(lock, stage.trainer, ctx.tokenizer,
                                                     Path(run_dir)))


def build_trainer(lock: RunLock, model, tokenizer, splits, args, callbacks: list):
    """The SFT trainer for full/lora/qlora (PEFT wraps the model inside TRL)."""
    from ftc.runtime.data_loading import to_dataset
    from ftc.runtime.model_loading import lora_config
    from ftc.runtime.packing import rows_collator, use_packed_attention, wants_row_batches

    attn = lock.get("model.attn_implementation", "sdpa")
    if args.packing:
        use_packed_attention(model, attn)
    trainer = trainer_class()(
        model=model, args=args, processing_class=tokenizer,
        train_dataset=to_dataset(splits.train), eval_dataset=to_dataset(splits.validation),
        peft_config=lora_config(lock), callbacks=list(callbacks),
    )
    if args.packing and wants_row_batches(attn):
        trainer.data_collator = rows_collator(trainer.data_collator.pad_token_id,
                                              trainer.data_collator.pad_to_multiple_of)
    if lock.get("training.precision") == "pure_bf16":
        trainable_to_bf16(trainer.model)
    from ftc.runtime.loss_kernels import apply_loss_kernel

    apply_loss_kernel(lock, trainer)
    return trainer


def trainable_to_bf16(model) -> None:
    """pure_bf16: PEFT upcasts adapters to fp32 (autocast_adapter_dtype); make them bf16 again,
    before the optimizer exists, so weights, gradients and states are all bf16."""
    import torch

    for param in model.parameters():
        if param.requires_grad and param.dtype != torch.bfloat16:
            param.data = param.data.to(torch.bfloat16)


def trainer_class():
    """TRL's SFTTrainer, adding eval perplexity to the logs every logger receives."""
    from trl import SFTTrainer

    from ftc.runtime.run_record import perplexity

    class FtcSFTTrainer(SFTTrainer):
        unreported_metrics: tuple[str, ...] = ()  # metrics the loss kernel does not compute

        def perplexity_loss(self, logs: dict, prefix: str) -> float | None:
            """The per-token cross-entropy whose exp is the perplexity: here the loss."""
            return logs.get(f"{prefix}_loss")

        def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
            for prefix in ("eval", "test"):
                loss = self.perplexity_loss(logs, prefix)
                if isinstance(loss, (int, float)):
                    logs[f"{prefix}_perplexity"] = perplexity(loss)
            mode = "train" if self.model.training else "eval"
            for name in self.unreported_metrics:
                self._metrics[mode].pop(name, None)
            super().log(logs, start_time)

        def _get_train_sampler(self, train_dataset=None):
            from ftc.runtime.length_grouping import epoch_seeded, is_length_grouped

            sampler = super()._get_train_sampler(train_dataset)
            if is_length_grouped(sampler):  # data.group_by_length: resumable order
                seed = self.args.data_seed if self.args.data_seed is not None else self.args.seed
                return epoch_seeded(sampler, seed)
            return sampler

    return FtcSFTTrainer


def _check_something_to_train(lock: RunLock, trainer) -> None:
    """TRL drops examples whose trainable part truncation cut off; none left is an error."""
    if len(trainer.train_dataset) == 0:
        limit = lock.get("model.max_seq_length")
        raise lock.fail("model.max_seq_length", "FTC510",
                        f"no training example has anything to train on within "
                        f"model.max_seq_length ({limit} tokens): truncation cut off every "
                        "answer", "raise model.max_seq_length, or set data.length_policy: "
                        "drop to skip over-long examples")


METHOD = SFT()
