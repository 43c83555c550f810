"""What one training process holds, read from a resolved recipe (the lock's values).

A Workload is the estimator's whole input: shapes, which weights train and in
what dtype, batch and sequence, optimizer, distribution.  `from_values` maps
the recipe keys onto it the way ftc's runtime will run them (weights dtype as
in ftc/runtime/model_loading.weights_dtype, SFTConfig as in
ftc/runtime/training_args, TRL's fused LM head for the kinds it serves).  The
last group of fields describes conditions of published measurements; most are
recipe options too (torch.compile, activation offloading, pure bf16 adapters),
a few are not (torchtune's chunked loss and optimizer-in-backward), so the same
model can be checked against them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ftc.dotted import get_dotted
from ftc.memory.errors import BAD_SETTING, MemoryInputError, Note
from ftc.memory.lora import target_modules
from ftc.memory.shapes import ModelShape, resolve_shape
from ftc.memory.terms import DTYPE_BYTES, PEFT_ADAPTER_BYTES

PEFT_KINDS = ("lora", "qlora")
TUNED_KINDS = ("distill", "dpo", "reward", "rlhf")
STRATEGIES = ("none", "ddp", "zero1", "zero2", "zero3", "fsdp")


@dataclass(frozen=True)
class Workload:
    shape: ModelShape
    kind: str = "full"  # method.kind
    tuning: str = "full"  # what trains: full | lora | qlora | prefix | adapter
    base_dtype: str = "bf16"  # storage of the base weights: fp32 | bf16 | fp16 | nf4 | fp4 | int8
    precision: str = "bf16"  # compute: fp32 | bf16 | fp16
    optimizer: str = "adamw_torch"
    micro_batch: int = 1
    seq_len: int = 2048
    packed: bool = False
    gradient_checkpointing: bool = False
    gradient_accumulation: int = 1
    attn: str = "sdpa"
    lora_r: int = 16
    lora_targets: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj")
    lora_dropout: float = 0.05
    modules_to_save: tuple[str, ...] = ()
    double_quant: bool = True
    prefix_tokens: int = 0
    prefix_projection: bool = False
    adapter_type: str = "llama-adapter"
    adapter_len: int = 10
    adapter_layers: int = 2
    strategy: str = "none"
    world_size: int = 1
    nodes: int = 1
    offload: str = "none"
    fsdp_sharding: str = "full_shard"
    accelerator: str = "gpu"
    teacher: ModelShape | None = None
    reward_model: ModelShape | None = None
    rlhf_generations: int = 4
    rlhf_completion: int = 64
    rlhf_beta: float = 0.04
    # ---- conditions of published measurements (no recipe key) -----------------
    adapter_bytes: int = PEFT_ADAPTER_BYTES  # 2 when adapters stay 16-bit (torchtune)
    bnb_loading: bool = True  # bitsandbytes quantizes after a 16-bit load (vs torchao)
    kbit_upcast: bool = True  # PEFT prepare_model_for_kbit_training: the rest to fp32
    grads_freed_each_step: bool = True  # zero_grad(set_to_none=True), PyTorch >= 2.0
    optimizer_step: str | None = None  # override the optimizer's step kind (fused/loop)
    compiled: bool = False
    chunked_loss: bool = False  # torchtune's chunked CE: 16-bit logits kept per token
    fused_loss: bool = False  # TRL's fused head / Cut Cross Entropy / Liger: no logits
    liger: bool = False  # Liger kernels: fused RMSNorm and SwiGLU save like compiled code
    activation_offload: bool = False
    optimizer_in_backward: bool = False
    sequence_classification: bool = False  # a small head instead of the LM head
    framework_bytes: float | None = None  # measured CUDA context, when a source gives it
    notes: tuple[Note, ...] = field(default=(), compare=False)

    # ---- derived ---------------------------------------------------------------
    @property
    def adapters(self) -> bool:
        return self.tuning in ("lora", "qlora")

    @property
    def quantized(self) -> bool:
        return self.base_dtype in ("nf4", "fp4", "int8")

    @property
    def autocast(self) -> bool:
        """16-bit compute over fp32 weights (transformers + accelerate mixed precision).

        Not under DeepSpeed or FSDP: they run the model in 16 bit themselves and
        keep the fp32 master copy inside the (sharded) optimizer.
        """
        return self.precision in ("bf16", "fp16") and self.base_dtype == "fp32" \
            and not self.zero_stage and self.strategy != "fsdp"

    @property
    def compute_bytes(self) -> int:
        return DTYPE_BYTES.get(self.precision, 4)

    @property
    def pairs(self) -> bool:
        """Preference methods run chosen and rejected through the model together."""
        return self.kind in ("dpo", "reward")

    @property
    def sequences(self) -> int:
        return self.micro_batch * (2 if self.pairs else 1)

    @property
    def tokens(self) -> int:
        return self.sequences * (self.seq_len + self.prefix_tokens)

    @property
    def zero_stage(self) -> int:
        return {"zero1": 1, "zero2": 2, "zero3": 3}.get(self.strategy, 0)

    def but(self, **changes: Any) -> Workload:
        return replace(self, **changes)


def _positive_int(values: dict, path: str, default: int) -> int:
    value = get_dotted(values, path, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise MemoryInputError(path, BAD_SETTING,
                               f"{path} must be an integer >= 1 for a memory estimate "
                               f"(got {value!r})")
    return value


def tuning_of(values: dict) -> str:
    kind = get_dotted(values, "method.kind", "full")
    if kind in TUNED_KINDS:
        return get_dotted(values, "method.tuning", "lora")
    if kind in ("lora", "qlora", "prefix", "adapter"):
        return kind
    return "full"


def base_dtype_of(values: dict, tuning: str) -> str:
    """Storage of the base weights, as ftc/runtime/model_loading.py loads them."""
    if tuning == "qlora":
        q = get_dotted(values, "method.quantization", {}) or {}
        if q.get("bits", 4) == 8:
            return "int8"
        return q.get("quant_type", "nf4")
    precision = get_dotted(values, "training.precision", "fp32")
    if precision == "auto":
        precision = "bf16" if get_dotted(values, "hardware.accelerator", "gpu") == "gpu" else "fp32"
    dtype = get_dotted(values, "model.dtype", "auto")
    if dtype in (None, "auto"):
        dtype = "bf16" if precision == "pure_bf16" else precision
    if get_dotted(values, "method.kind") == "full" and dtype in ("bf16", "fp16") \
            and precision in ("bf16", "fp16"):
        return "fp32"  # fp32 master weights, autocast computes in 16 bit
    return dtype


def from_values(values: dict, notes: list[Note] | None = None) -> Workload:
    """The Workload a resolved recipe describes; MemoryInputError for unusable input."""
    notes = [] if notes is None else notes
    shape = resolve_shape(str(get_dotted(values, "model.base", "")),
                          get_dotted(values, "model.parameters"), notes,
                          vocab=get_dotted(values, "model.vocab_size"))
    tuning = tuning_of(values)
    kind = get_dotted(values, "method.kind", "full")
    precision = get_dotted(values, "training.precision", "bf16")
    accelerator = get_dotted(values, "hardware.accelerator", "gpu")
    if precision == "auto":
        precision = "bf16" if accelerator == "gpu" else "fp32"
    pure = precision == "pure_bf16"
    precision = "bf16" if pure else precision
    if tuning == "qlora":
        precision = get_dotted(values, "method.quantization.compute_dtype", None) or precision
    lora = get_dotted(values, "method.lora", {}) or {}
    strategy = get_dotted(values, "hardware.strategy", "none") or "none"
    world = _positive_int(values, "hardware.world_size",
                          _positive_int(values, "hardware.gpus", 1)
                          * _positive_int(values, "hardware.nodes", 1))
    if strategy == "auto":
        strategy = "none" if world == 1 else "ddp"
    teacher = None
    if kind == "distill" and get_dotted(values, "method.distill.teacher"):
        teacher = resolve_shape(str(get_dotted(values, "method.distill.teacher")), None, notes,
                                key="method.distill.teacher")
    reward = None
    if kind == "rlhf" and get_dotted(values, "method.rlhf.reward_model"):
        try:
            reward = resolve_shape(str(get_dotted(values, "method.rlhf.reward_model")), None, notes,
                                   key="method.rlhf.reward_model")
        except MemoryInputError:
            reward = shape  # a reward model trained from this base: same shapes
    prefix = get_dotted(values, "method.prefix", {}) or {}
    adapter = get_dotted(values, "method.adapter", {}) or {}
    rlhf = get_dotted(values, "method.rlhf", {}) or {}
    return Workload(
        shape=shape, kind=kind, tuning=tuning, base_dtype=base_dtype_of(values, tuning),
        precision=precision, optimizer=canonical_optimizer(
            get_dotted(values, "training.optimizer", "adamw_torch")),
        micro_batch=_positive_int(values, "training.micro_batch_size", 1),
        seq_len=_positive_int(values, "model.max_seq_length", 2048),
        packed=bool(get_dotted(values, "data.packing", False)),
        gradient_checkpointing=bool(get_dotted(values, "training.gradient_checkpointing", False)),
        gradient_accumulation=_positive_int(values, "training.gradient_accumulation", 1),
        attn=get_dotted(values, "model.attn_implementation", "sdpa") or "sdpa",
        lora_r=int(lora.get("r", 16)),
        lora_targets=target_modules(lora.get("target_modules", "attention")),
        lora_dropout=float(lora.get("dropout", 0.05)),
        modules_to_save=tuple(lora.get("modules_to_save") or ()),
        double_quant=bool(get_dotted(values, "method.quantization.double_quant", True)),
        prefix_tokens=int(prefix.get("num_virtual_tokens", 20)) if kind == "prefix" else 0,
        prefix_projection=bool(prefix.get("projection", False)),
        adapter_type=adapter.get("type", "llama-adapter"),
        adapter_len=int(adapter.get("adapter_len", 10)),
        adapter_layers=int(adapter.get("adapter_layers", 2)),
        strategy=strategy if strategy in STRATEGIES else "none", world_size=world,
        nodes=_positive_int(values, "hardware.nodes", 1),
        offload=get_dotted(values, "hardware.offload", "none") or "none",
        fsdp_sharding=get_dotted(values, "hardware.fsdp.sharding", "full_shard") or "full_shard",
        accelerator=accelerator, teacher=teacher, reward_model=reward,
        rlhf_generations=int(rlhf.get("num_generations", 4)),
        rlhf_completion=int(rlhf.get("max_completion_length", 64)),
        rlhf_beta=float(rlhf.get("beta", 0.04)),
        sequence_classification=kind == "reward",
        **option_fields(values, kind, pure),
        notes=tuple(notes),
    )


# Kinds whose TRL trainer computes the loss through its fused LM head (no full
# logits); the same list as ftc.compiler.resolve.FUSED_HEAD_KINDS.
FUSED_HEAD_KINDS = ("full", "lora", "qlora", "prefix", "adapter", "dpo", "rlhf")


def option_fields(values: dict, kind: str, pure_bf16: bool) -> dict:
    """Workload fields of the training options (issue 13): memory savers and pure bf16."""
    tr = get_dotted(values, "training", {}) or {}
    liger = bool(tr.get("liger_kernel", False))
    fields: dict = {
        "compiled": bool(tr.get("torch_compile", False)),
        "activation_offload": bool(tr.get("activation_offloading", False)),
        "liger": liger,
        "fused_loss": kind in FUSED_HEAD_KINDS or liger,
    }
    if pure_bf16:
        fields["adapter_bytes"] = 2  # adapters cast back to bf16 (ftc/runtime/methods/sft.py)
    return fields


def canonical_optimizer(name: str) -> str:
    """An optimizer alias (adamw_bnb_8bit...) as the name the compiler normalises it to."""
    from ftc.tables import hyperparameters

    return hyperparameters()["optimizer_aliases"].get(name, name)
