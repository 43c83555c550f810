"""training.loss_kernel: the cross-entropy over the vocabulary without the full logits.

`chunked` (the default) is TRL's own fused LM head: SFTTrainer patches every
model so that `model(..., fused_lm_head=True)` projects the hidden states
through the LM head in tiles and recomputes them in the backward; nothing to do
here.  `cut_cross_entropy` keeps that call's shape (TRL's FusedCausalLMOutput,
so the trainer, PEFT and DDP see no difference) but computes the per-token
log-probabilities with Cut Cross Entropy (Wijmans et al. 2024; the
cut-cross-entropy package's Triton kernel), which never writes a tile of logits
to global memory.  CCE does not compute the entropy or the top-1 accuracy that
TRL logs, so those two metrics are left out of the logs instead of shown as 0.

On CUDA and XPU, TRL's head scores only the positions that have a label. Elsewhere
it scores every position, prompt and padding included, so that a compiled backend
(Neuron) sees fixed tile shapes. Eager CPU runs recompile nothing, so ftc gives them
the label-only path too (`score_label_positions_only`): the same loss and gradients,
and on assistant-only data (a quarter of the tokens carry labels) about 70% less
head work.
"""

from __future__ import annotations

import types

from ftc.runtime.run_lock import RunLock

UNREPORTED = ("entropy", "mean_token_accuracy")


def apply_loss_kernel(lock: RunLock, trainer) -> None:
    """Swap TRL's tiled head for Cut Cross Entropy when the lock asks for it."""
    if lock.get("training.loss_kernel") != "cut_cross_entropy":
        return
    model = trainer.model
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    config = base.config.get_text_config()
    head = base.get_output_embeddings()
    if getattr(config, "logit_scale", None) not in (None, 1.0) or head.bias is not None:
        raise lock.fail("training.loss_kernel", "FTC517", "cut_cross_entropy cannot compute this "
                        "model's loss (its LM head scales the logits or has a bias)",
                        "use loss_kernel: chunked")
    use_cut_cross_entropy(base, getattr(config, "final_logit_softcapping", None))
    trainer.unreported_metrics = UNREPORTED


def score_label_positions_only(compiled: bool) -> bool:
    """Let TRL's fused head take its label-only path on the CPU too, except under
    torch.compile (a changing number of rows would recompile). True when in effect.

    TRL decides with `trl.trainer.utils._use_triton(device)`; the tiles ask the kernel
    module's own copy, so the CPU still runs TRL's torch tiles.
    """
    import trl.trainer.utils as trl_utils

    current = getattr(trl_utils, "_use_triton", None)
    if current is None:
        return False
    original = getattr(current, "ftc_original", current)
    if compiled:
        trl_utils._use_triton = original
        return False

    def label_only(device) -> bool:
        return device.type == "cpu" or original(device)

    label_only.ftc_original = original
    trl_utils._use_triton = label_only
    return True


def use_cut_cross_entropy(model, softcap: float | None = None) -> None:
    """model(..., labels, fused_lm_head=True) through cut_cross_entropy.linear_cross_entropy."""
    import torch
    from cut_cross_entropy import linear_cross_entropy
    from trl.trainer.utils import FusedCausalLMOutput

    trl_forward = model.forward  # TRL's fused forward: plain calls and shifted labels

    def forward(self, *args, fused_lm_head=False, labels=None, num_items_in_batch=None,
                **kwargs):
        if not fused_lm_head or kwargs.get("shift_labels") is not None:
            return trl_forward(*args, fused_lm_head=fused_lm_head, labels=labels,
                               num_items_in_batch=num_items_in_batch, **kwargs)
        kwargs["use_cache"] = False
        hidden = self.base_model(*args, **kwargs).last_hidden_state[:, :-1]
        targets = labels[:, 1:].to(hidden.device)
        mask = targets != -100
        head = self.get_output_embeddings()
        nll = linear_cross_entropy(hidden.contiguous(), head.weight, targets.contiguous(),
                                   softcap=softcap, reduction="none")
        log_probs = -nll.masked_fill(~mask, 0.0)
        count = mask.sum().clamp(min=1) if num_items_in_batch is None else num_items_in_batch
        zeros = torch.zeros_like(log_probs, requires_grad=False)
        return FusedCausalLMOutput(loss=-log_probs.sum() / count, log_probs=log_probs,
                                   entropy=zeros, is_top1=zeros.bool(), label_mask=mask)

    model.forward = types.MethodType(forward, model)
