"""Cross-field checks beyond the schema: one registry, one small function per rule.

Each rule has a stable id (FTC1nn) so that a PR comment can name it and a
recipe can silence it (`lint: {ignore: [FTC102]}` or `ftc lint --ignore`).
Ranges come from the hyperparameter tables, not from constants here.
`ftc lint --list-rules` prints the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ftc.compiler.loader import display_path
from ftc.compiler.resolve import (
    FUSED_HEAD_KINDS,
    MIN_LR_SCHEDULERS,
    TUNED_KINDS,
    USES_BETAS,
    USES_EPSILON,
    Resolved,
    lr_key,
    optimizer_family,
    peft_kind,
)
from ftc.diagnostics import ERROR, WARNING, Diagnostic
from ftc.memory.gpus import bf16_support
from ftc.source_spec import entry_path
from ftc.tables import hyperparameters

# (path the problem is reported at, message, hint[, lines below the value's first line])
Finding = tuple


LOCAL = ("local",)
PROVIDERS = ("openai", "azure-openai")
ANY_BACKEND = LOCAL + PROVIDERS


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    title: str
    check: Callable[[Resolved, dict], Iterator[Finding]]
    backends: tuple[str, ...] = LOCAL  # backend.kind values the rule applies to


REGISTRY: dict[str, Rule] = {}


def rule(rule_id: str, severity: str, title: str, backends: tuple[str, ...] = LOCAL):
    def register(fn: Callable[[Resolved, dict], Iterator[Finding]]):
        assert rule_id not in REGISTRY, rule_id
        REGISTRY[rule_id] = Rule(rule_id, severity, title, fn, backends)
        return fn
    return register


def run_rules(r: Resolved, ignore: set[str] = frozenset()) -> list[Diagnostic]:
    """Every rule's findings as diagnostics, minus the ignored rule ids."""
    ignored = set(ignore) | set(r.get("lint.ignore") or [])
    table = hyperparameters()
    backend = r.get("backend.kind", "local")
    out = []
    for item in REGISTRY.values():
        if item.id in ignored or backend not in item.backends:
            continue
        for path, message, hint, *lines_down in item.check(r, table):
            pos = r.where(path)
            line = pos.line + (lines_down[0] if lines_down else 0)
            out.append(Diagnostic(pos.path, line, pos.col, item.severity, item.id,
                                  message, hint))
    return out


def _user_set(r: Resolved, path: str) -> bool:
    return r.user_set(path)


def backend_is_provider(r: Resolved) -> bool:
    return r.get("backend.kind", "local") in PROVIDERS


def _fmt(x: float) -> str:
    return f"{x:g}"


# --------------------------------------------------------------------------- rules


@rule("FTC101", WARNING, "learning rate outside the table's range for the method")
def lr_range(r: Resolved, t: dict) -> Iterator[Finding]:
    entry = t["learning_rate"].get(lr_key(r), {})
    lo_hi = entry.get("range")
    lr = r.get("training.learning_rate")
    if lo_hi and lr is not None and not lo_hi[0] <= lr <= lo_hi[1]:
        yield ("training.learning_rate",
               f"learning rate {_fmt(lr)} is outside {_fmt(lo_hi[0])}..{_fmt(lo_hi[1])}, "
               f"the usual range for {lr_key(r)}",
               f"the table default is {_fmt(entry['default'])}")


@rule("FTC102", WARNING, "more than 5 epochs tends to overfit", ANY_BACKEND)
def epochs_high(r: Resolved, t: dict) -> Iterator[Finding]:
    path = "backend.hyperparameters.epochs" if backend_is_provider(r) else "training.epochs"
    epochs, hi = r.get(path), t["training"]["epochs"]["range"][1]
    if isinstance(epochs, (int, float)) and epochs > hi and not r.has("training.max_steps"):
        yield (path, f"{_fmt(epochs)} epochs is above {hi}: the model is likely "
               "to memorise the training set", "use 2-5 epochs and watch validation loss")


@rule("FTC103", WARNING, "LoRA alpha below r weakens the update")
def alpha_below_r(r: Resolved, t: dict) -> Iterator[Finding]:
    alpha, rank = r.get("method.lora.alpha"), r.get("method.lora.r")
    if peft_kind(r) and alpha is not None and rank and alpha < rank:
        yield ("method.lora.alpha", f"alpha {_fmt(alpha)} is below r {rank}: the adapter's "
               "update is scaled down", f"alpha = 2 x r ({2 * rank}) is the usual choice")


