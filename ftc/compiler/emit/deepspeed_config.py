"""deepspeed.json for the ZeRO strategies, or the user's own (hardware.deepspeed_config).

Values that the HF Trainer also sets (micro batch, accumulation, clipping,
precision) are written equal to the trainer's: DeepSpeed aborts at start when
they disagree.  train_batch_size is left out: DeepSpeed derives it from the
micro batch, accumulation and the world size it actually sees.

A user's config is copied into the bundle, so it is read like any recipe input:
a regular file of at most 1 MB, strict JSON (no NaN), an object with DeepSpeed
keys, and nothing secret-shaped; it is written back normalised (sorted keys).
"""

from __future__ import annotations

import json
from pathlib import Path

from ftc.safe_files import read_regular
from ftc.secret_scan import find_secret

MAX_CUSTOM_BYTES = 1_000_000
# Top-level keys of DeepSpeed's config (deepspeed/runtime/config.py); one is enough
# to tell a DeepSpeed config from some other JSON file.
DEEPSPEED_KEYS = frozenset({
    "train_batch_size", "train_micro_batch_size_per_gpu", "gradient_accumulation_steps",
    "zero_optimization", "bf16", "fp16", "amp", "optimizer", "scheduler", "gradient_clipping",
    "steps_per_print", "wall_clock_breakdown", "activation_checkpointing",
    "zero_allow_untested_optimizer",
    "communication_data_type", "prescale_gradients", "gradient_predivide_factor",
    "sparse_gradients", "flops_profiler", "tensorboard", "wandb", "csv_monitor", "comms_logger",
    "aio", "elasticity", "data_efficiency", "compression_training", "checkpoint",
    "pipeline", "autotuning", "zero_force_ds_cpu_optimizer", "dump_state", "memory_breakdown",
    "seq_parallel_communication_data_type", "data_types", "torch_autocast",
})

ZERO_STAGES = {"zero1": 1, "zero2": 2, "zero3": 3}


def deepspeed_config(values: dict) -> dict | None:
    hw, tr = values["hardware"], values["training"]
    stage = ZERO_STAGES.get(hw["strategy"])
    if stage is None:
        return None
    precision = tr["precision"]
    zero: dict = {"stage": stage, "overlap_comm": True, "contiguous_gradients": True}
    offload = hw.get("offload", "none")
    on_cpu = hw.get("accelerator") == "cpu"
    if offload in ("optimizer", "optimizer+params"):
        zero["offload_optimizer"] = {"device": "cpu", "pin_memory": not on_cpu}
    if offload == "optimizer+params" and stage == 3:
        zero["offload_param"] = {"device": "cpu", "pin_memory": not on_cpu}
    if stage == 3:
        zero["stage3_gather_16bit_weights_on_model_save"] = True
    return {
        "bf16": {"enabled": precision == "bf16"},
        "fp16": {"enabled": precision == "fp16"},
        "zero_optimization": zero,
        "train_micro_batch_size_per_gpu": tr["micro_batch_size"],
        "gradient_accumulation_steps": tr["gradient_accumulation"],
        "gradient_clipping": tr["max_grad_norm"],
        "steps_per_print": 1000000,
        "wall_clock_breakdown": False,
    }


class CustomConfigError(ValueError):
    """A hardware.deepspeed_config that is not a usable DeepSpeed config (message says why)."""


def read_custom(path: Path) -> dict:
    """The user's DeepSpeed config as a dict; FileProblem or CustomConfigError if unusable."""
    raw = read_regular(path, MAX_CUSTOM_BYTES, "the DeepSpeed config")
    try:
        text = raw.decode("utf-8-sig")
        config = json.loads(text, parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise CustomConfigError("not a DeepSpeed config: not UTF-8 text") from None
    except (ValueError, RecursionError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        where = f" at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise CustomConfigError(f"not a DeepSpeed config: invalid JSON{where} "
                                f"({reason[:80]})") from None
    if not isinstance(config, dict) or not DEEPSPEED_KEYS & set(config):
        raise CustomConfigError("not a DeepSpeed config: expected a JSON object with DeepSpeed "
                                "keys such as zero_optimization or train_micro_batch_size_per_gpu")
    if find_secret(text):
        raise CustomConfigError("holds a secret-shaped string; ftc does not copy secrets into "
                                "bundles")
    return config


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def custom_json(path: Path) -> str:
    """deepspeed.json text for a user's config: checked, then written with sorted keys."""
    return json.dumps(read_custom(path), indent=2, sort_keys=True, allow_nan=False) + "\n"
