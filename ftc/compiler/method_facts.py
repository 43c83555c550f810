"""Facts about a resolved recipe that the emitters and the runtime must agree on.

One place for rules that both sides read (the compiler from the resolved values,
the runtime from the lock's values), so that accelerate.yaml and the Trainer's
arguments can never disagree.
"""

from __future__ import annotations

from ftc.dotted import get_dotted


def trains_adapters(values: dict) -> bool:
    """Whether the run's output is a PEFT adapter rather than whole weights."""
    kind = get_dotted(values, "method.kind")
    if kind in ("prefix", "adapter"):
        return True
    if kind in ("full", "lora", "qlora"):
        return kind != "full"
    return get_dotted(values, "method.tuning", "lora") in ("lora", "qlora")


def activation_checkpointing_by(values: dict) -> str | None:
    """Who checkpoints activations: "fsdp" (accelerate's wrapper), "transformers" or None.

    Under FSDP, FSDP's own checkpointing is preferred (no redundant all-gather), but its
    checkpoint_wrapper renames every decoder layer (`_checkpoint_wrapped_module`), and
    PEFT 0.21 selects the adapter's weights by module name, so an adapter saved from such
    a model is empty. Adapter runs therefore use transformers' checkpointing, which
    renames nothing (tests/runtime/test_fsdp_adapter_save.py shows both).
    """
    if not get_dotted(values, "training.gradient_checkpointing"):
        return None
    if get_dotted(values, "hardware.strategy") == "fsdp" and not trains_adapters(values):
        return "fsdp"
    return "transformers"
