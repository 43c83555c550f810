"""Lint for provider backends: what the provider cannot do, and what it ignores.

`check(resolved)` returns errors (registered as FTC140 in
ftc.compiler.lint_rules), each with the reason: a model that is not
fine-tunable there, a method it does not offer for that model (QLoRA, prefix,
...), a DeepSpeed/FSDP setup, hyperparameters it does not take, data that is
not a local file.  `advise(resolved)` returns warnings (FTC141) for keys the
recipe sets that mean nothing to a provider job: they are kept in the lock
(one recipe serves both backends) but nothing reads them.

The data files themselves are checked by ftc.providers.data (FTC37x).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ftc.compiler.resolve import Resolved
from ftc.providers import table

Finding = tuple[str, str, str | None]

# method.kind -> the provider's method
METHODS = {"lora": "supervised", "full": "supervised", "dpo": "dpo"}
REFUSED_KINDS = {
    "qlora": ("the provider trains on its own full-precision weights; there is no 4-bit "
              "(QLoRA) option", "use method.kind lora: the provider's supervised fine-tuning"),
    "prefix": ("prefix tuning is not offered by the provider", "use method.kind lora"),
    "adapter": ("named adapters (LLaMA-Adapter, IA3) are not offered by the provider",
                "use method.kind lora"),
    "distill": ("logit distillation needs the teacher's and student's logits, which a "
                "provider job does not expose", "distil by fine-tuning (method.kind lora) "
                "on the teacher's answers"),
    "reward": ("the provider does not train reward models", None),
    "rlhf": ("ftc does not compile the provider's reinforcement (grader-based) jobs yet",
             "train locally (backend.kind local) or use method.kind dpo"),
}
SHARDING = ("zero1", "zero2", "zero3", "fsdp")
# Keys a provider job reads, beyond these nothing in the section is read.
READ = {
    "model": {"base"},
    "method": {"kind", "dpo.beta"},
    "data": {"train", "validation", "format", "split", "system_prompt"},
    "training": {"epochs", "batch_size", "seed"},
}
IGNORED_SECTIONS = ("hardware", "export", "logging", "evaluation")
HINTS = {
    "training.learning_rate": "a provider takes a multiplier of its own rate: "
                              "set backend.hyperparameters.learning_rate_multiplier",
    "model.max_seq_length": "the model's own limit applies (ftc's provider table); "
                            "longer examples are an error at lint",
}


def provider_method(r: Resolved) -> str | None:
    """supervised/dpo for the recipe's method.kind, None when the provider has none."""
    return METHODS.get(r.get("method.kind"))


def check(r: Resolved) -> list[Finding]:
    kind = r.get("backend.kind")
    name = table.provider(kind)["name"]
    return [*_model_and_method(r, kind, name), *_sharding(r, name),
            *_hyperparameters(r, kind, name), *_data_files(r, name)]


def _model_and_method(r: Resolved, kind: str, name: str) -> Iterator[Finding]:
    base, method_kind = r.get("model.base"), r.get("method.kind")
    if method_kind in REFUSED_KINDS:
        reason, hint = REFUSED_KINDS[method_kind]
        yield ("method.kind", f"method.kind {method_kind} cannot run on {name}: {reason}", hint)
    spec = table.find_model(kind, base)
    if spec is None:
        close = table.closest_model(kind, base)
        yield ("model.base", f"{base!r} is not a fine-tunable {name} model (ftc's provider "
               f"table, as of {table.as_of()})",
               f"did you mean {close!r}?" if close else
               "fine-tunable: " + ", ".join(table.model_names(kind)))
        return
    method = METHODS.get(method_kind)
    if method and method not in spec.methods:
        offering = table.model_names(kind, method)
        yield ("method.kind", f"{spec.name} offers {', '.join(spec.methods)} fine-tuning at "
               f"{name}, not {method}",
               f"{method} is offered for: {', '.join(offering)}" if offering else None)


def _sharding(r: Resolved, name: str) -> Iterator[Finding]:
    strategy = r.get("hardware.strategy")
    if r.user_set("hardware.strategy") and strategy in SHARDING:
        yield ("hardware.strategy", f"hardware.strategy {strategy} asks for a DeepSpeed/FSDP "
               f"setup, but {name} runs the job on its own cluster", "remove hardware.strategy "
               "(or compile with backend.kind local)")
    if r.has("hardware.deepspeed_config"):
        yield ("hardware.deepspeed_config", f"a DeepSpeed config cannot be given to {name}",
               "remove hardware.deepspeed_config")


def _hyperparameters(r: Resolved, kind: str, name: str) -> Iterator[Finding]:
    limits = table.provider(kind)["hyperparameters"]
    for key, (lo, hi) in limits.items():
        path = f"backend.hyperparameters.{key}"
        value = r.get(path)
        if value is None or value == "auto":
            continue
        source = r.source(path).removeprefix("rule:from-") if \
            r.source(path).startswith("rule:from-") else path
        whole = key in ("epochs", "batch_size")
        if whole and (isinstance(value, bool) or value != int(value)):
            yield (source, f"{name} takes a whole number of {key.replace('_', ' ')} "
                   f"(got {value:g})", f"set {path} to an integer or auto")
        elif not (lo <= value <= hi if whole else lo < value <= hi):
            yield (source, f"{key.replace('_', ' ')} {value:g} is outside what {name} "
                   f"accepts ({lo}..{hi})", f"set {path} within range, or auto")


def _data_files(r: Resolved, name: str) -> Iterator[Finding]:
    for key in ("data.train", "data.validation"):
        for item in r.get(key) or []:
            if isinstance(item, str) and not Path(item).is_absolute():  # objects: FTC186
                yield (key, f"{item!r} is not a local file: {name} jobs upload local JSONL "
                       "files", "download the dataset and name the .jsonl file")


def advise(r: Resolved) -> list[Finding]:
    name = table.provider(r.get("backend.kind"))["name"]
    out: list[Finding] = []
    refused = {"hardware.strategy", "hardware.deepspeed_config"}
    for path in sorted(r.provenance):
        if not r.user_set(path) or path in refused or not _meaningless(r, path):
            continue
        out.append((path, f"{path} means nothing to {name}; it is ignored",
                    HINTS.get(path)))
    for key, source in (("epochs", "training.epochs"), ("batch_size", "training.batch_size"),
                        ("beta", "method.dpo.beta")):
        if r.user_set(f"backend.hyperparameters.{key}") and r.user_set(source):
            out.append((source, f"{source} is ignored: backend.hyperparameters.{key} is set", None))
    if r.has("backend.hyperparameters.beta") and r.get("method.kind") != "dpo":
        out.append(("backend.hyperparameters.beta", "beta applies to DPO jobs only; it is "
                    "ignored", None))
    if r.has("backend.azure") and r.get("backend.kind") != "azure-openai":
        out.append(("backend.azure", "backend.azure applies to azure-openai only; it is "
                    "ignored", None))
    if r.get("data.test"):
        out.append(("data.test", f"test files are not uploaded to {name}; they are ignored",
                    "evaluate the fine-tuned model on them after the job"))
    return out


def _meaningless(r: Resolved, path: str) -> bool:
    section, _, rest = path.partition(".")
    if section in IGNORED_SECTIONS:
        return True
    if section not in READ:
        return False
    if section == "data" and rest.startswith("split."):
        return False
    if section == "method" and rest == "dpo.beta":
        return r.get("method.kind") != "dpo"
    return rest not in READ[section]
