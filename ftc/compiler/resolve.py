"""Fill in everything a recipe leaves out, recording where each value came from.

Defaults come from the hyperparameter tables (ftc/tables/hyperparameters.yaml)
and from named rules (alpha follows r, the batch split, precision auto, ...).
Each rule is a small function; each value set records its source:
`user`, `extends:<file>`, `--set`, `table:<name>` or `rule:<name>`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftc import SCHEMA_VERSION, __version__
from ftc.compiler.loader import Node, Pos
from ftc.dotted import get_dotted
from ftc.memory.gpus import bf16_support
from ftc.safe_files import FileProblem, open_regular, read_regular
from ftc.source_spec import entry_path, source_type, with_path
from ftc.tables import hyperparameters

PEFT_KINDS = ("lora", "qlora")
TUNED_KINDS = ("distill", "dpo", "reward", "rlhf")  # these take method.tuning
KIND_BLOCKS = {
    "prefix": "prefix", "adapter": "adapter", "distill": "distill",
    "dpo": "dpo", "reward": "reward", "rlhf": "rlhf",
}
PATH_KEYS = (
    "model.base", "model.tokenizer", "data.train", "data.validation", "data.test",
    "method.distill.teacher", "method.distill.generate.prompts", "method.distill.generate.output",
    "method.rlhf.reward_model", "hardware.deepspeed_config", "output_dir", "data.cache_dir",
)


@dataclass
class Resolved:
    """The resolved recipe: nested values, dotted-path provenance, user positions."""

    values: dict = field(default_factory=dict)
    provenance: dict[str, str] = field(default_factory=dict)
    positions: dict[str, Pos] = field(default_factory=dict)
    base_dirs: dict[str, Path] = field(default_factory=dict)
    recipe_pos: Pos = Pos("recipe.yaml", 1, 1)
    recipe_dir: Path | None = None  # table defaults that are paths are relative to it

    def get(self, path: str, default: Any = None) -> Any:
        return get_dotted(self.values, path, default)

    def has(self, path: str) -> bool:
        return self.get(path, _MISSING) is not _MISSING

    def set(self, path: str, value: Any, source: str) -> None:
        parts = path.split(".")
        node = self.values
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
        self.provenance[path] = source

    def default(self, path: str, value: Any, source: str) -> None:
        if not self.has(path):
            self.set(path, value, source)

    def drop(self, path: str) -> None:
        parts = path.split(".")
        node = self.values
        for part in parts[:-1]:
            node = node.get(part, {})
        node.pop(parts[-1], None)
        for key in [k for k in self.provenance if k == path or k.startswith(path + ".")]:
            del self.provenance[key]

    def where(self, path: str) -> Pos:
        """Position of a value, or of its nearest ancestor the recipe wrote."""
        parts = path.split(".")
        while parts:
            pos = self.positions.get(".".join(parts))
            if pos:
                return pos
            parts.pop()
        return self.recipe_pos

    def source(self, path: str) -> str:
        return self.provenance.get(path, "")

    def user_set(self, path: str) -> bool:
        """Whether the recipe (or extends/--set) gave this value, not a table or rule."""
        return self.has(path) and not self.source(path).startswith(("table:", "rule:"))


_MISSING = object()


def resolve(tree: Node, rules_for: Callable[[Resolved], list] | None = None) -> Resolved:
    """Resolve a schema-valid merged tree into a complete recipe.

    rules_for picks the rules from the user's values (a provider backend has its
    own, ftc.providers.resolve); by default the local rules below.
    """
    r = Resolved(recipe_pos=Pos(tree.pos.path, 1, 1), recipe_dir=tree.base_dir)
    _collect(tree, [], r)
    for rule in (rules_for or (lambda _: RULES))(r):
        rule(r, hyperparameters())
    r.values["ftc"] = {"version": __version__, "schema_version": SCHEMA_VERSION}
    r.provenance["ftc.version"] = r.provenance["ftc.schema_version"] = "ftc"
    return r


def _collect(node: Node, parts: list[str], r: Resolved) -> None:
    """Copy the user's values in, remembering source, position and base directory."""
    if node.kind == "map":
        if parts:
            r.positions[".".join(parts)] = node.key_pos or node.pos
        for key, child in node.value.items():
            _collect(child, parts + [key], r)
        return
    path = ".".join(parts)
    r.set(path, node.plain(), node.source)
    r.positions[path] = node.pos
    if node.base_dir is not None:
        r.base_dirs[path] = node.base_dir