@rule("FTC104", WARNING, "LoRA rank outside 8..64")
def rank_range(r: Resolved, t: dict) -> Iterator[Finding]:
    rank, (lo, hi) = r.get("method.lora.r"), t["lora"]["r"]["range"]
    if peft_kind(r) and rank is not None and not lo <= rank <= hi:
        yield ("method.lora.r", f"rank {rank} is outside {lo}..{hi}",
               "below 8 underfits most tasks; above 64 rarely helps and costs memory")


@rule("FTC105", WARNING, "warmup ratio outside 0.03..0.1")
def warmup_range(r: Resolved, t: dict) -> Iterator[Finding]:
    w, (lo, hi) = r.get("training.warmup_ratio"), t["training"]["warmup_ratio"]["range"]
    if w is not None and not lo <= w <= hi:
        yield ("training.warmup_ratio", f"warmup ratio {_fmt(w)} is outside {lo}..{hi}", None)


@rule("FTC106", WARNING, "no validation data and no split", ANY_BACKEND)
def no_validation(r: Resolved, t: dict) -> Iterator[Finding]:
    has_files = bool(r.get("data.validation"))
    split = r.get("data.split.validation")
    if not has_files and not split:
        yield ("data", "no validation data: overfitting will go unnoticed",
               "add data.validation or a data.split with a validation fraction")


@rule("FTC107", WARNING, "trust_remote_code runs code from the model repository")
def remote_code(r: Resolved, t: dict) -> Iterator[Finding]:
    if r.get("model.trust_remote_code"):
        yield ("model.trust_remote_code", "trust_remote_code runs Python from the model "
               "repository on every node", "pin model.revision to a reviewed commit")


@rule("FTC108", ERROR, "DeepSpeed and FSDP together")
def ds_and_fsdp(r: Resolved, t: dict) -> Iterator[Finding]:
    strategy = r.get("hardware.strategy")
    ds = strategy in ("zero1", "zero2", "zero3") or r.has("hardware.deepspeed_config")
    fsdp = strategy == "fsdp" or r.has("hardware.fsdp")
    if ds and fsdp:
        yield ("hardware", "DeepSpeed and FSDP are both configured; a job uses one of them",
               "keep hardware.strategy zero1/2/3 or fsdp, and remove the other's settings")


@rule("FTC109", WARNING, "QLoRA compute dtype should be bf16 or fp16")
def qlora_dtype(r: Resolved, t: dict) -> Iterator[Finding]:
    dtype = r.get("method.quantization.compute_dtype")
    if peft_kind(r) == "qlora" and dtype not in (None, "bf16", "fp16"):
        yield ("method.quantization.compute_dtype", f"compute dtype {dtype} makes QLoRA's "
               "matmuls slow and memory-hungry", "use bf16 (or fp16 on GPUs without bf16)")


@rule("FTC110", ERROR, "batch parts cannot reach the effective batch size")
def batch_reachable(r: Resolved, t: dict) -> Iterator[Finding]:
    micro = r.get("training.micro_batch_size")
    accum = r.get("training.gradient_accumulation")
    world = r.get("hardware.world_size")
    batch = r.get("training.batch_size")
    if None in (micro, accum, world, batch):
        return
    if micro * accum * world != batch:
        yield ("training.batch_size",
               f"batch_size {batch} != micro_batch_size {micro} x gradient_accumulation "
               f"{accum} x world size {world} (= {micro * accum * world})",
               _batch_fixes(batch, micro, accum, world))


def _batch_fixes(batch: int, micro: int, accum: int, world: int) -> str:
    """The changes that make the product right, the per-device parts first."""
    fixes = []
    if batch % (accum * world) == 0:
        new = batch // (accum * world)
        fixes.append(f"training.micro_batch_size: {new} ({new} x {accum} x {world} = {batch})")
    if batch % (micro * world) == 0:
        new = batch // (micro * world)
        fixes.append(f"training.gradient_accumulation: {new} ({micro} x {new} x {world} = "
                     f"{batch})")
    fixes.append(f"training.batch_size: {micro * accum * world}")
    return "set " + ", or ".join(fixes)


