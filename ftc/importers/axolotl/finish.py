"""Keys that mean something only together: adapter + k-bit loading + rl -> method; bf16/fp16
-> precision; LoRA targets; betas; chat template; fused kernels; validation split."""

from __future__ import annotations

import dataclasses
import re

from ftc.importers.axolotl import tables
from ftc.importers.mapping import DROPPED, MAPPED, Mapping

_DPO_OPTIONS = {"rl_beta": "method.dpo.beta", "dpo_beta": "method.dpo.beta",
                "max_prompt_len": "method.dpo.max_prompt_length",
                "dpo_label_smoothing": "method.dpo.label_smoothing"}
_LINEAR_SUFFIXES = ("_proj", "fc1", "fc2", "dense", "query_key_value", "dense_h_to_4h",
                    "dense_4h_to_h", "c_attn", "c_proj", "c_fc", "w1", "w2", "w3")
_MODULE_NAME = re.compile(r"^[A-Za-z0-9_.]+$")


def finish(m: Mapping) -> None:
    for step in (_method, _lora_settings, _targets, _precision, _betas, _batch,
                 _checkpointing_kwargs, _chat_template, _kernels):
        step(m)


def _method(m: Mapping) -> None:
    f = m.facts
    adapter = f.get("adapter")
    tuning = adapter[1].value if adapter else "full"
    for bits, key, node in f.get("bits", []):
        if tuning == "full":
            m.unsupported(key, node, "k-bit loading without an adapter: ftc quantizes the "
                          "base only under QLoRA")
            continue
        tuning = "qlora"
        m.mapped(key, node, "method.quantization.bits" if bits == 8 else "method.kind",
                 f"{bits}-bit base + {adapter[1].value} = QLoRA")
        if bits == 8:
            m.recipe.setdefault("method", {}).setdefault("quantization", {})["bits"] = 8
    kind = tuning
    rl, reward = f.get("rl"), f.get("reward")
    if rl and rl[1].value in ("dpo", "ipo"):
        kind = "dpo"
        m.mapped(rl[0], rl[1], "method.kind")
        if rl[1].value == "ipo":
            m.put("method.dpo.loss", "ipo", rl[0], rl[1])
    elif rl and rl[1].value not in (None, False):
        m.unsupported(rl[0], rl[1], f"rl {rl[1].value!r}: ftc's preference method is DPO "
                      "(method.kind dpo; ipo as its loss)")
    if reward:
        kind = "reward"
        m.mapped(reward[0], reward[1], "method.kind")
    head = f.get("classification_model")
    if head and reward:
        m.drop(*head, "ftc's reward method loads the model with a classification head")
    elif head:
        m.unsupported(*head, f"{head[1].value}: ftc trains sequence classification only as "
                      "a reward model (reward_model: true)")
    m.recipe.setdefault("method", {})["kind"] = kind
    if kind != tuning:
        m.recipe["method"]["tuning"] = tuning
    if adapter:
        m.mapped(adapter[0], adapter[1], "method.tuning" if kind != tuning else "method.kind")
    options = f.get("dpo_options", []) + ([f["dpo_beta"]] if f.get("dpo_beta") else [])
    for key, node in options:
        if kind == "dpo":
            m.put(_DPO_OPTIONS[key], node.value, key, node)
        else:
            m.drop(key, node, "not a DPO run")


def _lora_settings(m: Mapping) -> None:
    """LoRA keys of a run without an adapter do nothing in axolotl either."""
    method = m.recipe.get("method", {})
    uses_lora = "lora" in (method.get("kind"), method.get("tuning")) or \
        "qlora" in (method.get("kind"), method.get("tuning"))
    if uses_lora:
        saved = m.facts.get("modules_to_save")
        if saved:
            m.put("method.lora.modules_to_save", list(dict.fromkeys(saved[2])), saved[0],
                  saved[1])
        return
    method.pop("lora", None)
    m.entries[:] = [dataclasses.replace(e, status=DROPPED, target="",
                                        reason="no adapter: LoRA settings unused")
                    if e.target.startswith("method.lora.") else e for e in m.entries]
    for key, node in m.facts.get("targets", {}).items():
        m.drop(key, node, "no adapter: LoRA settings unused")
    m.facts.pop("targets", None)
    if m.facts.get("modules_to_save"):
        key, node, _ = m.facts["modules_to_save"]
        m.drop(key, node, "no adapter: LoRA settings unused")


def _targets(m: Mapping) -> None:
    found = m.facts.get("targets", {})
    linear, modules = found.get("lora_target_linear"), found.get("lora_target_modules")
    if linear is not None and linear.value is True:
        m.put("method.lora.target_modules", "all-linear", "lora_target_linear", linear)
        names = (modules.plain() if modules.kind == "seq" else [modules.value]) \
            if modules is not None else []
        extra = [n for n in names if not str(n).endswith(_LINEAR_SUFFIXES)]
        if modules is not None and not extra:
            m.drop("lora_target_modules", modules, "within lora_target_linear (all linear)")
        elif modules is not None:
            m.unsupported("lora_target_modules", modules, f"{extra} beside all-linear: ftc "
                          "takes a named set or a list, not both")
        return
    if linear is not None:
        m.drop("lora_target_linear", linear, "false: the listed modules are the targets")
    if modules is None:
        return
    names = modules.plain() if modules.kind == "seq" else [modules.value]
    if names and all(isinstance(n, str) and _MODULE_NAME.match(n) for n in names):
        m.put("method.lora.target_modules", list(dict.fromkeys(names)),
              "lora_target_modules", modules)
    else:
        m.unsupported("lora_target_modules", modules, "a regular expression over module "
                      "paths: ftc takes module names (or attention, attention+mlp, all-linear)")


