"""What axolotl's keys and values mean in ftc's terms, as data (axolotl's config reference:
docs/config-reference.qmd and src/axolotl/utils/schemas/*.py).
"""

from __future__ import annotations

# axolotl optimizer names (transformers' OptimizerNames + axolotl's own) -> ftc's
OPTIMIZERS = {
    "adamw_torch": "adamw_torch", "adamw_torch_fused": "adamw_torch_fused",
    "adamw_hf": "adamw_torch", "adamw_bnb_8bit": "adamw_bnb_8bit", "adamw_8bit": "adamw_8bit",
    "paged_adamw_8bit": "paged_adamw_8bit", "paged_adamw_32bit": "paged_adamw_32bit",
    "adafactor": "adafactor", "lion_8bit": "lion_8bit", "lion_32bit": "lion_32bit",
    "paged_lion_8bit": "paged_lion_8bit", "paged_lion_32bit": "paged_lion_32bit", "sgd": "sgd",
    # torchao's 8-bit AdamW: the same 8-bit blockwise states, bitsandbytes' implementation
    "adamw_torch_8bit": "adamw_8bit",
}
SCHEDULERS = {"cosine": "cosine", "linear": "linear", "constant": "constant",
              "constant_with_warmup": "constant_with_warmup", "polynomial": "polynomial",
              "cosine_with_min_lr": "cosine_with_min_lr"}
# axolotl chat_template names -> ftc's shipped templates (the same family's format)
CHAT_TEMPLATES = {"chatml": "chatml", "llama3": "llama3", "llama2": "llama2",
                  "mistral_v1": "mistral", "gemma": "gemma", "qwen_25": "qwen", "phi_3": "phi3",
                  "deepseek_v2": "deepseek", "alpaca": "alpaca", "vicuna": "vicuna",
                  "zephyr": "zephyr", "tokenizer_default": "tokenizer"}
SPECIAL_TOKENS = {"pad_token": "pad", "eos_token": "eos", "bos_token": "bos",
                  "unk_token": "unk"}
# axolotl's shipped deepspeed_configs/*.json (their zero_optimization blocks) -> ftc
DEEPSPEED_FILES = {
    "zero1.json": ("zero1", "none"), "zero1_torch_compile.json": ("zero1", "none"),
    "zero2.json": ("zero2", "optimizer"), "zero2_torch_compile.json": ("zero2", "optimizer"),
    "zero3.json": ("zero3", "none"), "zero3_bf16.json": ("zero3", "none"),
    "zero3_bf16_cpuoffload_all.json": ("zero3", "optimizer+params"),
}
FSDP_SHARDING = {"full_shard": "full_shard", "shard_grad_op": "shard_grad_op",
                 "hybrid_shard": "hybrid_shard", "no_shard": "no_shard",
                 "1": "full_shard", "2": "shard_grad_op", "3": "no_shard", "4": "hybrid_shard"}
ATTENTION = {"sdpa": "sdpa", "eager": "eager", "flash_attention_2": "flash_attention_2",
             "flash": "flash_attention_2", "fa2": "flash_attention_2"}

# Dataset types: axolotl `type` -> (ftc type, default fields)
DATASET_TYPES = {
    "chat_template": ("messages", {}),
    "sharegpt": ("sharegpt", {}),
    "alpaca": ("alpaca", {}),
    "alpaca_chat": ("alpaca", {}),
    "alpaca_instruct": ("alpaca", {}),
    "gpteacher": ("alpaca", {"output": "response"}),
    "alpaca_w_system.load_open_orca": ("alpaca", {"system": "system_prompt",
                                                  "instruction": "question",
                                                  "output": "response"}),
    "oasst": ("alpaca", {"instruction": "INSTRUCTION", "output": "RESPONSE"}),
    "completion": ("completion", {}),
    "chat_template.default": ("preference", {}),
    "chatml.intel": ("preference", {"prompt": "question"}),
    "chatml.prompt_pairs": ("preference", {}),
    "chatml.argilla": ("preference", {"prompt": "instruction", "chosen": "chosen_response",
                                      "rejected": "rejected_response"}),
    "llama3.intel": ("preference", {"prompt": "question"}),
    "llama3.prompt_pairs": ("preference", {}),
    "chatml.ultra": ("preference", {}),
    "llama3.ultra": ("preference", {}),
    "bradley_terry.chat_template": ("preference", {}),
    "llama3.argilla": ("preference", {"prompt": "instruction", "chosen": "chosen_response",
                                      "rejected": "rejected_response"}),
}
# A DPO type's prefix names the template axolotl formats it with.
DPO_TYPE_TEMPLATES = {"chatml": "chatml", "llama3": "llama3"}

# axolotl plugins (class names) that change speed, parallelism or logging, not the weights
PLUGINS_NO_EFFECT = ("KernelsPlugin", "SwanLabPlugin", "ExpertParallelPlugin")