@rule("FTC111", ERROR, "fp16/bf16 training on CPU")
def half_on_cpu(r: Resolved, t: dict) -> Iterator[Finding]:
    if r.get("hardware.accelerator") == "cpu" and r.get("training.precision") == "fp16":
        yield ("training.precision", "fp16 mixed precision needs a GPU",
               "use precision fp32 (or bf16) with hardware.accelerator cpu")


@rule("FTC112", ERROR, "a method block that the kind does not use")
def stray_block(r: Resolved, t: dict) -> Iterator[Finding]:
    kind = r.get("method.kind")
    used = {"lora"} if peft_kind(r) else set()
    if peft_kind(r) == "qlora":
        used.add("quantization")
    if kind in ("prefix", "adapter", "distill", "dpo", "reward", "rlhf"):
        used.add(kind)
    for block in ("lora", "quantization", "prefix", "adapter", "distill", "dpo", "reward",
                  "rlhf"):
        if r.has(f"method.{block}") and block not in used and _user_set_any(r, f"method.{block}"):
            yield (f"method.{block}", f"method.{block} is set but method.kind is {kind}, "
                   "which does not use it", f"remove method.{block} or change method.kind")
    if r.has("method.tuning") and kind not in TUNED_KINDS:
        yield ("method.tuning", f"method.tuning applies to {', '.join(TUNED_KINDS)}, "
               f"not to {kind}", None)


def _user_set_any(r: Resolved, prefix: str) -> bool:
    return any(k.startswith(prefix + ".") and _user_set(r, k) for k in r.provenance)


@rule("FTC113", WARNING, "full fine-tuning with a learning rate meant for adapters")
def full_lr_high(r: Resolved, t: dict) -> Iterator[Finding]:
    lr = r.get("training.learning_rate")
    if r.get("method.kind") == "full" and lr is not None and lr >= 1e-4:
        yield ("training.learning_rate", f"learning rate {_fmt(lr)} is an adapter-sized rate; "
               "full fine-tuning at this rate tends to destroy what the model knew",
               "full fine-tuning usually uses 1e-5..5e-5 (table default 2e-5)")


@rule("FTC114", WARNING, "QLoRA with ZeRO-3 or FSDP needs matching quant storage")
def qlora_sharded(r: Resolved, t: dict) -> Iterator[Finding]:
    if peft_kind(r) == "qlora" and r.get("hardware.strategy") in ("zero3", "fsdp"):
        yield ("hardware.strategy", "4-bit weights cannot be sharded by "
               f"{r.get('hardware.strategy')} without bnb_4bit_quant_storage set to the "
               "compute dtype; ftc sets it, but expect slower steps", "ddp or zero2 is the "
               "tested path for QLoRA")


@rule("FTC115", ERROR, "packing applies to supervised fine-tuning only")
def packing_kind(r: Resolved, t: dict) -> Iterator[Finding]:
    kind = r.get("method.kind")
    if r.get("data.packing") and kind in ("dpo", "reward", "rlhf"):
        yield ("data.packing", f"packing is for supervised fine-tuning; {kind} trains on "
               "whole preference pairs or generations", "set data.packing to false")


@rule("FTC116", ERROR, "early stopping needs validation and aligned eval/save steps")
def early_stopping(r: Resolved, t: dict) -> Iterator[Finding]:
    if not r.get("training.early_stopping.enabled"):
        return
    if not r.get("data.validation") and not r.get("data.split.validation"):
        yield ("training.early_stopping", "early stopping watches a validation metric, but "
               "there is no validation data", "add data.validation or a validation split")
    ev, sv = r.get("training.eval.strategy"), r.get("training.save.strategy")
    if ev != sv:
        yield ("training.early_stopping", f"early stopping keeps the best checkpoint, which "
               f"needs eval and save on the same schedule (eval: {ev}, save: {sv})", None)
    elif ev == "steps" and r.get("training.save.every") and r.get("training.eval.every") \
            and r.get("training.save.every") % r.get("training.eval.every"):
        yield ("training.save.every", "save.every must be a multiple of eval.every for early "
               "stopping to keep the best checkpoint", None)


