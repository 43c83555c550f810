"""Peak memory per GPU of a training step, as a breakdown and a range.

The peak is the largest of three moments of a step (derived; each part's
formula is in terms.py, activations.py and zero.py):
- loss: end of the forward / start of the backward: weights, optimizer
  states, every saved activation and the loss's fp32 logits; gradients only
  when they survive between micro batches (accumulation, or PyTorch < 2.0);
- backward end: every gradient exists, activations are gone;
- optimizer step: gradients plus the step's scratch memory.
For GRPO (rlhf) a fourth, generation with its key/value cache.  The total
adds the CUDA context, NCCL buffers when distributed, and the caching
allocator's fragmentation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ftc.memory import activations as act
from ftc.memory.errors import Note
from ftc.memory.lora import adapter_parameters, lora_parameters, prefix_parameters
from ftc.memory.shapes import ModelShape
from ftc.memory.terms import (
    BNB_LOAD_FACTOR,
    DTYPE_BYTES,
    INT8_BITS,
    KBIT_UPCAST_BYTES,
    NF4_BITS,
    NF4_DQ_BITS,
    optimizer,
    optimizer_state_bytes,
    small_vectors,
    step_scratch_bytes,
)
from ftc.memory.units import GB, MIB
from ftc.memory.workload import Workload
from ftc.memory.zero import DS_CPU_BUFFER

# ---- fixed overheads (low, expected, high) ------------------------------------
# CUDA context: stas00/ml-engineering measured 0.47 GB (PyTorch 2.1 lazy module
# loading) and 0.92 GB (eager) on an A100; HF's anatomy doc 1,343 MB on a V100.
CUDA_CONTEXT = (0.47 * GB, 0.92 * GB, 1343 * MIB)
# torch.distributed / NCCL buffers: "roughly 1-2 GB more" (stas00 summary; secondary).
NCCL = (0.5 * GB, 1.0 * GB, 2.0 * GB)
# Caching-allocator fragmentation, as a share of the tensors' peak.  Expected
# value calibrated on the nvidia-smi rows 1-9 of the oracle (reserved memory);
# the ZeRO paper reports OOMs "with over 30% of memory still available in some
# extreme cases", which bounds the high end.
FRAGMENTATION = (0.0, 0.10, 0.30)
# Activation formulas are derived lower bounds within about 15% (memory-oracle
# 2.4: HF RMSNorm upcasts; torchtune rows 15-16 measured 4.9 MB/token vs 4.3).
ACTIVATION_SPREAD = 0.15
# A model known only by its parameter count: shapes are guessed.
APPROXIMATE_SPREAD = 0.25
# CPU runs: the training process itself (Python, torch, transformers, peft, trl
# imported: about 0.43 GiB measured in ftc's CI image) before any tensor.
CPU_PROCESS = (0.30 * GB, 0.50 * GB, 0.80 * GB)

PARTS = ("weights", "trainable parameters", "gradients", "optimizer states", "activations",
         "logits and loss")


@dataclass
class Part:
    name: str
    bytes: float
    detail: str = ""


@dataclass
class Estimate:
    """Per-GPU peak: the parts at the peak moment, the moments, and a range."""

    workload: Workload
    parts: list[Part]  # composition of the peak moment (sums to `tensors`)
    phases: dict[str, float]  # tensor total at each moment of the step
    peak_phase: str
    tensors: float
    low: float
    expected: float
    high: float
    overhead: float  # context + NCCL + fragmentation, expected
    trainable_params: int
    total_params: int
    cpu_bytes: float = 0.0  # host memory of offloaded states (DeepSpeed's figure)
    evictable: float = 0.0  # paged optimizer states CUDA may move to the host
    notes: list[Note] = field(default_factory=list)

    @property
    def dominant(self) -> Part:
        return max(self.parts, key=lambda p: p.bytes)

    def part(self, name: str) -> float:
        return sum(p.bytes for p in self.parts if p.name == name)


# --------------------------------------------------------------------------- weights


def _quant_bits(w: Workload) -> float:
    if w.base_dtype == "int8":
        return INT8_BITS
    return NF4_DQ_BITS if w.double_quant else NF4_BITS


def base_weight_bytes(w: Workload) -> float:
    """The base model's weights as stored on one GPU (before any ZeRO-3 partitioning)."""
    s = w.shape
    params = _head_adjusted_params(w)
    if w.quantized:
        linear = s.linear_parameters()
        rest = params - linear
        upcast = KBIT_UPCAST_BYTES if w.kbit_upcast else w.compute_bytes
        total = linear * _quant_bits(w) / 8 + rest * upcast
        return total * (BNB_LOAD_FACTOR if w.bnb_loading else 1.0)
    return params * DTYPE_BYTES[w.base_dtype]