# Keys with no meaning for ftc: (reason). Logging, caching, and axolotl's own bookkeeping.
DROPPED = {
    "dataset_prepared_path": "ftc prepares data in the run directory",
    "dataset_processes": "preprocessing parallelism only",
    "dataset_num_proc": "preprocessing parallelism only",
    "dataset_keep_in_memory": "preprocessing memory only",
    "push_dataset_to_hub": "ftc does not upload prepared data",
    "hub_model_id": "ftc does not upload the model (ftc export writes it)",
    "hub_strategy": "ftc does not upload the model",
    "hf_use_auth_token": "ftc reads HF_TOKEN from the environment",
    "strict": "axolotl's config-loading mode; ftc's schema is always strict",
    "debug": "axolotl's debug output",
    "wandb_watch": "gradient watching in wandb is not an ftc logging option",
    "wandb_log_model": "ftc does not upload checkpoints to wandb",
    "wandb_run_id": "ftc names runs itself",
    "logging_dir": "ftc writes logs in the run directory",
    "local_rank": "set by the launcher",
    "resume_from_checkpoint": "resume with `ftc launch BUNDLE --resume`",
    "auto_resume_from_checkpoints": "resume with `ftc launch BUNDLE --resume`",
    "eval_sample_packing": "evaluation batching only",
    "eval_batch_size": "evaluation batching only",
    "pad_to_sequence_len": "padding for steady memory use only; the loss is the same",
    "remove_unused_columns": "ftc keeps only the columns it trains on",
    "tokenizer_type": "ftc loads the tokenizer with AutoTokenizer",
    "tokenizer_use_fast": "ftc uses the fast tokenizer",
    "tokenizer_legacy": "tokenizer loading detail",
    "low_cpu_mem_usage": "loading detail; transformers loads lazily",
    "device_map": "placement is the launcher's (accelerate)",
    "ddp_find_unused_parameters": "DDP tuning only",
    "ddp_timeout": "DDP tuning only",
    "ddp_bucket_cap_mb": "DDP tuning only",
    "ddp_broadcast_buffers": "DDP tuning only",
    "ddp": "ftc chooses DDP from hardware.gpus/strategy",
    "dataloader_num_workers": "data loading speed only",
    "dataloader_pin_memory": "data loading speed only",
    "dataloader_prefetch_factor": "data loading speed only",
    "eval_table_size": "wandb prediction tables are not an ftc option",
    "eval_max_new_tokens": "wandb prediction tables are not an ftc option",
    "num_labels": "1 for a reward model (ftc's)",
    "save_safetensors": "ftc always saves safetensors",
    "save_only_model": "resumability of checkpoints only",
    "torchdistx_path": "loading detail",
    "skip_prepare_dataset": "data is prepared by ftc at run time",
    "wandb_mode": "",  # mapped when online/offline, else dropped with its own reason
    "use_wandb": "implied by wandb_project",
    "use_tensorboard": "ftc logs TensorBoard events in the run directory",
    "trl": "",  # handled with rl
    "include_tokens_per_second": "a logging metric",
    "include_tkps": "a logging metric",
}
# Keys ftc has no equivalent for, but which change only speed or memory, not the weights.
NO_EFFECT = {
    "lora_mlp_kernel", "lora_qkv_kernel", "lora_o_kernel", "use_kernels", "use_scattermoe",
    "use_sonicmoe", "experts_implementation", "flex_attn_compile_kwargs", "flash_optimum",
    "flash_attn_cross_entropy", "flash_attn_fuse_mlp", "flash_attn_fuse_qkv",
    "flash_attn_rms_norm", "fused_attn_kernel", "gemma4_hybrid_attn_impl",
    "streaming_multipack_buffer_size", "pretrain_multipack_attn", "group_by_length",
    "loss_watchdog_threshold", "loss_watchdog_patience", "dp_shard_size",
    "context_parallel_size", "tensor_parallel_size", "expert_parallel_size",
    "experimental_skip_move_to_device", "use_ray", "ray_num_workers", "use_otel_metrics",
    "otel_metrics_host", "otel_metrics_port", "use_dsv4_kernels", "dsv4_fp4_grouped_mode",
    "max_packed_sequence_len", "sample_packing_sequentially", "memory_preprocess",
    "timeout_preprocess", "embeddings_skip_upcast", "gptq_disable_exllama",
    "trackio_project_name", "trackio_run_name", "trackio_space_id", "use_swanlab",
    "swanlab_project", "swanlab_experiment_name", "swanlab_description", "swanlab_mode",
    "swanlab_log_completions", "swanlab_workspace", "swanlab_completion_log_interval",
    "swanlab_completion_max_buffer", "swanlab_log_model", "project_name", "volumes",
    "secrets", "branch", "dockerfile_commands", "gpu", "gpu_count", "memory", "timeout",
    "comet_api_key", "comet_experiment_config", "comet_experiment_key", "comet_mode",
    "comet_online", "comet_project_name", "comet_workspace",
    "hub_private_repo", "llama4_linearized_experts", "save_first_step", "profiler_steps",
    "gc_steps", "eval_causal_lm_metrics", "do_causal_lm_eval", "do_bench_eval", "lora_on_cpu",
    "sequence_parallel_degree", "max_memory", "gpu_memory_limit", "torch_compile_backend",
    "torch_compile_mode", "base_model_ignore_patterns",
}