@rule("FTC117", ERROR, "a required method setting is missing")
def required_method_settings(r: Resolved, t: dict) -> Iterator[Finding]:
    kind = r.get("method.kind")
    if kind == "distill" and not r.get("method.distill.teacher"):
        yield ("method", "distillation needs a teacher: set method.distill.teacher", None)
    if kind == "rlhf" and not r.get("method.rlhf.reward_model"):
        yield ("method", "rlhf needs a reward model: set method.rlhf.reward_model",
               "train one with a method.kind reward recipe")


@rule("FTC118", ERROR, "the data format does not suit the method", ANY_BACKEND)
def format_for_method(r: Resolved, t: dict) -> Iterator[Finding]:
    kind, fmt = r.get("method.kind"), r.get("data.format")
    if fmt in (None, "auto"):
        return
    if kind in ("dpo", "reward") and fmt != "preference":
        yield ("data.format", f"{kind} trains on preference pairs (prompt/chosen/rejected), "
               f"but the data is {fmt}", "convert the data or choose a supervised method")
    if kind in ("full", "lora", "qlora", "prefix", "adapter", "distill") and fmt == "preference":
        yield ("data.format", f"{kind} is supervised fine-tuning, but the data is preference "
               "pairs", "use method.kind dpo or reward, or messages/completion data")


@rule("FTC119", ERROR, "split fractions must sum to 1", ANY_BACKEND)
def split_sum(r: Resolved, t: dict) -> Iterator[Finding]:
    split = r.get("data.split")
    if isinstance(split, dict):
        total = sum(split.get(k, 0) for k in ("train", "validation", "test"))
        if abs(total - 1.0) > 1e-6:
            yield ("data.split", f"split fractions sum to {_fmt(total)}, not 1", None)
        if not split.get("train"):
            yield ("data.split", "the split leaves no training data", None)


@rule("FTC120", WARNING, "a local file the recipe names does not exist")
def missing_files(r: Resolved, t: dict) -> Iterator[Finding]:
    for key in ("data.train", "data.validation", "data.test"):
        for f in filter(None, map(entry_path, r.get(key) or [])):
            if Path(f).is_absolute() and not Path(f).exists():
                yield (key, f"data file not found: {display_path(Path(f))}", "ftc run stops here; "
                       "compiling is allowed so that a bundle can be built away from the data")
    base = r.get("model.base")
    if base and Path(base).is_absolute() and not Path(base).exists():
        yield ("model.base", f"model directory not found: {display_path(Path(base))}", None)


@rule("FTC121", ERROR, "offload needs ZeRO-2/3 or FSDP")
def offload_strategy(r: Resolved, t: dict) -> Iterator[Finding]:
    offload, strategy = r.get("hardware.offload"), r.get("hardware.strategy")
    if offload and offload != "none" and strategy not in ("zero2", "zero3", "fsdp"):
        yield ("hardware.offload", f"offload {offload} needs strategy zero2, zero3 or fsdp "
               f"(got {strategy})", "set hardware.strategy to zero3 for parameter offload")
    if offload == "optimizer+params" and strategy == "zero2":
        yield ("hardware.offload", "ZeRO-2 does not partition parameters, so it cannot "
               "offload them", "use zero3, or offload only the optimizer")
    if offload == "optimizer" and strategy == "fsdp":
        yield ("hardware.offload", "FSDP offloads parameters, gradients and optimizer states "
               "together; it cannot offload the optimizer alone", "use optimizer+params, or "
               "zero2/zero3 to offload only the optimizer")


@rule("FTC122", WARNING, "max_steps overrides epochs")
def steps_and_epochs(r: Resolved, t: dict) -> Iterator[Finding]:
    if r.has("training.max_steps") and _user_set(r, "training.epochs"):
        yield ("training.max_steps", "both max_steps and epochs are set; max_steps wins", None)


@rule("FTC123", ERROR, "prefix tuning and adapters are not combined with quantization")
def prefix_quant(r: Resolved, t: dict) -> Iterator[Finding]:
    if r.get("method.kind") in ("prefix", "adapter") and r.has("method.quantization"):
        yield ("method.quantization", f"{r.get('method.kind')} with a quantized base is not a "
               "supported combination here", "use method.kind qlora for a 4-bit base")