# --------------------------------------------------------------------------- rules


def _t(table: dict, section: str, key: str) -> Any:
    entry = table[section][key]
    return entry["default"] if isinstance(entry, dict) and "default" in entry else entry


def rule_top(r: Resolved, t: dict) -> None:
    r.default("output_dir", t["output_dir"]["default"], "table:output")
    r.default("backend.kind", _t(t, "backend", "kind"), "table:backend")


def rule_model(r: Resolved, t: dict) -> None:
    for key in ("chat_template", "trust_remote_code", "attn_implementation", "max_seq_length"):
        r.default(f"model.{key}", _t(t, "model", key), "table:model")
    _chat_template(r)


TEMPLATE_FILE_BYTES = 1 << 20


def _chat_template(r: Resolved) -> None:
    """'model' is the old name of 'tokenizer'; a .jinja file's text goes into the lock."""
    from ftc.compiler.chat_template_check import is_template_file

    key = "model.chat_template"
    value = r.get(key)
    if value == "model":
        r.set(key, "tokenizer", f"{r.source(key)} (alias model)")
    elif isinstance(value, str) and is_template_file(value):
        base = r.base_dirs.get(key, r.recipe_dir or Path.cwd())
        path = base / Path(value.strip()).expanduser()
        try:
            text = read_regular(path, TEMPLATE_FILE_BYTES, value).decode("utf-8")
        except (FileProblem, OSError, UnicodeDecodeError):
            return  # FTC128 says why
        r.set(key, text, f"{r.source(key)} (file {value.strip()})")


def peft_kind(r: Resolved) -> str | None:
    """lora/qlora when adapters of that kind train, else None."""
    kind = r.get("method.kind")
    if kind in PEFT_KINDS:
        return kind
    if kind in TUNED_KINDS:
        tuning = r.get("method.tuning")
        return tuning if tuning in PEFT_KINDS else None
    return None


def rule_method(r: Resolved, t: dict) -> None:
    kind = r.get("method.kind")
    if kind in TUNED_KINDS:
        r.default("method.tuning", t["tuning"]["default"], "table:tuning")
    peft = peft_kind(r)
    if peft:
        _lora(r, t)
    if peft == "qlora":
        for key in ("bits", "quant_type", "double_quant", "compute_dtype"):
            r.default(f"method.quantization.{key}", _t(t, "qlora", key), "table:qlora")
    block = KIND_BLOCKS.get(kind)
    if block and block in t:
        for key in t[block]:
            if block == "adapter" and key.startswith("adapter_") and \
                    r.get("method.adapter.type") != "llama-adapter":
                continue  # adapter_len/adapter_layers belong to llama-adapter only
            r.default(f"method.{block}.{key}", _t(t, block, key), f"table:{block}")
    if kind == "distill" and r.has("method.distill.generate"):
        _generate_defaults(r, t)
    if kind == "reward":
        r.default("method.reward.center_rewards_coefficient", 0.0, "table:reward")


def _generate_defaults(r: Resolved, t: dict) -> None:
    """The teacher's synthetic-data step: sampling settings and where its output goes."""
    for key in t["distill_generate"]:
        r.default(f"method.distill.generate.{key}", _t(t, "distill_generate", key),
                  "table:distill_generate")
    if not r.has("method.distill.generate.output"):
        out = f"{r.get('output_dir', 'runs')}/{r.get('name')}/synthetic.jsonl"
        r.set("method.distill.generate.output", out, "rule:generate-output")
        if "output_dir" in r.base_dirs:
            r.base_dirs["method.distill.generate.output"] = r.base_dirs["output_dir"]


def _lora(r: Resolved, t: dict) -> None:
    r.default("method.lora.r", _t(t, "lora", "r"), "table:lora")
    if not r.has("method.lora.alpha"):
        r.set("method.lora.alpha", 2 * r.get("method.lora.r"), "rule:alpha-follows-r")
    for key in ("dropout", "target_modules", "bias", "use_rslora", "use_dora"):
        r.default(f"method.lora.{key}", _t(t, "lora", key), "table:lora")
    targets = r.get("method.lora.target_modules")
    if isinstance(targets, str):
        src = r.source("method.lora.target_modules")
        r.set("method.lora.target_modules", list(t["target_module_sets"][targets]),
              f"{src} ({targets})")


