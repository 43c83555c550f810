"""Top-level axolotl keys, one small handler each (or a table row in tables.py).

A handler maps its key into the recipe, or records facts that several keys decide
together (adapter + load_in_4bit -> method.kind; bf16/fp16 -> precision); `finish`
writes those once every key was seen.
"""

from __future__ import annotations

from collections.abc import Callable

from ftc.compiler.loader import Node
from ftc.importers.axolotl import tables
from ftc.importers.mapping import Mapping

Handler = Callable[[Mapping, str, Node], None]
HANDLERS: dict[str, Handler] = {}


def handles(*keys: str):
    def register(fn: Handler) -> Handler:
        for key in keys:
            HANDLERS[key] = fn
        return fn
    return register


def direct(key: str, target: str, kind: type | tuple, note: str = "") -> None:
    """A key whose value means the same in ftc (type-checked, else unsupported)."""
    def handler(m: Mapping, k: str, node: Node) -> None:
        value = node.value
        if kind is float and isinstance(value, str):
            value = _number(value)  # YAML 1.1 (axolotl's loader) reads 2e-5 as a string
        elif kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if node.kind != "scalar" or not isinstance(value, kind) or \
                (isinstance(value, bool) and bool not in _kinds(kind)):
            m.unsupported(k, node, f"expected {_kind_name(kind)}")
            return
        m.put(target, value, k, node, note)
    HANDLERS[key] = handler


def _kinds(kind) -> tuple:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind) -> str:
    return " or ".join(k.__name__ for k in _kinds(kind))


def _number(text: str):
    try:
        return float(text)
    except ValueError:
        return text


for _key, _target, _kind in [
    ("base_model", "model.base", str), ("revision_of_model", "model.revision", str),
    ("tokenizer_config", "model.tokenizer", str), ("trust_remote_code",
                                                    "model.trust_remote_code", bool),
    ("sequence_len", "model.max_seq_length", int), ("sample_packing", "data.packing", bool),
    ("micro_batch_size", "training.micro_batch_size", int),
    ("num_epochs", "training.epochs", (int, float)), ("max_steps", "training.max_steps", int),
    ("warmup_steps", "training.warmup_steps", int),
    ("warmup_ratio", "training.warmup_ratio", (int, float)),
    ("weight_decay", "training.weight_decay", (int, float)),
    ("max_grad_norm", "training.max_grad_norm", (int, float)),
    ("seed", "training.seed", int), ("tf32", "training.tf32", bool),
    ("logging_steps", "training.logging_steps", int),
    ("save_total_limit", "training.save.keep_last", int),
    ("activation_offloading", "training.activation_offloading", bool),
    ("neftune_noise_alpha", "training.neftune_noise_alpha", (int, float)),
    ("noisy_embedding_alpha", "training.neftune_noise_alpha", (int, float)),
    ("lora_r", "method.lora.r", int), ("lora_alpha", "method.lora.alpha", (int, float)),
    ("lora_dropout", "method.lora.dropout", (int, float)),
    ("peft_use_rslora", "method.lora.use_rslora", bool),
    ("peft_use_dora", "method.lora.use_dora", bool),
    ("cosine_min_lr_ratio", "training.min_lr_ratio", (int, float)),
    ("center_rewards_coefficient", "method.reward.center_rewards_coefficient", (int, float)),
    ("adam_epsilon", "training.epsilon", (int, float)),
    ("output_dir", "output_dir", str),
]:
    direct(_key, _target, _kind)
direct("learning_rate", "training.learning_rate", float)  # may be a string: "2e-5"


@handles("gradient_accumulation_steps")
def _accumulation(m: Mapping, key: str, node: Node) -> None:
    if not isinstance(node.value, int) or isinstance(node.value, bool):
        m.unsupported(key, node, "expected an integer")
        return
    m.put("training.gradient_accumulation", node.value, key, node)


@handles("model_type")
def _model_type(m: Mapping, key: str, node: Node) -> None:
    name = str(node.value)
    if name.endswith("ForSequenceClassification"):
        m.facts["classification_model"] = (key, node)  # a reward model's (finish decides)
    elif name.endswith("ForCausalLM"):
        m.drop(key, node, "ftc loads causal LMs with AutoModelForCausalLM (the class the "
               "model's config names)")
    else:
        m.unsupported(key, node, f"{name}: ftc trains causal LMs (AutoModelForCausalLM)")