def _head_adjusted_params(w: Workload) -> int:
    """Parameters of the model as loaded: a classification head replaces an untied LM head."""
    s = w.shape
    total = s.parameters()
    if w.sequence_classification and s.family == "decoder" and not s.tied:
        total -= s.vocab * s.hidden
    return total


def trainable_params(w: Workload) -> int:
    s = w.shape
    if w.tuning == "full":
        return _head_adjusted_params(w)
    if w.adapters:
        return lora_parameters(s, w.lora_r, w.lora_targets, w.modules_to_save)
    if w.tuning == "prefix":
        return prefix_parameters(s, w.prefix_tokens, w.prefix_projection)
    return adapter_parameters(s, w.adapter_type, w.adapter_len, w.adapter_layers)


def saved_module_parameters(w: Workload) -> int:
    """Parameters of the full copies that LoRA's modules_to_save trains (embeddings, head)."""
    if not w.adapters or not w.modules_to_save:
        return 0
    return lora_parameters(w.shape, w.lora_r, w.lora_targets, w.modules_to_save) - \
        lora_parameters(w.shape, w.lora_r, w.lora_targets)


def saved_module_bytes(w: Workload) -> int:
    """Width of a modules_to_save copy: the base dtype (fp32 after QLoRA's k-bit upcast)."""
    if w.quantized:
        return KBIT_UPCAST_BYTES if w.kbit_upcast else w.compute_bytes
    return DTYPE_BYTES[w.base_dtype]


def trainable_bytes_per_param(w: Workload) -> int:
    """Storage (and gradient) bytes of each trainable parameter."""
    if w.tuning == "full":
        return DTYPE_BYTES[w.base_dtype]
    return w.adapter_bytes


# --------------------------------------------------------------------------- states


@dataclass
class States:
    weights: float
    trainable: float
    grads: float
    optim: float
    extras: dict[str, float]
    cpu: float
    scratch: float
    evictable: float


