"""The lock's training section as TRL's SFTConfig, value for value.

Nothing is re-resolved here: micro batch, accumulation, precision, schedule,
warmup, checkpointing and eval/save cadence are copied from the lock. Names
follow transformers 5.x (activation_checkpointing, warmup_steps as a ratio when
below 1, eval_strategy) and TRL 1.x (assistant_only_loss, padding-free packing).
"""

from __future__ import annotations

from pathlib import Path

from ftc.runtime.run_lock import RunLock


def sft_config(lock: RunLock, output_dir: Path):
    """The SFTConfig for the lock; the data's own facts come later (apply_data_facts)."""
    from trl import SFTConfig

    tr = lock.get("training") or {}
    hw = lock.get("hardware") or {}
    precision = tr.get("precision", "fp32")
    eval_cfg = tr.get("eval") or {}
    save_cfg = tr.get("save") or {}
    eval_strategy = eval_cfg.get("strategy", "steps")
    save_strategy = save_cfg.get("strategy", "steps")
    early = (tr.get("early_stopping") or {}).get("enabled", False) and eval_strategy != "no"
    report_to = [r for r in ((lock.get("logging") or {}).get("report_to") or []) if r != "none"]
    # under FSDP, accelerate checkpoints activations itself (fsdp_activation_checkpointing in
    # accelerate.yaml); the Trainer refuses both at once
    checkpointing = bool(tr.get("gradient_checkpointing", False)) and hw.get("strategy") != "fsdp"
    packing = bool(lock.get("data.packing", False))
    return SFTConfig(
        output_dir=str(output_dir),
        seed=int(tr.get("seed", 42)),
        data_seed=int(tr.get("seed", 42)),
        num_train_epochs=float(tr.get("epochs", 1)),
        max_steps=int(tr.get("max_steps") or -1),
        learning_rate=float(tr["learning_rate"]),
        lr_scheduler_type=tr.get("scheduler", "linear"),
        warmup_steps=_warmup(float(tr.get("warmup_ratio", 0.0))),
        weight_decay=float(tr.get("weight_decay", 0.0)),
        max_grad_norm=float(tr.get("max_grad_norm", 1.0)),
        optim=tr.get("optimizer", "adamw_torch"),
        per_device_train_batch_size=int(tr["micro_batch_size"]),
        per_device_eval_batch_size=int(tr["micro_batch_size"]),
        gradient_accumulation_steps=int(tr["gradient_accumulation"]),
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        use_cpu=hw.get("accelerator") == "cpu",
        activation_checkpointing=checkpointing,
        activation_checkpointing_kwargs={"use_reentrant": False} if checkpointing else None,
        eval_strategy=eval_strategy,
        eval_steps=int(eval_cfg.get("every", 50)) if eval_strategy == "steps" else None,
        save_strategy=save_strategy,
        save_steps=int(save_cfg.get("every", 50)) if save_strategy == "steps" else 500,
        save_total_limit=int(save_cfg.get("keep_last", 2)),
        load_best_model_at_end=bool(early),
        metric_for_best_model="eval_loss" if early else None,
        logging_strategy="steps",
        logging_steps=int(tr.get("logging_steps", 10)),
        logging_first_step=True,
        report_to=report_to,
        include_num_input_tokens_seen="non_padding",
        disable_tqdm=False,
        dataloader_num_workers=0,
        ddp_find_unused_parameters=False,
        # data
        max_length=int(lock.get("model.max_seq_length") or 1024),
        packing=packing,
        packing_strategy="bfd",
        padding_free=packing,
        assistant_only_loss=True,  # until apply_data_facts knows the format
        dataset_num_proc=None,
    )


def apply_data_facts(args, data_format: str, has_validation: bool) -> None:
    """Loss masking by format (assistant turns / completion); no eval without validation."""
    from transformers.trainer_utils import IntervalStrategy

    args.assistant_only_loss = data_format == "messages"
    args.completion_only_loss = True if data_format == "completion" else None
    if not has_validation:
        args.eval_strategy = IntervalStrategy.NO
        args.do_eval = False
        args.load_best_model_at_end = False
        args.metric_for_best_model = None


def _warmup(ratio: float) -> float | int:
    """transformers reads warmup_steps below 1 as a ratio of the total steps."""
    if ratio <= 0:
        return 0
    return min(ratio, 0.999)
