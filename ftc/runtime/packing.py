"""Packed batches shaped for the attention kernel that runs them.

TRL packs examples into rows of max_length (best-fit decreasing) and, being
padding-free, flattens a whole micro batch into ONE row. That suits
FlashAttention's variable-length kernel, which skips the masked blocks. SDPA
and eager attention cannot: they build a block-diagonal mask over the flattened
row, so attention costs (rows x length)^2 instead of rows x length^2, and a
packed micro batch of 8 rows of 1024 tokens ran slower than no packing at all.
For those kernels this collator keeps the packed rows apart: position ids restart
at every example and there is no attention mask, so transformers still builds
the block-diagonal mask (no cross-attention between examples), one row at a time.
"""

from __future__ import annotations


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


def wants_row_batches(attn_implementation: str | None) -> bool:
    """FlashAttention takes TRL's flattened batch as is; every other kernel wants rows."""
    return not (attn_implementation or "").startswith("flash_attention")
