"""Every training method, by method.kind: one registry, one interface (interface.py).

    from ftc.runtime.methods import method_for
    method = method_for(lock)          # FTC506 for a kind no module trains
    job = method.build(MethodContext(lock, tokenizer, splits, args))

Each method module (sft, prefix_adapter, distill, preference, rlhf) defines an
object implementing interface.TrainingMethod; it is imported only when its kind
runs. A new method: a module with such an object, and one line here.
"""

from __future__ import annotations

import importlib

# method.kind -> "module:OBJECT" (module relative to this package)
METHODS: dict[str, str] = {
    "full": "sft:METHOD",
    "lora": "sft:METHOD",
    "qlora": "sft:METHOD",
    "prefix": "prefix_adapter:PREFIX",
    "adapter": "prefix_adapter:ADAPTER",
    "distill": "distill:DISTILL",
    "dpo": "preference:DPO",
    "reward": "preference:REWARD",
    "rlhf": "rlhf:RLHF_METHOD",
}


def handles(kind: str | None) -> bool:
    """Whether some method module trains this method.kind."""
    return kind in METHODS


def method_for_kind(kind: str):
    """The TrainingMethod registered for kind (KeyError for kinds not listed)."""
    module, name = METHODS[kind].split(":")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def method_for(lock):
    """The TrainingMethod for the lock's method.kind; RunFailure FTC506 when none trains it."""
    kind = lock.get("method.kind")
    if not handles(kind):
        raise lock.fail("method.kind", "FTC506",
                        f"method.kind {kind!r} is not run by this runtime",
                        f"supported here: {', '.join(METHODS)}")
    return method_for_kind(kind)
