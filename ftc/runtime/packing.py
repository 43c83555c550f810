"""Packed batches and the attention that keeps packed examples apart.

TRL packs examples into rows of max_length (best-fit decreasing) and, being
padding-free, flattens a whole micro batch into ONE row with the examples'
boundaries beside it (`cu_seq_lens_q`). FlashAttention's variable-length
kernel reads those boundaries. Stock SDPA and eager attention cannot: they build
a block-diagonal mask over the flattened row, so attention costs
(rows x length)^2, and a packed micro batch ran slower than no packing at all.

For SDPA, ftc registers `sdpa_varlen` with transformers' attention interface:
on a flattened packed batch it runs one causal SDPA call per example (the
sequences are split, not sliced, so the backward is one concatenation), which
is what a varlen kernel computes, with no mask built; on any other batch it is
transformers' own SDPA with the usual mask, so evaluation and generation are
unchanged. The name never reaches a saved config.json (transformers does not
serialize the attention implementation). Eager attention keeps the packed rows
apart instead (`rows_collator`): position ids restart at every example and
transformers builds the block-diagonal mask one row at a time.
"""

from __future__ import annotations

SDPA_VARLEN = "ftc_sdpa_varlen"


def packed_attention(attn_implementation: str | None) -> str:
    """The attention a packed run uses: varlen SDPA for SDPA, the requested one otherwise."""
    attn = attn_implementation or "sdpa"
    return SDPA_VARLEN if attn == "sdpa" else attn


def wants_row_batches(attn_implementation: str | None) -> bool:
    """Eager attention needs packed rows kept apart; FlashAttention and varlen SDPA take
    TRL's flattened batch as is."""
    return (attn_implementation or "sdpa") == "eager"


def use_packed_attention(model, attn_implementation: str | None) -> None:
    """Switch the model to the attention a packed batch needs (before PEFT wraps it)."""
    attn = packed_attention(attn_implementation)
    if attn == SDPA_VARLEN:
        register_sdpa_varlen()
        model.set_attn_implementation(SDPA_VARLEN)


def register_sdpa_varlen() -> None:
    """Make `ftc_sdpa_varlen` known to transformers (idempotent; every rank calls it)."""
    from transformers import AttentionInterface
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS

    AttentionInterface.register(SDPA_VARLEN, sdpa_varlen_forward)
    ALL_MASK_ATTENTION_FUNCTIONS.register(SDPA_VARLEN, padding_mask)


def padding_mask(*args, attention_mask=None, **kwargs):
    """No mask for unpadded batches (causal, or packed: the boundaries come with the batch);
    SDPA's own mask where a batch has padding."""
    if attention_mask is None:
        return None
    from transformers.masking_utils import sdpa_mask

    return sdpa_mask(*args, attention_mask=attention_mask, **kwargs)


def sdpa_varlen_forward(module, query, key, value, attention_mask, dropout: float = 0.0,
                        scaling: float | None = None, is_causal: bool | None = None, **kwargs):
    """One causal SDPA call per packed example; transformers' SDPA for every other batch."""
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    lengths = _packed_lengths(query, attention_mask, kwargs)
    if lengths is None:
        return sdpa_attention_forward(module, query, key, value, attention_mask,
                                      dropout=dropout, scaling=scaling, is_causal=is_causal,
                                      **kwargs)
    import torch
    from torch.nn.functional import scaled_dot_product_attention
    from transformers.integrations.sdpa_attention import repeat_kv

    groups = getattr(module, "num_key_value_groups", 1)
    key, value = repeat_kv(key, groups), repeat_kv(value, groups)
    p = dropout if module.training else 0.0
    parts = [scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True, scale=scaling)
             for q, k, v in zip(query.split(lengths, 2), key.split(lengths, 2),
                                value.split(lengths, 2), strict=True)]
    return torch.cat(parts, 2).transpose(1, 2).contiguous(), None


def _packed_lengths(query, attention_mask, kwargs) -> list[int] | None:
    """The examples' lengths of a flattened packed batch (one row, no mask), else None."""
    if attention_mask is not None or query.shape[0] != 1 or query.shape[2] < 2:
        return None
    bounds = kwargs.get("cu_seq_lens_q")
    if bounds is None:
        positions = kwargs.get("position_ids")
        if positions is None:
            return None
        from transformers.masking_utils import find_packed_sequence_indices

        seq = find_packed_sequence_indices(positions)
        if seq is None:
            return None
        return seq[0].bincount().tolist()
    if int(bounds[-1]) != query.shape[2]:
        return None  # not this sequence's boundaries (a cache, a different length)
    return bounds.diff().tolist()


def rows_collator(pad_token_id: int, pad_to_multiple_of: int | None = None):
    """A TRL DataCollatorForLanguageModeling that returns packed rows as a [rows, length] batch."""
    import torch
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling
    from trl.trainer.utils import pad

    class PackedRowsCollator(DataCollatorForLanguageModeling):
        def torch_call(self, examples):
            if "seq_lengths" not in examples[0]:
                return super().torch_call(examples)
            position_ids = self.get_position_ids_from_packed_seq_lengths(
                [ex["seq_lengths"] for ex in examples])
            out = {
                "input_ids": pad([torch.tensor(ex["input_ids"]) for ex in examples],
                                 self.pad_token_id, "right", self.pad_to_multiple_of),
                "labels": pad([torch.tensor(ex["labels"]) for ex in examples],
                              -100, "right", self.pad_to_multiple_of),
                "position_ids": pad(position_ids, 0, "right", self.pad_to_multiple_of),
            }
            # an example's first token is not predicted from the end of the one before it
            out["labels"][out["position_ids"] == 0] = -100
            return out

    return PackedRowsCollator(pad_token_id=pad_token_id, padding_free=True,
                              pad_to_multiple_of=pad_to_multiple_of)