def lr_key(r: Resolved) -> str:
    kind = r.get("method.kind")
    if kind in ("dpo", "reward", "rlhf"):
        return f"{kind}-{'full' if r.get('method.tuning') == 'full' else 'lora'}"
    if kind == "distill":
        return r.get("method.tuning", "lora")
    return kind


def rule_training(r: Resolved, t: dict) -> None:
    key = lr_key(r)
    r.default("training.learning_rate", t["learning_rate"][key]["default"], "table:learning_rate")
    if peft_kind(r) == "qlora":
        r.default("training.gradient_checkpointing", _t(t, "qlora", "gradient_checkpointing"),
                  "table:qlora")
    for name in ("epochs", "batch_size", "scheduler", "weight_decay",
                 "max_grad_norm", "optimizer", "gradient_checkpointing", "seed", "logging_steps"):
        r.default(f"training.{name}", _t(t, "training", name), "table:training")
    for group in ("eval", "save", "early_stopping"):
        for name, value in t["training"][group].items():
            r.default(f"training.{group}.{name}", value, "table:training")
    _training_options(r, t)


# Optimizers whose update reads betas / epsilon (transformers' TrainingArguments
# passes adam_beta1/2 to the Adam and Lion families, adam_epsilon to Adam only).
USES_BETAS = ("adamw", "paged_adamw", "lion", "paged_lion")
USES_EPSILON = ("adamw", "paged_adamw")
# TRL's fused LM head (per-token log-probs in tiles) serves these kinds; the KD
# loss (distill) needs the full logits and a reward model has no LM head.
FUSED_HEAD_KINDS = ("full", "lora", "qlora", "prefix", "adapter", "dpo", "rlhf")
MIN_LR_SCHEDULERS = ("cosine_with_min_lr", "polynomial")


def optimizer_family(name: str) -> str:
    """adamw_8bit -> adamw, paged_lion_32bit -> paged_lion: what the update rule reads."""
    for family in ("paged_adamw", "paged_lion", "adamw", "lion"):
        if name.startswith(family):
            return family
    return name


def _training_options(r: Resolved, t: dict) -> None:
    """Optimizer aliases and settings, warmup, schedule floor, loss kernel (issue 13)."""
    name = r.get("training.optimizer")
    canonical = t["optimizer_aliases"].get(name)
    if canonical:
        r.set("training.optimizer", canonical, f"{r.source('training.optimizer')} (alias {name})")
    family = optimizer_family(r.get("training.optimizer"))
    if family in USES_BETAS:
        r.default("training.betas", _t(t, "training", "betas"), "table:training")
    if family in USES_EPSILON:
        r.default("training.epsilon", _t(t, "training", "epsilon"), "table:training")
    if not r.has("training.warmup_steps"):
        r.default("training.warmup_ratio", _t(t, "training", "warmup_ratio"), "table:training")
    if r.get("training.scheduler") == "cosine" and r.has("training.min_lr_ratio"):
        r.set("training.scheduler", "cosine_with_min_lr", "rule:min-lr-ratio")
    if r.get("training.scheduler") == "cosine_with_min_lr":
        r.default("training.min_lr_ratio", _t(t, "training", "min_lr_ratio"), "table:training")
    if r.get("method.kind") in FUSED_HEAD_KINDS:
        r.default("training.loss_kernel", _t(t, "training", "loss_kernel"), "table:training")


def rule_hardware(r: Resolved, t: dict) -> None:
    for key in ("accelerator", "gpus", "nodes", "offload", "fit", "launcher"):
        r.default(f"hardware.{key}", _t(t, "hardware", key), "table:hardware")
    world = r.get("hardware.gpus") * r.get("hardware.nodes")
    r.set("hardware.world_size", world, "rule:world-size")
    strategy = r.get("hardware.strategy", "auto")
    if strategy == "auto":
        r.set("hardware.strategy", _auto_strategy(r, world), "rule:strategy-auto")
    if r.get("hardware.strategy") == "fsdp":
        for key, value in t["hardware"]["fsdp"].items():
            r.default(f"hardware.fsdp.{key}", value, "table:hardware")