@rule("FTC124", ERROR, "FSDP on CPU (accelerate runs FSDP only on GPUs)")
def cpu_strategy(r: Resolved, t: dict) -> Iterator[Finding]:
    # accelerate 1.15 turns a use_cpu FSDP launch into plain DDP without a word (its
    # AcceleratorState applies FSDP only to MULTI_GPU-like types); DeepSpeed ZeRO-3 runs on
    # CPU with its CPU accelerator. tests/runtime/test_sharded_strategies.py watches both.
    if r.get("hardware.accelerator") == "cpu" and r.get("hardware.strategy") == "fsdp":
        yield ("hardware.strategy", "accelerate runs FSDP only on GPUs: on CPU it would train "
               "plain DDP without sharding anything", "on CPU use zero3 (sharded parameters, "
               "DeepSpeed's CPU accelerator), zero2 or ddp")


PRE_AMPERE = ("T4", "V100", "P100")  # GPUs without bf16 or TF32 (compute capability < 8.0)


@rule("FTC125", WARNING, "bf16 for a GPU without bf16")
def bf16_old_gpu(r: Resolved, t: dict) -> Iterator[Finding]:
    known = bf16_support(r.get("hardware.gpu") or "")
    if known is None or known[1] or r.get("hardware.accelerator") == "cpu":
        return
    for key in ("training.precision", "method.quantization.compute_dtype"):
        if r.get(key) in ("bf16", "pure_bf16"):
            yield (key, f"{known[0]} has no bf16 support", "use fp16")


@rule("FTC126", ERROR, "method settings that cannot train")
def method_errors(r: Resolved, t: dict) -> Iterator[Finding]:
    from ftc.compiler.methods_lint import check

    yield from check(r)


@rule("FTC127", WARNING, "method settings ignored, or method files missing")
def method_warnings(r: Resolved, t: dict) -> Iterator[Finding]:
    from ftc.compiler.methods_lint import advise

    yield from advise(r)


@rule("FTC130", ERROR, "evaluation settings that cannot be measured")
def evaluation_errors(r: Resolved, t: dict) -> Iterator[Finding]:
    from ftc.compiler.evaluation_lint import check

    yield from check(r)


@rule("FTC131", WARNING, "evaluation settings that have no effect")
def evaluation_warnings(r: Resolved, t: dict) -> Iterator[Finding]:
    from ftc.compiler.evaluation_lint import advise

    yield from advise(r)


# ------------------------------------------------------------- training options (issue 13)


@rule("FTC150", ERROR, "warmup given both as steps and as a ratio")
def warmup_twice(r: Resolved, t: dict) -> Iterator[Finding]:
    if r.has("training.warmup_steps") and _user_set(r, "training.warmup_ratio"):
        yield ("training.warmup_steps", "warmup_steps and warmup_ratio are both set; a schedule "
               "has one warmup", "keep one of them")


@rule("FTC151", ERROR, "min_lr_ratio with a schedule that has no floor")
def min_lr_unused(r: Resolved, t: dict) -> Iterator[Finding]:
    scheduler = r.get("training.scheduler")
    if _user_set(r, "training.min_lr_ratio") and scheduler not in MIN_LR_SCHEDULERS:
        yield ("training.min_lr_ratio", f"min_lr_ratio does nothing with scheduler {scheduler}",
               "use scheduler cosine_with_min_lr (or cosine, which then becomes it) or polynomial")
    if scheduler == "polynomial" and r.get("training.min_lr_ratio") == 1:
        yield ("training.min_lr_ratio", "a polynomial schedule must decay: min_lr_ratio 1 keeps "
               "the rate at its peak", "use scheduler constant_with_warmup")


@rule("FTC152", WARNING, "optimizer settings the optimizer does not read")
def optimizer_settings_unused(r: Resolved, t: dict) -> Iterator[Finding]:
    name = r.get("training.optimizer", "")
    family = optimizer_family(name)
    for key, users in (("betas", USES_BETAS), ("epsilon", USES_EPSILON)):
        if _user_set(r, f"training.{key}") and family not in users:
            yield (f"training.{key}", f"{name} does not read training.{key}; it is ignored",
                   f"remove training.{key}, or choose an optimizer that uses it")


