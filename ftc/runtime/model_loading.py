"""Model, tokenizer and adapter settings from the lock, through from_pretrained.

A local directory and a hub id take the same path (AutoModelForCausalLM /
AutoTokenizer.from_pretrained); a missing local path is reported at the lock's
`model.base` line before anything heavy happens. QLoRA loads the base in 4-bit
(bitsandbytes nf4/fp4, double quantization, compute dtype from the lock) and
prepares it for k-bit training; LoRA settings map one to one onto LoraConfig.
"""

from __future__ import annotations

from pathlib import Path

from ftc.compiler import is_hub_id  # the compiler's own rule for "hub id, not a path"
from ftc.runtime.run_lock import RunFailure, RunLock

DTYPES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32", "pure_bf16": "bfloat16"}


def model_ref(lock: RunLock, key: str = "model.base") -> str:
    """A local directory (absolute) or a hub id; a missing local path is an error."""
    value = lock.get(key)
    local = lock.local(value)
    if local.exists() or not is_hub_id(value):
        if not (local / "config.json").is_file():
            what = "does not exist" if not local.exists() else "holds no config.json"
            raise lock.fail(key, "FTC504", f"model path {value!r} {what} (resolved to {local})",
                            "make it with `ftc init-tiny-model DIR`, or fix the path in the "
                            "recipe (relative to the recipe file) and compile again")
        return str(local)
    return value


def load_tokenizer(lock: RunLock):
    from transformers import AutoTokenizer

    ref = model_ref(lock, "model.tokenizer" if lock.get("model.tokenizer") else "model.base")
    try:
        tokenizer = AutoTokenizer.from_pretrained(
            ref, revision=lock.get("model.revision"),
            trust_remote_code=bool(lock.get("model.trust_remote_code", False)))
    except (OSError, ValueError) as exc:
        raise _cannot_load(lock, "model.base", ref, exc) from None
    from ftc.runtime.special_tokens import apply_to_tokenizer

    for note in apply_to_tokenizer(lock, tokenizer):
        if note not in _NOTED:
            _NOTED.add(note)
            print(f"ftc: {note}", flush=True)
    return tokenizer


_NOTED: set[str] = set()  # each note once per process (the tokenizer loads more than once)


def weights_dtype(lock: RunLock):
    """Dtype the base weights load in: model.dtype, or for full training fp32 master weights.

    Mixed precision (bf16/fp16) keeps fp32 master weights that autocast computes
    on in 16 bit; pure_bf16 trains the bf16 weights themselves (no master copy).
    """
    import torch

    kind = lock.get("method.kind")
    precision = lock.get("training.precision", "fp32")
    dtype = lock.get("model.dtype", "auto")
    if dtype == "auto":
        dtype = precision
    if kind == "full" and dtype in ("bf16", "fp16") and precision in ("bf16", "fp16"):
        dtype = "fp32"  # mixed precision: autocast computes in 16 bit, the optimizer needs fp32
    return getattr(torch, DTYPES[dtype])


def quantization_config(lock: RunLock):
    """BitsAndBytesConfig for qlora (None otherwise)."""
    if lock.get("method.kind") != "qlora":
        return None
    import torch
    from transformers import BitsAndBytesConfig

    q = lock.get("method.quantization") or {}
    compute = getattr(torch, DTYPES[q.get("compute_dtype", "bf16")])
    if q.get("bits", 4) == 8:
        return BitsAndBytesConfig(load_in_8bit=True)
    sharded = lock.get("hardware.strategy") in ("zero3", "fsdp")
    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type=q.get("quant_type", "nf4"),
        bnb_4bit_use_double_quant=bool(q.get("double_quant", True)),
        bnb_4bit_compute_dtype=compute,
        # ZeRO-3 and FSDP shard flat tensors of one dtype: 4-bit weights stored as the
        # compute dtype shard like the rest (transformers' QLoRA + FSDP/ZeRO-3 recipe)
        **({"bnb_4bit_quant_storage": compute} if sharded else {}),
    )


