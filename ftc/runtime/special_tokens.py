"""model.special_tokens, model.added_tokens and model.eot_tokens on the tokenizer and model.

Tokens the vocabulary lacks are added (special ones as special tokens, so they are
never split); the model's embeddings then grow to the tokenizer's length before any
adapter wraps it (PEFT's modules_to_save copies the grown embedding and head).  A
tokenizer with no pad token gets its eos token as pad, and the run says so.
End-of-turn tokens also stop generation (generation_config.eos_token_id).
"""

from __future__ import annotations

from ftc.runtime.run_lock import RunLock

SPECIAL_KEYS = ("pad", "eos", "bos", "unk")


def requested(lock: RunLock) -> bool:
    return bool(lock.get("model.special_tokens") or lock.get("model.added_tokens")
                or lock.get("model.eot_tokens"))


def apply_to_tokenizer(lock: RunLock, tokenizer) -> list[str]:
    """Set the lock's tokens on the tokenizer; notes for the run's log."""
    notes = []
    special = lock.get("model.special_tokens") or {}
    mapping = {f"{key}_token": special[key] for key in SPECIAL_KEYS if special.get(key)}
    if mapping:
        tokenizer.add_special_tokens(mapping)
    added = list(lock.get("model.added_tokens") or [])
    if added:
        tokenizer.add_tokens(added)
    eot = [t for t in lock.get("model.eot_tokens") or [] if t not in tokenizer.get_vocab()]
    if eot:
        tokenizer.add_special_tokens({"extra_special_tokens": eot},
                                     replace_extra_special_tokens=False)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
        notes.append(f"the tokenizer has no pad token: using its eos token "
                     f"{tokenizer.eos_token!r} (set model.special_tokens.pad to choose one)")
    return notes


def fit_model(lock: RunLock, model, tokenizer) -> None:
    """Grow the embeddings to the tokenizer; end-of-turn tokens end generation."""
    rows = model.get_input_embeddings().weight.shape[0]
    if len(tokenizer) > rows:
        model.resize_token_embeddings(len(tokenizer))
    if tokenizer.pad_token_id is not None:
        model.config.pad_token_id = tokenizer.pad_token_id
    eot = lock.get("model.eot_tokens") or []
    if eot and getattr(model, "generation_config", None) is not None:
        ids = [tokenizer.eos_token_id, *tokenizer.convert_tokens_to_ids(list(eot))]
        model.generation_config.eos_token_id = [i for i in dict.fromkeys(ids) if i is not None]