@rule("FTC153", ERROR, "an option that needs a GPU in a CPU bundle")
def gpu_only_on_cpu(r: Resolved, t: dict) -> Iterator[Finding]:
    if r.get("hardware.accelerator") != "cpu":
        return
    for path, need in t["gpu_only_options"].items():
        if r.get(path) == need["value"]:
            yield (path, f"{path}: {need['why']}, and hardware.accelerator is cpu",
                   f"remove {path}, or train on a GPU")


@rule("FTC154", ERROR, "pure bf16 with DeepSpeed ZeRO")
def pure_bf16_zero(r: Resolved, t: dict) -> Iterator[Finding]:
    if r.get("training.precision") != "pure_bf16":
        return
    if r.get("hardware.strategy") in ("zero1", "zero2", "zero3"):
        yield ("training.precision", "DeepSpeed ZeRO keeps an fp32 master copy inside its "
               "optimizer, so pure_bf16 would not be pure", "use precision bf16 with ZeRO, or "
               "strategy ddp/fsdp/none for pure bf16")
    if r.get("model.dtype") not in (None, "bf16"):
        yield ("model.dtype", f"pure_bf16 trains bf16 weights, but model.dtype is "
               f"{r.get('model.dtype')}", "remove model.dtype (it follows the precision)")


@rule("FTC155", ERROR, "TF32 on a GPU older than Ampere")
def tf32_old_gpu(r: Resolved, t: dict) -> Iterator[Finding]:
    gpu = (r.get("hardware.gpu") or "").upper()
    if r.get("training.tf32") and gpu.startswith(PRE_AMPERE):
        yield ("training.tf32", f"{r.get('hardware.gpu')} has no TF32 (it came with Ampere)",
               "remove training.tf32")


@rule("FTC156", ERROR, "two fused losses at once")
def two_loss_kernels(r: Resolved, t: dict) -> Iterator[Finding]:
    if r.get("training.liger_kernel") and r.get("training.loss_kernel") == "cut_cross_entropy":
        yield ("training.loss_kernel", "Liger's fused linear cross-entropy and Cut Cross Entropy "
               "both replace the loss; only one can", "keep liger_kernel or cut_cross_entropy")


@rule("FTC157", WARNING, "tracker settings for a tracker that is not in report_to")
def tracker_unused(r: Resolved, t: dict) -> Iterator[Finding]:
    trackers = set(r.get("logging.report_to") or [])
    for tracker in ("wandb", "mlflow"):
        if r.has(f"logging.{tracker}") and tracker not in trackers:
            yield (f"logging.{tracker}", f"logging.{tracker} is set, but {tracker} is not in "
                   "logging.report_to, so nothing reads it", f"add {tracker} to report_to")
    if _user_set(r, "logging.project") and not trackers & {"wandb", "mlflow"}:
        yield ("logging.project", "logging.project names a wandb project or mlflow experiment, "
               "but report_to has neither", None)
    if "none" in trackers and len(trackers) > 1:
        yield ("logging.report_to", "report_to lists none together with trackers", None)


@rule("FTC158", ERROR, "an option the method's trainer does not have")
def option_for_method(r: Resolved, t: dict) -> Iterator[Finding]:
    kind = r.get("method.kind")
    if _user_set(r, "training.loss_kernel") and kind not in FUSED_HEAD_KINDS:
        yield ("training.loss_kernel", f"{kind} computes its loss from the full logits "
               "(distillation) or a score head (reward): the loss kernel does not apply", None)
    if r.get("training.activation_offloading") and kind not in ("full", "lora", "qlora"):
        yield ("training.activation_offloading", "activation offloading is a TRL SFT option; "
               f"{kind} trains with another trainer", None)


@rule("FTC140", ERROR, "the provider cannot run this recipe", PROVIDERS)
def provider_errors(r: Resolved, t: dict) -> Iterator[Finding]:
    from ftc.providers.lint import check

    yield from check(r)


@rule("FTC141", WARNING, "a setting that means nothing for the provider (ignored)", PROVIDERS)
def provider_warnings(r: Resolved, t: dict) -> Iterator[Finding]:
    from ftc.providers.lint import advise

    yield from advise(r)


# ------------------------------------------------------------- export (issue 15)