def _precision(m: Mapping) -> None:
    found = m.facts.get("precision", {})
    if not found:
        return
    value = lambda k: found[k].value if k in found else None  # noqa: E731
    choice = None
    if value("bfloat16") is True:
        choice = ("bfloat16", "pure_bf16")
    elif value("bf16") in (True, "full"):
        choice = ("bf16", "bf16")
    elif value("fp16") is True:
        choice = ("fp16", "fp16")
    elif value("bf16") is False and value("fp16") in (None, False) and \
            value("float16") is not True:
        choice = ("bf16", "fp32")
    if choice:
        m.put("training.precision", choice[1], choice[0], found[choice[0]])
    for key, node in found.items():
        if choice and key == choice[0]:
            continue
        if key == "float16" and node.value is True and not choice:
            m.unsupported(key, node, "pure fp16 weights: ftc trains fp16 with autocast "
                          "(precision fp16) or pure bf16")
        elif key == "bf16" and node.value == "auto":
            m.drop(key, node, "auto: ftc's default (bf16 where the GPU has it)")
        elif key == "torch_dtype":
            m.drop(key, node, "the weights' dtype follows training.precision")
        else:
            m.drop(key, node, f"{node.value!r}: settled by {choice[0] if choice else 'auto'}")


def _betas(m: Mapping) -> None:
    found = m.facts.get("betas", {})
    if not found:
        return
    b1 = found["adam_beta1"].value if "adam_beta1" in found else 0.9
    b2 = found["adam_beta2"].value if "adam_beta2" in found else 0.999
    for key, node in found.items():
        m.put("training.betas", [b1, b2], key, node)


def _batch(m: Mapping) -> None:
    fact = m.facts.get("batch_size")
    if not fact:
        return
    if m.get("training.gradient_accumulation") is not None:
        m.drop(fact[0], fact[1], "derived: micro_batch_size x gradient_accumulation_steps")
    else:
        m.put("training.batch_size", fact[1].value, fact[0], fact[1])


def _checkpointing_kwargs(m: Mapping) -> None:
    fact = m.facts.get("gc_kwargs")
    if not fact:
        return
    key, node = fact
    reentrant = node.plain().get("use_reentrant") if node.kind == "map" else None
    if not m.facts.get("gc"):
        m.drop(key, node, "gradient checkpointing is off")
    elif reentrant is True:
        m.put("training.gradient_checkpointing", "reentrant", key, node)
    elif reentrant is False:
        m.mapped(key, node, "training.gradient_checkpointing", "non-reentrant: ftc's true")
    else:
        m.unsupported(key, node, "only use_reentrant has an ftc equivalent", changes=False)


def _chat_template(m: Mapping) -> None:
    found = m.facts.get("chat_template", {})
    name, jinja = (((k, found[k]) if k in found else None)
                   for k in ("chat_template", "chat_template_jinja"))
    if name or jinja:
        _template(m, name, jinja)
    per_dataset = m.facts.get("dataset_templates", [])
    if m.get("model.chat_template") is not None or name is not None:
        top = name[1].value if name else None
        for key, node, implied in per_dataset:
            if (implied or node.value) == top:
                m.drop(key, node, "the same as the top-level chat_template")
            else:
                m.unsupported(key, node, "one chat template per recipe in ftc "
                              "(model.chat_template)")
        return
    for key, node, implied in per_dataset:
        if m.get("model.chat_template") is not None:
            m.drop(key, node, "the first dataset's template applies")
        elif implied:
            m.put("model.chat_template", implied, key, node, "the DPO type's template")
        elif key.endswith(".chat_template"):
            _template(m, (key, node), None)
        else:
            _template(m, None, (key, node))


def _template(m: Mapping, name: tuple | None, jinja: tuple | None) -> None:
    """A chat_template name and/or chat_template_jinja text, each (key, node)."""
    if jinja and (name is None or name[1].value == "jinja"):
        if name:
            m.mapped(*name, "model.chat_template", "jinja: the template text")
        if not isinstance(jinja[1].value, str):
            m.unsupported(*jinja, "expected the Jinja template text or a .jinja path")
            return
        m.put("model.chat_template", jinja[1].value, *jinja)
        return
    if jinja:
        m.drop(*jinja, "used only with chat_template: jinja")
    key, node = name
    value = str(node.value)
    if value.startswith("tokenizer_default_fallback_"):
        m.put("model.chat_template", "tokenizer", key, node,
              f"the tokenizer's own (axolotl falls back to {value[27:]} without one)")
    elif value in tables.CHAT_TEMPLATES:
        m.put("model.chat_template", tables.CHAT_TEMPLATES[value], key, node)
    else:
        m.unsupported(key, node, f"chat template {value!r} is not shipped with ftc; "
                      "model.chat_template: tokenizer uses the model's own")


def _kernels(m: Mapping) -> None:
    cce = m.facts.get("cce", [])
    for key, node in cce:  # the plugin, cut_cross_entropy: true, or both
        m.put("training.loss_kernel", "cut_cross_entropy", key, node)
    for key, node in m.facts.get("liger", []):
        if cce:
            m.unsupported(key, node, "ftc's liger_kernel also replaces the loss, which Cut "
                          "Cross Entropy does here", changes=False)
        else:
            m.put("training.liger_kernel", True, key, node)


__all__ = ["finish", "MAPPED"]
