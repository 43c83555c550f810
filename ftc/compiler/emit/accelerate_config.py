"""accelerate.yaml: the `accelerate launch --config_file` for this bundle."""

from __future__ import annotations

from ftc.compiler.emit.deepspeed_config import ZERO_STAGES
from ftc.compiler.method_facts import activation_checkpointing_by

MIXED = {"bf16": "bf16", "fp16": "fp16", "fp32": "no",
         "pure_bf16": "no"}  # bf16 weights and states: nothing to autocast


def distributed_type(values: dict) -> str:
    hw = values["hardware"]
    strategy = hw["strategy"]
    if strategy in ZERO_STAGES:
        return "DEEPSPEED"
    if strategy == "fsdp":
        return "FSDP"
    if hw["world_size"] == 1:
        return "NO"
    # accelerate forks N processes only for MULTI_GPU; with use_cpu they use gloo.
    # (MULTI_CPU goes to its single-process launcher.)
    return "MULTI_GPU"


def accelerate_config(values: dict) -> dict:
    hw, tr = values["hardware"], values["training"]
    kind = distributed_type(values)
    cfg: dict = {
        "compute_environment": "LOCAL_MACHINE",
        "debug": False,
        "distributed_type": kind,
        "downcast_bf16": "no",
        "machine_rank": 0,
        "main_training_function": "main",
        "mixed_precision": MIXED[tr["precision"]],
        "num_machines": hw["nodes"],
        "num_processes": hw["world_size"],
        "rdzv_backend": "static",
        "same_network": True,
        "use_cpu": hw.get("accelerator") == "cpu",
    }
    if kind == "DEEPSPEED":
        cfg["deepspeed_config"] = {
            "deepspeed_config_file": "deepspeed.json",
            # on several nodes: torchrun on each (started by launch.sh / slurm.sbatch), not
            # accelerate's default of pdsh + a hostfile from the first node
            "deepspeed_multinode_launcher": "standard",
            "zero3_init_flag": hw["strategy"] == "zero3",
        }
        # with a config file, precision lives in the JSON; accelerate rejects both
        del cfg["mixed_precision"]
    if kind == "FSDP":
        cfg["fsdp_config"] = fsdp_config(values)
    return cfg


STATE_DICT_TYPES = {"full": "FULL_STATE_DICT", "sharded": "SHARDED_STATE_DICT"}


def fsdp_config(values: dict) -> dict:
    """accelerate's fsdp_config from hardware.fsdp, hardware.offload and gradient checkpointing
    (FSDP's own for whole models; transformers' for adapters: see method_facts).

    No layer class is named: with TRANSFORMER_BASED_WRAP and none given, accelerate wraps
    the classes in the model's own `_no_split_modules` (its decoder layer). Checkpoints
    follow hardware.fsdp.state_dict_type; the final weights are always saved whole
    (ftc.runtime.methods.common.save_model_and_tokenizer).
    """
    hw = values["hardware"]
    fsdp = hw.get("fsdp", {})
    sharding = fsdp.get("sharding", "full_shard")
    version = fsdp.get("version", 2)
    offload = hw.get("offload") == "optimizer+params"
    cfg = {
        "fsdp_version": version,
        "fsdp_auto_wrap_policy": "TRANSFORMER_BASED_WRAP",
        "fsdp_cpu_ram_efficient_loading": True,
        "fsdp_offload_params": offload,
        "fsdp_state_dict_type": STATE_DICT_TYPES[fsdp.get("state_dict_type", "full")],
        "fsdp_activation_checkpointing": activation_checkpointing_by(values) == "fsdp",
    }
    if version == 2:
        cfg["fsdp_reshard_after_forward"] = sharding in ("full_shard", "hybrid_shard")
    else:
        cfg["fsdp_sharding_strategy"] = sharding.upper()
        cfg["fsdp_sync_module_states"] = True
        cfg["fsdp_use_orig_params"] = True
    return cfg
