"""axolotl's defaults where they differ from ftc's: written into the recipe when the config
leaves the key out, so that the recipe trains as axolotl would (config reference defaults:
num_epochs 1, micro_batch_size 1, gradient_accumulation_steps 1, sequence_len 512, no
warmup, lora_dropout 0, no dedup, gradient checkpointing off, eval/save each epoch)."""

from __future__ import annotations

from collections.abc import Callable

from ftc.importers.mapping import Mapping


def _lora(m: Mapping) -> bool:
    method = m.recipe.get("method", {})
    return bool({"lora", "qlora"} & {method.get("kind"), method.get("tuning")})


def _validates(m: Mapping) -> bool:
    split = m.get("data.split") or {}
    return bool(m.get("data.validation")) or split.get("validation", 0) > 0


def _always(m: Mapping) -> bool:
    return True


# (recipe key, value, axolotl key, when)
DEFAULTS: list[tuple[str, object, str, Callable[[Mapping], bool]]] = [
    ("training.epochs", 1, "num_epochs", _always),
    ("training.micro_batch_size", 1, "micro_batch_size", _always),
    ("training.gradient_accumulation", 1, "gradient_accumulation_steps",
     lambda m: m.get("training.batch_size") is None),
    ("model.max_seq_length", 512, "sequence_len", _always),
    ("training.warmup_ratio", 0.0, "warmup_ratio",
     lambda m: m.get("training.warmup_steps") is None),
    ("method.lora.dropout", 0.0, "lora_dropout", _lora),
    ("training.gradient_checkpointing", False, "gradient_checkpointing", _always),
    ("data.dedup.exact", False, "dataset_exact_deduplication", _always),
    ("data.dedup.near", False, "dataset_exact_deduplication", _always),
    ("training.eval.strategy", "epoch", "eval_steps",
     lambda m: _validates(m) and m.get("training.evals_per_epoch") is None),
    ("training.save.strategy", "epoch", "save_steps",
     lambda m: m.get("training.saves_per_epoch") is None),
]


def apply_defaults(m: Mapping) -> None:
    """Write axolotl's default for each recipe key the config left unset."""
    for target, value, key, when in DEFAULTS:
        if m.get(target) is None and when(m):
            m.default(target, value, key)
