"""Activation memory: what autograd saves per token, per layer, for the backward pass.

Derived tensor by tensor from the transformers implementations (Llama-style
decoder and BERT), following Korthikanti et al. 2022 ("Reducing Activation
Recomputation", 34*s*b*h + 5*a*s^2*b per GPT layer in 16-bit; the BERT count
below reproduces that figure exactly for pure 16-bit).  The Llama count is
derived (memory-oracle 2.4), with HF's RMSNorm fp32 upcast counted instead of
ignored.  Widths: h hidden, hq query width, kv key/value width, f MLP width.

Regimes, from the dtypes the run uses:
- e: bytes of the 16/32-bit compute dtype (linear outputs);
- res: bytes of the residual stream (fp32 when the embeddings are fp32: full
  fine-tuning with fp32 master weights under autocast, or QLoRA after PEFT's
  upcast); under autocast every linear saves its own 16-bit cast of its input;
- trainable: full fine-tuning saves each linear's input for the weight
  gradient; a frozen base saves only what the input gradient needs, plus the
  LoRA adapters' inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

from ftc.memory.shapes import ModelShape

# Bytes of a dropout mask element (torch native_dropout returns a bool mask).
MASK = 1
# fp32 softmax / logsumexp / RMSNorm internals.
FP32 = 4


@dataclass(frozen=True)
class Regime:
    e: int  # compute dtype bytes
    res: int  # residual stream bytes
    trainable: bool  # base weights train (full fine-tuning)
    attn: str = "sdpa"  # sdpa | eager | flash_attention_2
    lora_targets: tuple[str, ...] = ()
    lora_r: int = 0
    lora_dropout: float = 0.0
    compiled: bool = False  # torch.compile fuses norms and the gated MLP (derived)

    @property
    def casts(self) -> bool:
        """Autocast over a wider residual: each linear keeps its own 16-bit input copy."""
        return self.res != self.e


def decoder_layer(shape: ModelShape, rg: Regime) -> float:
    """Bytes saved per token in one Llama-style block (without the s^2 attention terms)."""
    h, hq, kv, f = shape.hidden, shape.q_width, shape.kv_width, shape.intermediate
    e, res = rg.e, rg.res
    targets = set(rg.lora_targets)

    def norm() -> float:
        # HF RMSNorm: x.to(fp32) saved by pow and mul; the trainable weight's mul
        # saves the normalised input in the residual dtype.
        if rg.compiled:  # fused: one input copy
            return res * h
        return FP32 * h + (res * h if rg.trainable else 0)

    def linear_inputs(modules: tuple[str, ...], width: int) -> float:
        # Saved input of linears reading the same tensor.  Full: once (or one
        # cast each under autocast).  Frozen: only adapted modules keep an input
        # (PEFT casts to the adapter dtype, autocast back: one copy per module,
        # plus a dropout mask when lora_dropout > 0).
        if rg.trainable:
            return len(modules) * e * width if rg.casts else e * width
        adapted = [m for m in modules if m in targets]
        per = (e + (MASK if rg.lora_dropout > 0 else 0)) * width + e * rg.lora_r
        return len(adapted) * per

    # q, k, v as the attention kernel saves them.  Without flash-attention's
    # native GQA, transformers expands k and v to all heads first (repeat_kv).
    k_width = kv if rg.attn == "flash_attention_2" else hq
    qkv = e * (hq + 2 * k_width)
    if rg.attn == "eager":
        core = qkv  # the attention output is saved by o_proj, not by matmul
    else:
        core = qkv + e * hq + FP32 * shape.heads  # kernel output + logsumexp
    attention = norm() + linear_inputs(("q_proj", "k_proj", "v_proj"), h) + core
    attention += linear_inputs(("o_proj",), hq)
    # Gated MLP: act(gate) saves gate, the product saves up and act(gate); down
    # saves the product when its weight (or adapter) trains.
    saved_products = (2 if rg.compiled else 3) * e * f
    expert = linear_inputs(("gate_proj", "up_proj"), h) + saved_products \
        + linear_inputs(("down_proj",), f)
    mlp = norm() + expert * shape.experts_per_token
    if shape.experts > 1:  # router input and the per-expert gathered inputs
        mlp += e * h * shape.experts_per_token + e * h
    extra_norms = max(0, shape.norms_per_layer - 2) * norm()  # Gemma's post-norms
    return attention + mlp + extra_norms


def decoder_scores(shape: ModelShape, rg: Regime, seq: int) -> float:
    """Per token per layer, the s-proportional terms eager attention materialises."""
    if rg.attn != "eager":
        return 0.0
    # softmax(dtype=fp32) output, then .to(dtype) saved by the matmul with V.
    return (FP32 + (rg.e if rg.e != FP32 else 0)) * shape.heads * seq


def encoder_layer(shape: ModelShape, rg: Regime, seq: int, autocast: bool) -> float:
    """Bytes saved per token in one BERT block, s^2 terms included (eager, dropout 0.1).

    Pure 16-bit gives 34*h + 5*a*s exactly (Korthikanti et al. 2022).
    """
    h, f, a = shape.hidden, shape.intermediate, shape.heads
    e, res = rg.e, rg.res
    qkv_in = 3 * e * h if rg.casts else res * h
    qkv = 3 * e * h
    # softmax (fp32 under autocast), dropout mask, dropout output (cast for the matmul).
    scores = ((FP32 if autocast else e) + MASK + e) * a * seq
    context = e * h  # contiguous copy read by the output dense
    ln1 = MASK * h + res * h
    mlp = (e if rg.casts else res) * h + 2 * e * f + MASK * h + res * h
    return qkv_in + qkv + scores + context + ln1 + mlp


def layer_input(rg: Regime, shape: ModelShape) -> float:
    """What gradient checkpointing keeps per token per layer: the block's input."""
    return rg.res * shape.hidden


def logits_peak(vocab: int, e: int, chunked: bool = False) -> float:
    """Peak bytes per token of the LM head output and the cross-entropy loss.

    transformers' ForCausalLMLoss upcasts the logits to fp32 and log_softmax
    saves its fp32 output; in the backward the gradient of that output and
    the gradient of its input (fp32 each) are alive together with it:
    3 x 4 = 12 bytes per vocabulary entry (the 16-bit logits, 2 bytes, are
    freed by then).  The oracle's 10*V (memory-oracle 2.4) counts the forward
    side.  A chunked, compiled loss (torchtune CEWithChunkedOutputLoss) keeps
    only the 16-bit logits (derived from oracle rows 17-18: -8.1 GiB at
    8,192 tokens).
    """
    if chunked:
        return float(e * vocab)
    return float(3 * FP32 * vocab)


# TRL's fused LM head (trl/kernels/chunked_logprob.py, TRL 1.16): tiles of
# 4,096 tokens x 32,768 vocabulary entries in the compute dtype; six fp32
# per-token statistics; in the backward an fp32 gradient of the hidden states.
FUSED_TOKEN_TILE = 4096
FUSED_VOCAB_TILE = 32768


def fused_head_peak(tokens: int, vocab: int, hidden: int, e: int) -> float:
    """Peak bytes of a fused linear cross-entropy (TRL's tiled head; CCE and Liger keep less).

    No (tokens x vocab) logits exist: one tile, the per-token statistics, and the
    fp32 gradient of the hidden states it accumulates (derived from the TRL kernel).
    """
    tile = min(tokens, FUSED_TOKEN_TILE) * min(vocab, FUSED_VOCAB_TILE) * e
    return float(tile + tokens * (6 * FP32 + FP32 * hidden))