@rule("FTC160", ERROR, "export asks for a merged model the method cannot make")
def export_merge_blocked(r: Resolved, t: dict) -> Iterator[Finding]:
    from ftc.compiler.export_lint import merge_blockers

    yield from merge_blockers(r)


@rule("FTC161", WARNING, "export merges a run that has no adapter")
def export_needless_merge(r: Resolved, t: dict) -> Iterator[Finding]:
    from ftc.compiler.export_lint import needless_merge

    yield from needless_merge(r)


@rule("FTC162", ERROR, "GGUF export of an architecture ftc cannot write")
def export_gguf_architecture(r: Resolved, t: dict) -> Iterator[Finding]:
    from ftc.compiler.export_lint import gguf_architecture

    yield from gguf_architecture(r)


@rule("FTC128", ERROR, "the chat template does not compile")
def chat_template_compiles(r: Resolved, t: dict) -> Iterator[Finding]:
    from ftc.compiler.chat_template_check import NAMED_TEMPLATES, template_error

    source = r.get("model.chat_template")
    if not isinstance(source, str) or source in NAMED_TEMPLATES:
        return
    found = template_error(source)
    if found:
        line, message = found
        # a multi-line template is a `|` block: its line N is N - 1 lines below the first
        down = line - 1 if "\n" in source.rstrip("\n") else 0
        yield ("model.chat_template", f"model.chat_template does not compile: template line "
               f"{line}: {message}", "the template is Jinja, as in a tokenizer's "
               "chat_template; chatml, llama3, mistral, ... name shipped templates", down)


# ------------------------------------------------- data sources, templates, tokens (issue 12)


@rule("FTC180", ERROR, "the chat template file cannot be read")
def chat_template_file(r: Resolved, t: dict) -> Iterator[Finding]:
    from ftc.compiler.data_lint import template_unreadable

    yield from template_unreadable(r)


@rule("FTC181", ERROR, "system messages with a template that has no system role")
def chat_template_system_role(r: Resolved, t: dict) -> Iterator[Finding]:
    from ftc.compiler.data_lint import system_role

    yield from system_role(r)


@rule("FTC182", WARNING, "assistant-only loss with a template without generation markers")
def chat_template_generation(r: Resolved, t: dict) -> Iterator[Finding]:
    from ftc.compiler.data_lint import generation_marker

    yield from generation_marker(r)


@rule("FTC183", ERROR, "new tokens with LoRA/QLoRA need a trained embedding and head")
def new_tokens_trainable(r: Resolved, t: dict) -> Iterator[Finding]:
    from ftc.compiler.data_lint import new_tokens

    yield from new_tokens(r, peft_kind(r), local=True)


@rule("FTC184", ERROR, "a data source's split slice or template fields cannot work")
def data_source_options(r: Resolved, t: dict) -> Iterator[Finding]:
    from ftc.compiler.data_lint import source_options

    yield from source_options(r)


@rule("FTC185", WARNING, "evals/saves per epoch beside an explicit cadence")
def per_epoch_cadence(r: Resolved, t: dict) -> Iterator[Finding]:
    from ftc.compiler.data_lint import per_epoch

    yield from per_epoch(r)


@rule("FTC186", ERROR, "data source objects on a provider backend", PROVIDERS)
def provider_sources(r: Resolved, t: dict) -> Iterator[Finding]:
    for key in ("data.train", "data.validation", "data.test"):
        if any(isinstance(e, dict) for e in r.get(key) or []):
            yield (key, f"{key}: source objects (type, fields, split, weight ...) are read by "
                   "the local backend; a provider uploads JSONL files as they are",
                   "convert the data with `ftc data prepare` and name the prepared files")


@rule("FTC188", WARNING, "tokens with LoRA/QLoRA that ftc could not check (tokenizer not local)")
def unchecked_tokens_trainable(r: Resolved, t: dict) -> Iterator[Finding]:
    from ftc.compiler.data_lint import new_tokens

    yield from new_tokens(r, peft_kind(r), local=False)


@rule("FTC187", WARNING, "a hub dataset that is not in the local cache")
def hub_dataset_cached(r: Resolved, t: dict) -> Iterator[Finding]:
    from ftc.compiler.data_lint import hub_datasets_not_cached

    yield from hub_datasets_not_cached(r)