def _auto_strategy(r: Resolved, world: int) -> str:
    """One process: none. Adapters: DDP (the frozen base fits). Full weights: ZeRO-2/3."""
    if world == 1:
        return "none"
    trains_all = r.get("method.kind") == "full" or (
        r.get("method.kind") in TUNED_KINDS and r.get("method.tuning") == "full")
    if not trains_all:
        return "ddp"
    return "zero3" if r.get("hardware.nodes", 1) > 1 else "zero2"


def rule_precision(r: Resolved, t: dict) -> None:
    if r.get("training.precision", "auto") == "auto":
        value, why = auto_precision(r.get("hardware.accelerator"), r.get("hardware.gpu"))
        r.set("training.precision", value, f"rule:precision-auto ({why})")
    if r.get("model.dtype", "auto") == "auto":
        precision = r.get("training.precision")
        dtype = "bf16" if precision == "pure_bf16" else precision
        r.set("model.dtype", dtype, "rule:dtype-follows-precision")
    if r.get("training.precision") == "fp16" and \
            r.source("method.quantization.compute_dtype") == "table:qlora":
        # QLoRA computes in the training precision on GPUs without bf16
        r.set("method.quantization.compute_dtype", "fp16", "rule:compute-dtype-follows-precision")


def auto_precision(accelerator: str | None, gpu: str | None) -> tuple[str, str]:
    """(precision, why): fp32 on CPU; on GPUs bf16 where the card has it, else fp16.

    The GPU table (ftc/memory/gpus.yaml) says which cards compute in bf16; a GPU
    that is not named (or not in the table) is taken to be a current one (bf16),
    and the launch preflight refuses bf16 on a GPU that lacks it.
    """
    if accelerator == "cpu":
        return "fp32", "cpu"
    if not gpu:
        return "bf16", "no hardware.gpu named: bf16 assumed"
    known = bf16_support(gpu)
    if known is None:
        return "bf16", f"{gpu} not in the GPU table: bf16 assumed"
    name, bf16 = known
    return ("bf16", f"{name} has bf16") if bf16 else ("fp16", f"{name} has no bf16")


