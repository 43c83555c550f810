"""deepspeed.json for the ZeRO strategies.

Values that the HF Trainer also sets (micro batch, accumulation, clipping,
precision) are written equal to the trainer's: DeepSpeed aborts at start when
they disagree.  train_batch_size is left out: DeepSpeed derives it from the
micro batch, accumulation and the world size it actually sees.
"""

from __future__ import annotations

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