def model_states(w: Workload, pt: int) -> States:
    """Weights, gradients and optimizer states per GPU under the distribution strategy."""
    s = w.shape
    opt = optimizer(w.optimizer)
    full = w.tuning == "full"
    pbytes = trainable_bytes_per_param(w)
    vectors = s.layers * s.norms_per_layer * s.hidden + s.hidden if full else 0
    if not opt.factored:  # bitsandbytes: only vectors under 4096 elements stay 32-bit
        vectors = small_vectors(s.hidden, vectors)
    n = max(1, w.world_size)
    base = base_weight_bytes(w) if not full else 0.0
    weights = float(pt * pbytes) if full else base
    trainable = 0.0 if full else float(pt * pbytes)
    grads = float(pt * pbytes)
    optim = optimizer_state_bytes(opt, pt, pbytes, vectors)
    saved = saved_module_parameters(w)
    if saved:
        # modules_to_save are copies of the original modules in their own dtype (PEFT's
        # adapter upcast touches only the LoRA matrices): weights, grads and AdamW
        # states at that width; the LoRA matrices keep theirs.
        sbytes = saved_module_bytes(w)
        lora = pt - saved
        trainable = float(lora * pbytes + saved * sbytes)
        grads = trainable
        optim = optimizer_state_bytes(opt, lora, pbytes) + optimizer_state_bytes(opt, saved,
                                                                                 sbytes)
    extras: dict[str, float] = {}
    cpu = 0.0
    largest = s.largest_layer_parameters()
    on_gpu = w.accelerator == "gpu"
    step_kind = w.optimizer_step or opt.step
    step_opt = opt if w.optimizer_step is None else type(opt)(opt.name, opt.state_bytes,
                                                              opt.paged, opt.factored, step_kind)
    scratch = step_scratch_bytes(step_opt, pt, pbytes, min(largest, pt) if pt else 0, on_gpu)

    if w.zero_stage:
        stage = w.zero_stage
        # DeepSpeed holds 16-bit working weights and an fp32 master inside its
        # optimizer (deepspeed/runtime/zero; 18 bytes/param partitioned at stage 2-3).
        fp32_states = optimizer_state_bytes(opt, pt, 4, vectors)
        master = 4.0 * pt + 4.0 * pt + fp32_states  # fp32 params + fp32 grads + states
        w16 = 2.0 * pt
        g16 = 2.0 * pt
        offload_opt = w.offload in ("optimizer", "optimizer+params")
        offload_params = w.offload == "optimizer+params" and stage == 3
        if stage == 1:
            weights_t, grads, optim = w16, g16, master / n
        elif stage == 2:
            weights_t, grads, optim = w16, g16 / n, master / n
        else:
            weights_t, grads, optim = w16 / n, 0.0, (master - 2.0 * pt + g16) / n
            extras["ZeRO-3 gather buffers"] = 4.0 * largest
        if offload_opt:
            cpu += optim * n * DS_CPU_BUFFER / max(1, w.nodes)
            optim = 0.0
            scratch = 0.0
        if offload_params:
            cpu += weights_t * n * DS_CPU_BUFFER / max(1, w.nodes)
            weights_t = 0.0
        if not full and stage == 3:
            base = base / n
        weights = weights_t if full else base
        trainable = 0.0 if full else weights_t
        scratch = scratch * 4 / max(1, pbytes) / n  # on the fp32 partition
    elif w.strategy == "fsdp" and w.fsdp_sharding != "no_shard":
        shards = n if w.fsdp_sharding != "hybrid_shard" else max(1, n // max(1, w.nodes))
        unit = _layer_params(s) * w.compute_bytes * 2  # current + prefetched unit, unsharded
        if full:
            kept = weights / shards
            if w.fsdp_sharding == "shard_grad_op":  # unsharded 16-bit params kept fwd->bwd
                extras["FSDP unsharded parameters"] = float(pt * w.compute_bytes)
            weights = kept
        elif w.fsdp_sharding in ("full_shard", "hybrid_shard"):
            base = base / shards
            weights = base
        grads, optim, scratch = grads / shards, optim / shards, scratch / shards
        trainable = trainable / shards if not full else 0.0
        extras["FSDP unit buffers"] = float(unit)
        if w.offload != "none":
            cpu += (weights + trainable + grads + optim) * shards
            weights = trainable = grads = optim = scratch = 0.0
    elif w.strategy in ("ddp", "fsdp") and n > 1:
        # DDP's reducer keeps its own flat copy of the gradients
        # (gradient_as_bucket_view=False, the accelerate default).
        extras["DDP gradient buckets"] = grads

    evictable = optim if opt.paged else 0.0
    frozen16 = DTYPE_BYTES.get(w.precision, 2) if w.precision in DTYPE_BYTES else 2
    share = n if w.zero_stage == 3 else 1
    if w.teacher is not None:
        extras["teacher weights"] = w.teacher.parameters() * frozen16 / share
    if w.kind in ("dpo", "rlhf") and w.tuning == "full" and (w.kind == "dpo" or w.rlhf_beta > 0):
        extras["reference model"] = _head_adjusted_params(w) * frozen16 / share
    if w.kind == "rlhf" and w.reward_model is not None:
        extras["reward model"] = w.reward_model.parameters() * frozen16 / share
    return States(weights, trainable, grads, optim, extras, cpu, scratch, evictable)


def _layer_params(s: ModelShape) -> int:
    if s.family == "params":
        return s.largest_layer_parameters()
    return s.block_linear_parameters()


# --------------------------------------------------------------------------- activations


def regime(w: Workload) -> act.Regime:
    e = w.compute_bytes
    if w.tuning == "full" and (w.zero_stage or w.strategy == "fsdp"):
        res = e  # the sharding engine runs the model in the compute dtype
    elif w.tuning == "full":
        res = 4 if w.autocast or w.base_dtype == "fp32" else DTYPE_BYTES[w.base_dtype]
    elif w.quantized:
        res = KBIT_UPCAST_BYTES if w.kbit_upcast else e  # PEFT upcasts the embeddings
    else:
        res = DTYPE_BYTES.get(w.base_dtype, 2)
    return act.Regime(e=e, res=res, trainable=w.tuning == "full", attn=w.attn,
                      lora_targets=w.lora_targets if w.adapters else (),
                      lora_r=w.lora_r if w.adapters else 0,
                      lora_dropout=w.lora_dropout if w.adapters else 0.0,
                      compiled=w.compiled or w.liger)  # Liger fuses norms and SwiGLU alike


@dataclass
class Activations:
    saved: float  # everything saved at the end of the forward
    layer: float  # one layer's working set (recompute under checkpointing)
    logits: float
    mask: float


def activations(w: Workload) -> Activations:
    s = w.shape
    rg = regime(w)
    tokens = w.tokens
    if s.family == "params":  # no shapes: a GPT-style guess from the ZeRO paper footnote
        per_layer = 0.0
        layers = 0
        layer = 0.0
    elif s.family == "encoder":
        per_layer = act.encoder_layer(s, rg, w.seq_len, w.autocast)
        layers = s.layers
        layer = per_layer * tokens
    else:
        per_layer = act.decoder_layer(s, rg) + act.decoder_scores(s, rg, w.seq_len)
        layers = s.layers
        layer = per_layer * tokens
    if w.gradient_checkpointing:
        kept = 0.0 if w.activation_offload else act.layer_input(rg, s) * tokens * layers
        saved = kept
    elif w.activation_offload:
        # Everything saved goes to the host as the forward runs; the layer being
        # computed and the one brought back ahead of its backward stay (derived).
        saved = per_layer * tokens * min(2, layers)
    else:
        saved = per_layer * tokens * layers
    if s.family == "decoder":
        saved += (act.FP32 + (rg.res if rg.trainable else 0)) * s.hidden * tokens  # final norm
    elif s.family == "encoder":
        saved += (rg.res + act.MASK) * s.hidden * tokens  # embedding LayerNorm + dropout
    mask = 0.0
    if not w.packed and w.attn in ("sdpa", "eager") and s.family == "decoder":
        mask = w.sequences * w.seq_len ** 2 * (1 if w.attn == "sdpa" else w.compute_bytes)
    logits = 0.0
    if not w.sequence_classification and s.family == "decoder":
        if w.fused_loss and w.teacher is None:
            logits = act.fused_head_peak(tokens, s.vocab, s.hidden, w.compute_bytes)
        else:
            logits = act.logits_peak(s.vocab, w.compute_bytes, w.chunked_loss) * tokens
        if w.teacher is not None:
            # Teacher logits (16-bit) and their fp32 softmax, plus the student's
            # temperature-scaled log-softmax (derived; memory-oracle 2.7).
            logits += (2 + 4) * w.teacher.vocab * tokens + 4 * s.vocab * tokens
    return Activations(saved, layer, logits, mask)


# --------------------------------------------------------------------------- total


def estimate(w: Workload) -> Estimate:
    """The per-GPU peak memory of one training step of `w`."""
    s = w.shape
    pt = trainable_params(w)
    st = model_states(w, pt)
    a = activations(w)
    full = w.tuning == "full"
    gbytes = trainable_bytes_per_param(w)
    extras = dict(st.extras)
    resident = {"weights": st.weights, "trainable parameters": st.trainable,
                "optimizer states": st.optim, **extras}

    # Autocast caches a 16-bit copy of each trainable weight it casts; the copies
    # are saved for the backward unless checkpointing recomputes them per layer.
    cast = 0.0
    if w.autocast and full and not w.zero_stage and w.strategy != "fsdp":
        linear = s.linear_parameters() + (s.vocab * s.hidden if s.family == "decoder" else 0)
        cast = 2.0 * (linear / max(1, s.layers) if w.gradient_checkpointing else linear)

    grads_live = st.grads
    if w.optimizer_in_backward:
        grads_live = float(min(s.largest_layer_parameters(), pt) * gbytes)
    persist = w.gradient_accumulation > 1 or not w.grads_freed_each_step
    head_grad = float(s.vocab * s.hidden * gbytes) if full and s.family == "decoder" else 0.0
    grads_at_loss = grads_live if persist else min(head_grad, grads_live)

    # At the loss, checkpointing keeps only the layer inputs; the logits and one
    # layer's recompute come one after the other, so the larger of the two counts.
    acts, logits = a.saved + a.mask, a.logits
    if w.gradient_checkpointing:
        if a.layer > a.logits:
            acts, logits = acts + a.layer, 0.0
    loss = {**resident, "autocast weight copies": cast, "gradients": grads_at_loss,
            "activations": acts, "logits and loss": logits}
    backward_end = {**resident, "gradients": grads_live, "activations": a.layer + a.mask}
    scratch = 0.0 if w.optimizer_in_backward else st.scratch
    step = {**resident, "gradients": grads_live, "optimizer step scratch": scratch}
    phases = {"loss (forward end)": loss, "backward end": backward_end,
              "optimizer step": step}
    if w.kind == "rlhf":
        kv = w.sequences * w.seq_len * 2 * s.layers * s.kv_width * w.compute_bytes
        phases["generation"] = {**resident, "KV cache": float(kv),
                                "logits and loss": 4.0 * s.vocab * w.sequences}
    totals = {name: sum(parts.values()) for name, parts in phases.items()}
    peak_phase = max(totals, key=lambda k: totals[k])
    tensors = totals[peak_phase]
    parts = [Part(name, value) for name, value in phases[peak_phase].items() if value > 0]
    for p in parts:
        p.detail = _detail(p.name, w, pt)

    # Range: activation formulas are lower bounds; guessed shapes widen everything.
    act_part = sum(p.bytes for p in parts if p.name in ("activations", "logits and loss"))
    spread = APPROXIMATE_SPREAD if s.approximate else 0.0
    t_low = (tensors - ACTIVATION_SPREAD * act_part) * (1 - spread)
    t_high = (tensors + ACTIVATION_SPREAD * act_part) * (1 + spread)
    if w.accelerator == "cpu":
        fixed = CPU_PROCESS
        frag = (0.0, 0.0, FRAGMENTATION[1])
    else:
        ctx = (w.framework_bytes,) * 3 if w.framework_bytes is not None else CUDA_CONTEXT
        nccl = NCCL if w.world_size > 1 else (0.0, 0.0, 0.0)
        fixed = tuple(c + d for c, d in zip(ctx, nccl, strict=True))
        frag = FRAGMENTATION
    low = t_low * (1 + frag[0]) + fixed[0]
    expected = tensors * (1 + frag[1]) + fixed[1]
    high = t_high * (1 + frag[2]) + fixed[2]
    overhead = expected - tensors
    return Estimate(w, parts, totals, peak_phase, tensors, low, expected, high, overhead,
                    pt, s.parameters(), st.cpu, st.evictable, list(w.notes))


def _detail(name: str, w: Workload, pt: int) -> str:
    s = w.shape
    if name == "weights":
        if w.quantized:
            bits = _quant_bits(w)
            return (f"{s.parameters() / 1e9:.2f}B params; linear layers {w.base_dtype} at "
                    f"{bits:.3f} bits, the rest fp32 (PEFT k-bit upcast)")
        what = "fp32 master" if w.autocast else w.base_dtype
        if w.tuning != "full":
            what += ", frozen"
        elif w.zero_stage:
            what = "16-bit working copy (DeepSpeed)"
        if w.zero_stage == 3 or (w.strategy == "fsdp" and w.fsdp_sharding != "no_shard"):
            what += f", sharded over {w.world_size}"
        return f"{s.parameters() / 1e9:.2f}B params, {what}"
    if name == "trainable parameters":
        width = 2 if w.zero_stage else w.adapter_bytes
        return f"{pt:,} trainable ({w.tuning}), {width} bytes each"
    if name == "gradients":
        return f"{pt:,} trainable parameters"
    if name == "optimizer states":
        return w.optimizer + (f", partitioned over {w.world_size} ({w.strategy})"
                              if w.zero_stage or w.strategy == "fsdp" else "")
    if name == "activations":
        ckpt = "checkpointed" if w.gradient_checkpointing else "all layers"
        return f"{w.tokens:,} tokens/micro batch ({w.sequences} x {w.seq_len}), {ckpt}"
    if name == "logits and loss":
        if w.fused_loss:
            return f"{w.tokens:,} tokens, fused LM head (tiles, no full logits)"
        return f"{w.tokens:,} tokens x vocab {s.vocab:,}, fp32 cross-entropy"
    return ""