def rule_batch_split(r: Resolved, t: dict) -> None:
    """micro x accumulation x world = effective batch; fill whichever part is missing."""
    world = r.get("hardware.world_size")
    micro, accum = r.get("training.micro_batch_size"), r.get("training.gradient_accumulation")
    if micro and accum:
        if r.provenance.get("training.batch_size") == "table:training":
            r.set("training.batch_size", micro * accum * world, "rule:batch-from-parts")
        return
    batch, how = r.get("training.batch_size"), "rule:batch-split"
    if micro:
        r.set("training.gradient_accumulation", max(1, batch // (micro * world)), how)
    elif accum:
        r.set("training.micro_batch_size", max(1, batch // (accum * world)), how)
    else:
        per_device = max(1, batch // world)
        cap = t["training"]["max_micro_batch_size"]
        micro = max(d for d in range(1, min(cap, per_device) + 1) if per_device % d == 0)
        r.set("training.micro_batch_size", micro, "rule:batch-split")
        r.set("training.gradient_accumulation", per_device // micro, "rule:batch-split")


def rule_data(r: Resolved, t: dict) -> None:
    for key in ("train", "validation", "test"):
        value = r.get(f"data.{key}")
        if isinstance(value, str):
            r.set(f"data.{key}", [value], r.source(f"data.{key}"))
    r.default("data.format", _t(t, "data", "format"), "table:data")
    if r.get("data.format") == "auto":
        detected = detect_format(r.get("data.train"), r.base_dirs.get("data.train"))
        if detected:
            r.set("data.format", detected, "rule:format-detected")
    if not r.has("data.validation") and not r.has("data.test"):
        for key, value in t["data"]["split"].items():
            r.default(f"data.split.{key}", value, "table:data")
    for group in ("dedup", "balance"):
        for key, value in t["data"][group].items():
            r.default(f"data.{group}.{key}", value, "table:data")
    r.default("data.length_policy", _t(t, "data", "length_policy"), "table:data")
    r.default("data.packing", _t(t, "data", "packing"), "table:data")
    r.default("data.group_by_length", _t(t, "data", "group_by_length"), "table:data")


# The canonical format each source type converts to.
TYPE_FORMATS = {"messages": "messages", "sharegpt": "messages", "alpaca": "messages",
                "completion": "completion", "template": "completion",
                "preference": "preference"}
DETECT_LINES = 1000  # blank lines skipped before giving up
DETECT_LINE_BYTES = 1 << 20


def detect_format(files: list | None, base_dir: Path | None) -> str | None:
    """Format from the keys of the first record of the first JSONL file, if it is here.

    Reads at most a bounded first line of a regular file: detection must never
    hang on a FIFO or read /dev/zero without end.
    """
    if not files:
        return None
    if isinstance(files[0], dict):  # a source: its type says, else its file's first row
        kind = TYPE_FORMATS.get(source_type(files[0]))
        if kind:
            return kind
    first = entry_path(files[0]) or ""
    if base_dir is None or not first.endswith(".jsonl"):
        return None
    try:
        with open_regular(base_dir / first) as fh:
            for _ in range(DETECT_LINES):
                line = fh.readline(DETECT_LINE_BYTES)
                if not line:
                    return None
                if line.strip():
                    return format_of(json.loads(line))  # a cut-off line is invalid JSON
    except (FileProblem, OSError, ValueError, RecursionError):  # the data check says why
        return None
    return None


def format_of(record: Any) -> str | None:
    if not isinstance(record, dict):
        return None
    keys = set(record)
    if {"prompt", "chosen", "rejected"} <= keys or {"chosen", "rejected"} <= keys:
        return "preference"
    if "messages" in keys:
        return "messages"
    if {"prompt", "completion"} <= keys:
        return "completion"
    return None


def rule_evaluation(r: Resolved, t: dict) -> None:
    """The evaluation block: the task when the recipe decides it (data.task, preference data
    or a preference method; else `auto`, settled at run time from the data), the task's
    metrics and answer length, task metrics at the trainer's evaluation cadence, and the
    table's sizes and alert thresholds."""
    from ftc.evaluation.tasks import default_max_new_tokens, default_metrics

    table, kind = t["evaluation"], r.get("method.kind")
    r.default("evaluation.task", _t(t, "evaluation", "task"), "table:evaluation")
    if r.get("evaluation.task") == "auto":
        task, rule = _task_from_recipe(r)
        if task:
            r.set("evaluation.task", task, rule)
    task = r.get("evaluation.task")
    if task != "auto" or kind == "rlhf":
        r.default("evaluation.metrics", default_metrics(task, kind), "rule:metrics-for-task")
    if task != "auto":
        r.default("evaluation.max_new_tokens", default_max_new_tokens(task), "table:evaluation")
    for key in ("max_samples", "batch_size", "samples", "at_end", "baseline"):
        r.default(f"evaluation.{key}", _t(t, "evaluation", key), "table:evaluation")
    if r.get("training.eval.strategy") == "steps":
        r.default("evaluation.every", r.get("training.eval.every"), "rule:evaluation-every")
    for group, values in table["alerts"].items():
        for key, value in values.items():
            r.default(f"evaluation.alerts.{group}.{key}", value, "table:evaluation")


def _task_from_recipe(r: Resolved) -> tuple[str | None, str]:
    """(task, rule) when the method, data format or data.task decides it."""
    if r.get("method.kind") in ("dpo", "reward") or r.get("data.format") == "preference":
        return "preference", "rule:task-from-data"
    if r.get("method.kind") == "rlhf":
        return None, ""
    data_task = r.get("data.task")
    if data_task == "classification":
        return "classification", "rule:task-from-data"
    if data_task == "generation":
        chat = r.get("data.format") == "messages"
        return ("chat" if chat else "generation"), "rule:task-from-data"
    return None, ""


def rule_export_logging(r: Resolved, t: dict) -> None:
    for key in ("merge_adapters", "formats", "gguf_quantization", "model_card"):
        r.default(f"export.{key}", _t(t, "export", key), "table:export")
    r.default("logging.report_to", _t(t, "logging", "report_to"), "table:logging")
    _trackers(r)


def _trackers(r: Resolved) -> None:
    """wandb/mlflow: the project defaults to the recipe name; a file: store is made absolute."""
    trackers = set(r.get("logging.report_to") or [])
    if trackers & {"wandb", "mlflow"} and r.has("name"):
        r.default("logging.project", r.get("name"), "rule:project-from-name")
    uri = r.get("logging.mlflow.tracking_uri")
    if isinstance(uri, str) and uri.startswith("file:") and not uri.startswith("file:/"):
        base = r.base_dirs.get("logging.mlflow.tracking_uri", r.recipe_dir or Path.cwd())
        r.set("logging.mlflow.tracking_uri", "file:" + _abs(base, uri[len("file:"):]),
              r.source("logging.mlflow.tracking_uri"))


def rule_paths(r: Resolved, t: dict) -> None:
    """Local paths become absolute (relative to the file that named them); hub ids stay."""
    for path in PATH_KEYS:
        value = r.get(path)
        if value is None:
            continue
        base = r.base_dirs.get(path, r.recipe_dir or Path.cwd())
        if path in ("data.train", "data.validation", "data.test"):
            new = [with_path(v, data_ref(base, entry_path(v))) for v in value]
        elif path in ("model.base", "model.tokenizer", "method.distill.teacher",
                      "method.rlhf.reward_model"):
            new = local_or_hub(base, value)
        else:
            new = [_abs(base, v) for v in value] if isinstance(value, list) else _abs(base, value)
        if new != value:
            r.set(path, new, r.source(path))
    for item in r.get("method.adapter.adapters") or []:
        base = r.base_dirs.get("method.adapter.adapters", Path.cwd())
        for key in ("train", "validation"):
            if key in item:
                files = item[key] if isinstance(item[key], list) else [item[key]]
                item[key] = [_abs(base, f) for f in files]


def _abs(base: Path, value: str) -> str:
    return str((base / Path(value).expanduser()).resolve())


def is_hub_id(value: str) -> bool:
    return not value.startswith((".", "/", "~")) and value.count("/") <= 1


DATA_SUFFIXES = (".jsonl", ".json", ".csv", ".parquet", ".txt")


def data_ref(base: Path, value: str) -> str:
    """A data file: absolute path for anything file-like, else a hub dataset id."""
    candidate = base / Path(value).expanduser()
    if candidate.exists() or value.endswith(DATA_SUFFIXES) or not is_hub_id(value):
        return str(candidate.resolve())
    return value


def local_or_hub(base: Path, value: str) -> str:
    """A model reference: absolute path when it names a local directory, else a hub id."""
    candidate = base / Path(value).expanduser()
    if candidate.exists() or not is_hub_id(value):
        return str(candidate.resolve())
    return value


def rule_per_epoch(r: Resolved, t: dict) -> None:
    """evals_per_epoch / saves_per_epoch -> eval.every / save.every steps, when the local
    data's rows can be counted; otherwise the runtime resolves them from the prepared
    data (the lock keeps the per-epoch value and no step count)."""
    wanted = [(k, g) for k, g in (("evals_per_epoch", "eval"), ("saves_per_epoch", "save"))
              if r.get(f"training.{k}") and not r.user_set(f"training.{g}.every")]
    if not wanted:
        return
    from ftc.compiler.local_facts import count_rows

    rows = count_rows(r.get("data.train"), r.base_dirs.get("data.train", r.recipe_dir))
    if rows is not None and not r.get("data.validation") and not r.get("data.test"):
        rows = int(round(rows * float(r.get("data.split.train", 1.0))))
    batch = int(r.get("training.batch_size") or 1)
    for key, group in wanted:
        per_epoch = int(r.get(f"training.{key}"))
        r.set(f"training.{group}.strategy", "steps", f"rule:{key}")
        if rows is None:
            r.drop(f"training.{group}.every")  # the runtime counts the prepared rows
            r.set(f"training.{key}", per_epoch, f"{r.source(f'training.{key}')} (steps "
                  "resolved at run time: the training rows cannot be counted here)")
            continue
        steps = max(1, -(-rows // batch))
        r.set(f"training.{group}.every", max(1, steps // per_epoch),
              f"rule:{key} ({rows} training rows / batch {batch} = {steps} steps per epoch)")


def rule_tokens(r: Resolved, t: dict) -> None:
    """A local tokenizer without a pad token: its eos token pads (stated here)."""
    if r.get("model.special_tokens.pad"):
        return
    from ftc.compiler.local_facts import tokenizer_facts

    facts = tokenizer_facts(r.get("model.tokenizer") or r.get("model.base"))
    if facts and not facts.special.get("pad") and facts.special.get("eos"):
        r.set("model.special_tokens.pad", facts.special["eos"],
              "rule:pad-from-eos (the tokenizer has no pad token)")


RULES = [rule_top, rule_model, rule_method, rule_training, rule_hardware, rule_precision,
         rule_batch_split, rule_data, rule_per_epoch, rule_evaluation, rule_export_logging,
         rule_paths, rule_tokens]