def load_model(lock: RunLock, device_index: int | None = None):
    """The base model, quantized and prepared for k-bit training when qlora."""
    from transformers import AutoModelForCausalLM

    ref = model_ref(lock)
    quant = quantization_config(lock)
    kwargs = {
        "revision": lock.get("model.revision"),
        "trust_remote_code": bool(lock.get("model.trust_remote_code", False)),
        "attn_implementation": lock.get("model.attn_implementation", "sdpa"),
        "dtype": quant.bnb_4bit_compute_dtype if quant and quant.load_in_4bit
        else weights_dtype(lock),
    }
    if quant is not None:
        kwargs["quantization_config"] = quant
        if device_index is not None:  # one whole copy per process (DDP), never sharded
            kwargs["device_map"] = {"": device_index}
    try:
        model = AutoModelForCausalLM.from_pretrained(ref, **kwargs)
    except (OSError, ValueError) as exc:
        raise _cannot_load(lock, "model.base", ref, exc) from None
    from ftc.runtime.special_tokens import fit_model, requested

    if requested(lock):  # new tokens: the embeddings grow before any adapter wraps them
        fit_model(lock, model, load_tokenizer(lock))
    if quant is not None:
        from peft import prepare_model_for_kbit_training

        from ftc.runtime.training_args import checkpointing_kwargs

        keep_cpu_4bit_unpacked(model)
        model = prepare_model_for_kbit_training(
            model,
            use_gradient_checkpointing=bool(lock.get("training.gradient_checkpointing")),
            gradient_checkpointing_kwargs=checkpointing_kwargs(lock) or {},
        )
    return model


CPU_PACK_BLOCK = 32  # bitsandbytes' block_n for its AVX512-BF16 CPU weight packing


def keep_cpu_4bit_unpacked(model) -> None:
    """Keep 4-bit layers that bitsandbytes cannot repack on the plain CPU kernel.

    On CPUs with AVX512-BF16, bitsandbytes 0.50 repacks a 4-bit weight the first
    time it runs in eval mode, and that needs out_features % 32 == 0 and
    in_features % the quantization block size == 0 (else an assertion or a
    reshape error: a model with intermediate_size 344 died at its first
    evaluation). The unpacked kernel computes the same result.
    """
    for module in model.modules():
        if not getattr(module, "support_avx512bf16_for_cpu", False):
            continue
        state = getattr(module.weight, "quant_state", None)
        block = int(getattr(state, "blocksize", 64) or 64)
        if module.out_features % CPU_PACK_BLOCK or module.in_features % block:
            module.support_avx512bf16_for_cpu = False


def lora_config(lock: RunLock):
    """PEFT LoraConfig from method.lora (None for full fine-tuning)."""
    if lock.get("method.kind") not in ("lora", "qlora"):
        return None
    from peft import LoraConfig

    lora = lock.get("method.lora") or {}
    return LoraConfig(
        task_type="CAUSAL_LM",
        r=int(lora.get("r", 16)),
        lora_alpha=float(lora.get("alpha", 2 * int(lora.get("r", 16)))),
        lora_dropout=float(lora.get("dropout", 0.0)),
        target_modules=list(lora.get("target_modules") or ["q_proj", "v_proj"]),
        bias=lora.get("bias", "none"),
        use_rslora=bool(lora.get("use_rslora", False)),
        use_dora=bool(lora.get("use_dora", False)),
        modules_to_save=list(lora.get("modules_to_save") or []) or None,
    )


def check_target_modules(lock: RunLock, model) -> None:
    """Every LoRA target must name a module of this model (PEFT's own error is vaguer)."""
    config = lora_config(lock)
    if config is None:
        return
    names = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    missing = sorted(set(config.target_modules) - names)
    if missing:
        raise lock.fail("method.lora.target_modules", "FTC507",
                        f"no module named {', '.join(missing)} in this model",
                        f"linear layers here: {', '.join(sorted(_linear_names(model)))}")


def _linear_names(model) -> set[str]:
    import torch

    return {name.rsplit(".", 1)[-1] for name, mod in model.named_modules()
            if isinstance(mod, torch.nn.Linear) and name}


def _cannot_load(lock: RunLock, key: str, ref: str, exc: Exception) -> RunFailure:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    hint = ("no model hub is reachable from here: use a local directory"
            if not Path(ref).exists() else "check that the directory holds a complete model")
    return lock.fail(key, "FTC504", f"cannot load model {ref!r}: {first}", hint)