@handles("batch_size")
def _batch_size(m: Mapping, key: str, node: Node) -> None:
    m.facts["batch_size"] = (key, node)  # used when gradient_accumulation_steps is absent


@handles("optimizer")
def _optimizer(m: Mapping, key: str, node: Node) -> None:
    name = tables.OPTIMIZERS.get(str(node.value))
    if name is None:
        m.unsupported(key, node, f"optimizer {node.value!r} has no ftc equivalent (ftc: "
                      f"{', '.join(sorted(set(tables.OPTIMIZERS.values())))})")
        return
    m.put("training.optimizer", name, key, node)


@handles("lr_scheduler")
def _scheduler(m: Mapping, key: str, node: Node) -> None:
    name = tables.SCHEDULERS.get(str(node.value))
    if name is None:
        m.unsupported(key, node, f"scheduler {node.value!r} has no ftc equivalent")
        return
    m.put("training.scheduler", name, key, node)


@handles("adam_beta1", "adam_beta2")
def _betas(m: Mapping, key: str, node: Node) -> None:
    m.facts.setdefault("betas", {})[key] = node


@handles("adapter")
def _adapter(m: Mapping, key: str, node: Node) -> None:
    if node.value in ("lora", "qlora"):
        m.facts["adapter"] = (key, node)
    else:
        m.unsupported(key, node, f"adapter {node.value!r}: ftc's adapters are lora and qlora "
                      "(method.kind)")


@handles("load_in_4bit", "load_in_8bit")
def _kbit(m: Mapping, key: str, node: Node) -> None:
    if node.value is True:
        m.facts.setdefault("bits", []).append((4 if "4bit" in key else 8, key, node))
    else:
        m.drop(key, node, "false: ftc's default (no quantized loading)")


@handles("rl")
def _rl(m: Mapping, key: str, node: Node) -> None:
    m.facts["rl"] = (key, node)


@handles("rl_beta", "dpo_beta")
def _dpo_beta(m: Mapping, key: str, node: Node) -> None:
    prior = m.facts.get("dpo_beta")  # both spellings set: axolotl reads rl_beta
    why = "rl_beta and dpo_beta both set: rl_beta applies"
    if prior and key == "dpo_beta":
        m.drop(key, node, why)
        return
    if prior:
        m.drop(*prior, why)
    m.facts["dpo_beta"] = (key, node)


@handles("max_prompt_len", "dpo_label_smoothing")
def _dpo_option(m: Mapping, key: str, node: Node) -> None:
    m.facts.setdefault("dpo_options", []).append((key, node))


@handles("reward_model")
def _reward(m: Mapping, key: str, node: Node) -> None:
    if node.value is True:
        m.facts["reward"] = (key, node)
    else:
        m.drop(key, node, "false: not a reward model")


@handles("lora_target_modules", "lora_target_linear")
def _targets(m: Mapping, key: str, node: Node) -> None:
    m.facts.setdefault("targets", {})[key] = node


@handles("lora_modules_to_save")
def _modules_to_save(m: Mapping, key: str, node: Node) -> None:
    names = node.plain() if node.kind == "seq" else [node.value]
    if not all(isinstance(n, str) and n for n in names):
        m.unsupported(key, node, "expected a list of module names")
        return
    m.facts["modules_to_save"] = (key, node, names)


_BNB = {"bnb_4bit_use_double_quant": ("method.quantization.double_quant", (True, False)),
        "bnb_4bit_quant_type": ("method.quantization.quant_type", ("nf4", "fp4")),
        "bnb_4bit_compute_dtype": ("method.quantization.compute_dtype",
                                   ("bfloat16", "float16", "float32"))}
