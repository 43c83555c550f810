"""The methods beyond supervised fine-tuning: prefix, adapter, distill, dpo, reward, rlhf.

A registry maps method.kind to the function that builds its training job from
what the runtime has loaded (see common.MethodContext). Each builder lives in
the module of its method family and is imported only when that kind runs.

    from ftc.runtime.methods import builder_for, handles
    if handles(kind): job = builder_for(kind)(MethodContext(lock, tokenizer, splits, args))
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

# method.kind -> "module:function" (module relative to this package)
BUILDERS: dict[str, str] = {
    "prefix": "prefix_adapter:build_prefix",
    "adapter": "prefix_adapter:build_adapter",
    "distill": "distill:build_distill",
    "dpo": "preference:build_dpo",
    "reward": "preference:build_reward",
    "rlhf": "rlhf:build_rlhf",
}


def handles(kind: str | None) -> bool:
    """Whether method.kind is trained by this package (full/lora/qlora are plain SFT)."""
    return kind in BUILDERS


def builder_for(kind: str) -> Callable:
    """The builder function for a method.kind (KeyError for kinds not listed)."""
    module, func = BUILDERS[kind].split(":")
    return getattr(importlib.import_module(f"{__name__}.{module}"), func)
