"""Library errors with a known cause, explained at the runtime's boundary.

Anything not recognised here is a bug and keeps its traceback. Out-of-memory
is the common one: torch raises torch.OutOfMemoryError on GPUs and a plain
RuntimeError ("DefaultCPUAllocator: can't allocate memory") on CPU; both get
the troubleshooting table's advice for this recipe (ftc.memory.fit.oom_advice,
the same table `ftc compile` uses for its fit check).
"""

from __future__ import annotations

import re

from ftc.diagnostics import ERROR, Diagnostic
from ftc.runtime.run_lock import RunLock

# used when the table cannot rank the fixes for this lock
GENERIC_ADVICE = (
    "to fit, try in this order: a smaller training.micro_batch_size with a larger "
    "training.gradient_accumulation (same effective batch); training.gradient_checkpointing: "
    "true; method.kind: qlora (4-bit base); a ZeRO stage (hardware.strategy: zero2, or zero3 "
    "with hardware.offload: optimizer) across more GPUs; a shorter model.max_seq_length"
)
_OOM = re.compile(r"out of memory|can't allocate memory|CUDA error: out of memory", re.I)


def is_out_of_memory(exc: BaseException) -> bool:
    try:
        import torch

        if isinstance(exc, torch.OutOfMemoryError):
            return True
    except ImportError:  # pragma: no cover - the runtime always has torch
        pass
    return isinstance(exc, (RuntimeError, MemoryError)) and (
        isinstance(exc, MemoryError) or bool(_OOM.search(str(exc))))


def explain(exc: BaseException, lock: RunLock | None) -> list[Diagnostic] | None:
    """Diagnostics for a known failure, or None (then the traceback is the report)."""
    if is_out_of_memory(exc):
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        detail = re.sub(r"\s+", " ", first)[:200]
        message = f"out of memory while training: {detail}"
        if lock is not None:
            return [lock.error("training.micro_batch_size", "FTC509", message, advice(lock))]
        return [Diagnostic("recipe.lock.yaml", 1, 1, ERROR, "FTC509", message, GENERIC_ADVICE)]
    return None


def advice(lock: RunLock) -> str:
    """The troubleshooting table's fixes for this recipe, ranked with the GPU's size if known."""
    try:
        from ftc.memory.fit import oom_advice

        return oom_advice(lock.values, _device_memory(lock))
    except Exception:  # noqa: BLE001 - advice must never hide the error it explains
        return GENERIC_ADVICE


def _device_memory(lock: RunLock) -> int | None:
    if lock.get("hardware.accelerator") == "cpu":
        return None
    import torch

    if not torch.cuda.is_available():
        return None
    return int(torch.cuda.get_device_properties(torch.cuda.current_device()).total_memory)
