"""Bytes per parameter: weights by storage type, gradients, optimizer states, step scratch.

Each constant names its source; the figures are those collected in
../shared/corpus/memory-oracle.md section 2.1-2.2 (HF "model memory anatomy",
the ZeRO paper, bitsandbytes and PEFT source), unless marked derived.
"""

from __future__ import annotations

from dataclasses import dataclass

DTYPE_BYTES = {"fp32": 4, "bf16": 2, "fp16": 2}

# ---- 4/8-bit storage of the frozen base (bitsandbytes; memory-oracle 2.2) ------
# NF4/FP4: 4 bits + one fp32 absmax per 64-weight block = 4 + 32/64 = 4.5 bits.
# Double quantization: absmax as 8-bit per 256 blocks + one fp32 per block of
# those: 4 + 8/64 + 32/(64*256) = 4.127 bits (QLoRA paper section 3; bnb
# functional.quantize_4bit with compress_statistics=True).
NF4_BITS = 4.5
NF4_DQ_BITS = 4 + 8 / 64 + 32 / (64 * 256)
# LLM.int8 (bnb Linear8bitLt): int8 weights + one fp32 scale per output row;
# the per-row part is negligible, 8 bits per weight.
INT8_BITS = 8.0
# Only nn.Linear weights inside the blocks are quantized; embeddings, lm_head
# and norms stay 16-bit, and PEFT's prepare_model_for_kbit_training upcasts
# every remaining fp16/bf16 parameter to fp32 (memory-oracle 2.2), as ftc's
# runtime does (ftc/runtime/model_loading.py).
KBIT_UPCAST_BYTES = 4
# Calibrated: the QLoRA paper measured 5,048 MB for the LLaMA-7B 4-bit base
# (oracle row 35) against 4.39 GB from the arithmetic above; bitsandbytes
# quantizes each layer after loading it in 16-bit on the GPU, and the caching
# allocator keeps part of that.  Applied to bitsandbytes-quantized bases only.
BNB_LOAD_FACTOR = 5.048e9 / 4.39e9

# ---- LoRA adapters -----------------------------------------------------------
# PEFT keeps adapter weights in fp32 (autocast_adapter_dtype=True, the default):
# 4 B weights + 4 B grads + 8 B AdamW states = 16 B per trainable parameter.
PEFT_ADAPTER_BYTES = 4


@dataclass(frozen=True)
class Optimizer:
    """How much state an optimizer keeps and what its step allocates."""

    name: str
    state_bytes: float | None  # per parameter; None = two moments in the param dtype
    paged: bool = False  # held in CUDA unified memory: evictable to CPU under pressure
    factored: bool = False  # Adafactor: row+column statistics only for matrices
    step: str = "foreach"  # foreach | fused | loop: scratch memory of one step


# 8-bit states: 1 byte + one fp32 absmax per 256-element block per moment
# (bitsandbytes optimizer.py, blocksize=256): 2 * (1 + 4/256) = 2.03 B/param.
ADAM_8BIT_BYTES = 2 * (1 + 4 / 256)
# Tensors under min_8bit_size = 4096 elements keep 32-bit states (bnb).
BNB_MIN_8BIT_SIZE = 4096

OPTIMIZERS = {
    # torch.optim.AdamW: exp_avg and exp_avg_sq are zeros_like(param), so they
    # inherit the parameter dtype (8 B fp32, 4 B pure bf16: memory-oracle 2.1).
    # Transformers' "adamw_torch" leaves foreach on, whose step allocates one
    # parameter-sized list (torch/optim/adam.py: _foreach_mul / _foreach_sqrt).
    "adamw_torch": Optimizer("adamw_torch", None, step="foreach"),
    "adamw_torch_fused": Optimizer("adamw_torch_fused", None, step="fused"),
    # bitsandbytes 8-bit / paged: same bytes, paged ones evictable (bnb optimizer.py).
    "adamw_8bit": Optimizer("adamw_8bit", ADAM_8BIT_BYTES, step="fused"),
    "paged_adamw_8bit": Optimizer("paged_adamw_8bit", ADAM_8BIT_BYTES, paged=True, step="fused"),
    # bnb 32-bit optimizers keep fp32 states whatever the parameter dtype.
    "paged_adamw_32bit": Optimizer("paged_adamw_32bit", 8.0, paged=True, step="fused"),
    # transformers' Adafactor (beta1=None, factored second moment): O(rows+cols)
    # per matrix, full size only for vectors; its step works tensor by tensor.
    "adafactor": Optimizer("adafactor", 0.0, factored=True, step="loop"),
    # transformers' "sgd" is torch.optim.SGD without momentum: no state.
    "sgd": Optimizer("sgd", 0.0, step="loop"),
    # bitsandbytes Lion: one momentum; 8-bit as above for one state, 32-bit in fp32.
    "lion_8bit": Optimizer("lion_8bit", ADAM_8BIT_BYTES / 2, step="fused"),
    "lion_32bit": Optimizer("lion_32bit", 4.0, step="fused"),
    "paged_lion_8bit": Optimizer("paged_lion_8bit", ADAM_8BIT_BYTES / 2, paged=True, step="fused"),
    "paged_lion_32bit": Optimizer("paged_lion_32bit", 4.0, paged=True, step="fused"),
}
EIGHT_BIT = ("adamw_8bit", "paged_adamw_8bit", "lion_8bit", "paged_lion_8bit")


def optimizer(name: str) -> Optimizer:
    return OPTIMIZERS.get(name, OPTIMIZERS["adamw_torch"])


def optimizer_state_bytes(opt: Optimizer, params: int, param_bytes: int,
                          vector_params: int = 0) -> float:
    """Optimizer state for `params` trainable parameters stored with `param_bytes` each."""
    if opt.factored:
        # Adafactor: full fp32 second moment for vectors (norm weights, biases);
        # matrices keep row and column sums, negligible next to the weights.
        return 4.0 * vector_params
    if opt.state_bytes is None:
        return 2.0 * param_bytes * params
    if opt.name in EIGHT_BIT and vector_params:
        # Tensors under BNB_MIN_8BIT_SIZE elements (the norm vectors of a model
        # narrower than 4096) keep 32-bit states: 4 bytes per state.
        states = round(opt.state_bytes / (1 + 4 / 256))
        return opt.state_bytes * (params - vector_params) + 4.0 * states * vector_params
    return opt.state_bytes * params


def small_vectors(hidden: int, vectors: int) -> int:
    """Norm-vector parameters bitsandbytes keeps 32-bit states for (hidden < 4096)."""
    return vectors if hidden < BNB_MIN_8BIT_SIZE else 0


def step_scratch_bytes(opt: Optimizer, params: int, param_bytes: int, largest: int,
                       on_gpu: bool = True) -> float:
    """Memory the optimizer step allocates on top of the states (freed after the step)."""
    if opt.step == "fused" or params == 0:
        return 0.0
    if opt.step == "foreach" and on_gpu:
        # One list the size of all parameters (grads scaled by 1-beta2, then the
        # sqrt of exp_avg_sq), in the parameter dtype.  torch only uses foreach
        # on CUDA; on CPU the loop below applies.
        return float(param_bytes * params)
    # Tensor-by-tensor loop: a few temporaries of the largest tensor, in fp32
    # for Adafactor (it upcasts), else in the parameter dtype (derived).
    width = 4 if opt.factored else param_bytes
    return 3.0 * width * largest