_DTYPES = {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32"}


@handles("bnb_config_kwargs")
def _bnb(m: Mapping, key: str, node: Node) -> None:
    """bitsandbytes' BitsAndBytesConfig arguments: ftc's method.quantization block."""
    if node.kind != "map":
        m.unsupported(key, node, "expected a mapping of BitsAndBytesConfig arguments")
        return
    for name, child in node.value.items():
        target, allowed = _BNB.get(name, (None, ()))
        if target is None or child.value not in allowed:
            m.unsupported(f"{key}.{name}", child, f"{name}={child.value!r} has no ftc "
                          "equivalent (method.quantization: double_quant, quant_type, "
                          "compute_dtype)")
            continue
        m.put(target, _DTYPES.get(child.value, child.value), f"{key}.{name}", child)


@handles("lora_model_dir")
def _lora_model_dir(m: Mapping, key: str, node: Node) -> None:
    m.unsupported(key, node, "training from an existing adapter: ftc starts a fresh one")


@handles("bf16", "fp16", "bfloat16", "float16", "torch_dtype")
def _precision(m: Mapping, key: str, node: Node) -> None:
    m.facts.setdefault("precision", {})[key] = node


@handles("gradient_checkpointing")
def _checkpointing(m: Mapping, key: str, node: Node) -> None:
    value = node.value
    if value is True:
        m.facts["gc"] = True
        m.put("training.gradient_checkpointing", True, key, node)
    elif value is False:
        m.put("training.gradient_checkpointing", False, key, node)
    elif value == "offload":
        m.facts["gc"] = True
        m.put("training.gradient_checkpointing", True, key, node)
        m.put("training.activation_offloading", True, key, node,
              "checkpoints offloaded to the CPU")
    else:
        m.unsupported(key, node, f"gradient_checkpointing {value!r} has no ftc equivalent",
                      changes=False)


@handles("gradient_checkpointing_kwargs")
def _checkpointing_kwargs(m: Mapping, key: str, node: Node) -> None:
    m.facts["gc_kwargs"] = (key, node)


@handles("torch_compile")
def _compile(m: Mapping, key: str, node: Node) -> None:
    if isinstance(node.value, bool):
        m.put("training.torch_compile", node.value, key, node)
    else:
        m.drop(key, node, f"{node.value!r}: ftc compiles only when asked (torch_compile: true)")


@handles("attn_implementation", "flash_attention", "sdp_attention", "eager_attention",
         "flex_attention", "xformers_attention")
def _attention(m: Mapping, key: str, node: Node) -> None:
    if key == "attn_implementation":
        name = tables.ATTENTION.get(str(node.value))
    elif node.value is True:
        name = {"flash_attention": "flash_attention_2", "sdp_attention": "sdpa",
                "eager_attention": "eager"}.get(key)
    else:
        m.drop(key, node, "false: ftc's default attention")
        return
    if name is None:
        m.unsupported(key, node, f"attention {node.value!r}: ftc has sdpa, eager and "
                      "flash_attention_2", changes=False)
        return
    m.put("model.attn_implementation", name, key, node)


@handles("liger_rms_norm", "liger_glu_activation", "liger_layer_norm", "liger_rope",
         "liger_fused_linear_cross_entropy", "liger_cross_entropy", "liger_rms_norm_gated")
def _liger(m: Mapping, key: str, node: Node) -> None:
    if node.value is True:
        m.facts.setdefault("liger", []).append((key, node))
    else:
        m.drop(key, node, "false: ftc's default (no Liger kernels)")


@handles("cut_cross_entropy")
def _cce(m: Mapping, key: str, node: Node) -> None:
    if node.value is True:
        m.facts.setdefault("cce", []).append((key, node))
    else:
        m.drop(key, node, "false: ftc's default loss")


@handles("plugins")
def _plugins(m: Mapping, key: str, node: Node) -> None:
    items = node.value if node.kind == "seq" else [node]
    for index, item in enumerate(items):
        name = str(item.value)
        sub = f"{key}[{index}]"
        if name.endswith("CutCrossEntropyPlugin"):
            m.facts.setdefault("cce", []).append((sub, item))
        elif name.endswith(tables.PLUGINS_NO_EFFECT):
            m.unsupported(sub, item, f"axolotl plugin {name!r}: speed, parallelism or "
                          "logging only", changes=False)
        elif name.endswith("LigerPlugin"):
            m.drop(sub, item, "the liger_* keys say which kernels (mapped there)")
        else:
            m.unsupported(sub, item, f"axolotl plugin {name!r} has no ftc equivalent")


@handles("chat_template", "chat_template_jinja")
def _chat_template(m: Mapping, key: str, node: Node) -> None:
    m.facts.setdefault("chat_template", {})[key] = node


@handles("default_system_message")
def _system(m: Mapping, key: str, node: Node) -> None:
    m.put("data.system_prompt", str(node.value), key, node)


@handles("special_tokens")
def _special_tokens(m: Mapping, key: str, node: Node) -> None:
    if node.kind != "map":
        m.unsupported(key, node, "expected a mapping of token kinds")
        return
    for name, child in node.value.items():
        sub = f"{key}.{name}"
        target = tables.SPECIAL_TOKENS.get(name)
        if child.value is None:
            m.drop(sub, child, "null")
        elif target is None or not isinstance(child.value, str):
            m.unsupported(sub, child, f"{name}: ftc sets pad, eos, bos and unk tokens")
        else:
            m.put(f"model.special_tokens.{target}", child.value, sub, child)


@handles("tokens", "eot_tokens")
def _tokens(m: Mapping, key: str, node: Node) -> None:
    target = "model.added_tokens" if key == "tokens" else "model.eot_tokens"
    values = node.plain() if node.kind == "seq" else [node.value]
    if not all(isinstance(v, str) and v for v in values):
        m.unsupported(key, node, "expected a list of token strings")
        return
    m.put(target, list(dict.fromkeys(values)), key, node)


@handles("wandb_project", "wandb_entity", "wandb_name", "wandb_mode", "mlflow_experiment_name",
         "mlflow_tracking_uri", "mlflow_run_name")
def _trackers(m: Mapping, key: str, node: Node) -> None:
    tracker = key.split("_")[0]
    target = {"wandb_project": "logging.project", "wandb_entity": "logging.wandb.entity",
              "wandb_name": "logging.run_name", "mlflow_experiment_name": "logging.project",
              "mlflow_tracking_uri": "logging.mlflow.tracking_uri",
              "mlflow_run_name": "logging.run_name"}.get(key)
    if key == "wandb_mode":
        if node.value not in ("online", "offline"):
            m.drop(key, node, f"{node.value!r}: wandb off")
            return
        target = "logging.wandb.mode"
    if key in ("wandb_project", "mlflow_experiment_name"):
        trackers = m.get("logging.report_to") or []
        m.put("logging.report_to", trackers + [tracker], key, node)
    m.put(target, str(node.value), key, node)


@handles("early_stopping_patience")
def _early_stopping(m: Mapping, key: str, node: Node) -> None:
    m.put("training.early_stopping.enabled", True, key, node)
    m.put("training.early_stopping.patience", node.value, key, node)


@handles("evals_per_epoch", "saves_per_epoch")
def _per_epoch(m: Mapping, key: str, node: Node) -> None:
    what = "eval" if key.startswith("eval") else "save"
    value = node.value
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        m.unsupported(key, node, "expected a count >= 0", changes=False)
    elif value == 0:
        m.put(f"training.{what}.strategy", "no", key, node, f"no {what}s")
    else:
        m.put(f"training.{key}", value, key, node)


@handles("eval_steps", "save_steps")
def _cadence_steps(m: Mapping, key: str, node: Node) -> None:
    what = "eval" if key == "eval_steps" else "save"
    value = node.value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        m.put(f"training.{what}.strategy", "steps", key, node)
        m.put(f"training.{what}.every", value, key, node)
    else:
        m.unsupported(key, node, f"{value!r}: a fraction of the total steps; ftc takes a step "
                      f"count (training.{what}.every) or {what}s_per_epoch", changes=False)


@handles("eval_strategy", "evaluation_strategy", "save_strategy")
def _cadence_strategy(m: Mapping, key: str, node: Node) -> None:
    what = "save" if key.startswith("save") else "eval"
    if node.value not in ("steps", "epoch", "no"):
        m.unsupported(key, node, f"{node.value!r}: ftc has steps, epoch and no", changes=False)
        return
    m.put(f"training.{what}.strategy", node.value, key, node)


@handles("val_set_size")
def _val_set_size(m: Mapping, key: str, node: Node) -> None:
    m.facts["val_set_size"] = (key, node)


@handles("deepspeed", "fsdp", "fsdp_config", "fsdp_version")
def _parallel(m: Mapping, key: str, node: Node) -> None:
    m.facts.setdefault("parallel", {})[key] = node


@handles("datasets", "test_datasets", "pretraining_dataset", "shuffle_merged_datasets",
         "dataset_exact_deduplication", "train_on_inputs")
def _data(m: Mapping, key: str, node: Node) -> None:
    m.facts.setdefault("data", {})[key] = node
