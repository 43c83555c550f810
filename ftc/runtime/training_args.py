"""The lock's training section as TRL's SFTConfig, value for value.

Nothing is re-resolved here: micro batch, accumulation, precision, optimizer
(betas, epsilon), schedule (and its floor), warmup, the memory savers
(checkpointing, activation offloading, torch.compile, Liger, NEFTune),
trackers and eval/save cadence are copied from the lock. Names follow
transformers 5.x (activation_checkpointing, warmup_steps as a ratio when below
1, eval_strategy) and TRL 1.x (assistant_only_loss, padding-free packing,
activation_offloading). What needs a GPU or a package is checked first
(ftc/runtime/options.py), so the trainer never silently runs without it.
"""

from __future__ import annotations

from pathlib import Path

from ftc.runtime.run_lock import RunLock


def sft_config(lock: RunLock, output_dir: Path, check: bool = True):
    """The SFTConfig for the lock; the data's own facts come later (apply_data_facts).

    check=False skips the GPU/package checks (tests that read the arguments of a
    GPU option on a CPU machine); a run always checks.
    """
    from trl import SFTConfig

    if check:
        from ftc.runtime.options import check_options

        check_options(lock)
    tr = lock.get("training") or {}
    hw = lock.get("hardware") or {}
    precision = tr.get("precision", "fp32")
    eval_cfg = tr.get("eval") or {}
    save_cfg = tr.get("save") or {}
    eval_strategy = eval_cfg.get("strategy", "steps")
    save_strategy = save_cfg.get("strategy", "steps")
    early = (tr.get("early_stopping") or {}).get("enabled", False) and eval_strategy != "no"
    watched = (tr.get("early_stopping") or {}).get("metric", "eval_loss")
    report_to = [r for r in ((lock.get("logging") or {}).get("report_to") or []) if r != "none"]
    packing = bool(lock.get("data.packing", False))
    grouped = not packing and bool(lock.get("data.group_by_length", False))
    return SFTConfig(
        output_dir=str(output_dir),
        seed=int(tr.get("seed", 42)),
        data_seed=int(tr.get("seed", 42)),
        num_train_epochs=float(tr.get("epochs", 1)),
        max_steps=int(tr.get("max_steps") or -1),
        learning_rate=float(tr["learning_rate"]),
        lr_scheduler_type=tr.get("scheduler", "linear"),
        lr_scheduler_kwargs=scheduler_kwargs(tr),
        warmup_steps=warmup_steps(tr),
        weight_decay=float(tr.get("weight_decay", 0.0)),
        max_grad_norm=float(tr.get("max_grad_norm", 1.0)),
        **optimizer_fields(tr),
        per_device_train_batch_size=int(tr["micro_batch_size"]),
        per_device_eval_batch_size=int(tr["micro_batch_size"]),
        gradient_accumulation_steps=int(tr["gradient_accumulation"]),
        bf16=precision == "bf16",  # pure_bf16: bf16 weights, no autocast
        fp16=precision == "fp16",
        tf32=tr.get("tf32"),  # None leaves torch's own setting
        use_cpu=hw.get("accelerator") == "cpu",
        activation_checkpointing=checkpointing_kwargs(lock) is not None,
        activation_checkpointing_kwargs=checkpointing_kwargs(lock),
        activation_offloading=bool(tr.get("activation_offloading", False)),
        torch_compile=bool(tr.get("torch_compile", False)),
        use_liger_kernel=bool(tr.get("liger_kernel", False)),
        neftune_noise_alpha=tr.get("neftune_noise_alpha"),
        eval_strategy=eval_strategy,
        eval_steps=int(eval_cfg.get("every", 50)) if eval_strategy == "steps" else None,
        save_strategy=save_strategy,
        save_steps=int(save_cfg.get("every", 50)) if save_strategy == "steps" else 500,
        save_total_limit=int(save_cfg.get("keep_last", 2)),
        load_best_model_at_end=bool(early),
        # a task metric (accuracy, ...) is added to the eval metrics by ftc.evaluation
        metric_for_best_model=(watched if watched.startswith("eval_") else f"eval_{watched}")
        if early else None,
        greater_is_better=watched != "eval_loss" if early else None,
        logging_strategy="steps",
        logging_steps=int(tr.get("logging_steps", 10)),
        logging_first_step=True,
        logging_nan_inf_filter=False,  # a NaN loss must reach the alerts, not be averaged away
        report_to=report_to,
        run_name=lock.get("logging.run_name"),  # else the run directory's name (train.py)
        project=lock.get("logging.project") or "huggingface",
        include_num_input_tokens_seen="non_padding",
        disable_tqdm=False,
        dataloader_num_workers=0,
        ddp_find_unused_parameters=False,
        # data
        max_length=int(lock.get("model.max_seq_length") or 1024),
        packing=packing,
        packing_strategy="bfd",
        padding_free=packing,
        # unpacked: batches of similar lengths pad little (transformers' LengthGroupedSampler)
        train_sampling_strategy="group_by_length" if grouped else "random",
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


def apply_per_epoch(args, lock: RunLock, train_rows: int) -> None:
    """training.evals_per_epoch / saves_per_epoch the compiler could not resolve (the rows
    were not countable then: a folder or hub dataset): steps from the prepared rows."""
    from transformers.trainer_utils import IntervalStrategy, SaveStrategy

    tr = lock.get("training") or {}
    batch = int(tr.get("batch_size") or 1)
    steps = max(1, -(-int(train_rows) // batch))
    evals, saves = tr.get("evals_per_epoch"), tr.get("saves_per_epoch")
    if evals and "every" not in (tr.get("eval") or {}) and args.eval_strategy != "no":
        args.eval_strategy = IntervalStrategy.STEPS
        args.eval_steps = max(1, steps // int(evals))
        print(f"ftc: training.evals_per_epoch {evals}: every {args.eval_steps} steps "
              f"({train_rows} training rows, {steps} steps per epoch)", flush=True)
    if saves and "every" not in (tr.get("save") or {}):
        args.save_strategy = SaveStrategy.STEPS
        args.save_steps = max(1, steps // int(saves))
        print(f"ftc: training.saves_per_epoch {saves}: every {args.save_steps} steps "
              f"({train_rows} training rows, {steps} steps per epoch)", flush=True)


def warmup_steps(tr: dict) -> float | int:
    """warmup_steps as given, or the ratio (transformers reads a value below 1 as a ratio)."""
    if tr.get("warmup_steps") is not None:
        return int(tr["warmup_steps"])
    ratio = float(tr.get("warmup_ratio", 0.0))
    if ratio <= 0:
        return 0
    return min(ratio, 0.999)


def scheduler_kwargs(tr: dict) -> dict:
    """The schedule's floor: min_lr_rate for cosine_with_min_lr, lr_end for polynomial."""
    ratio = tr.get("min_lr_ratio")
    if ratio is None:
        return {}
    if tr.get("scheduler") == "cosine_with_min_lr":
        return {"min_lr_rate": float(ratio)}
    if tr.get("scheduler") == "polynomial":
        return {"lr_end": float(ratio) * float(tr["learning_rate"])}
    return {}


def optimizer_fields(tr: dict) -> dict:
    """optim plus the betas/epsilon the lock holds (only for optimizers that read them)."""
    fields: dict = {"optim": tr.get("optimizer", "adamw_torch")}
    betas = tr.get("betas")
    if betas is not None:
        fields["adam_beta1"], fields["adam_beta2"] = float(betas[0]), float(betas[1])
    if tr.get("epsilon") is not None:
        fields["adam_epsilon"] = float(tr["epsilon"])
    return fields


def checkpointing_kwargs(lock: RunLock) -> dict | None:
    """torch.utils.checkpoint arguments for training.gradient_checkpointing (None when off).

    true is the non-reentrant implementation (works with frozen inputs and
    PEFT); reentrant is the older one some attention kernels still need.
    """
    from ftc.compiler import activation_checkpointing_by

    # "fsdp": accelerate checkpoints activations itself (fsdp_activation_checkpointing in
    # accelerate.yaml), and the Trainer refuses both at once
    if activation_checkpointing_by(lock.values) != "transformers":
        return None
    return {"use_reentrant": lock.get("training.gradient_checkpointing") == "reentrant"}
