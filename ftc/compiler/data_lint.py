"""Lint checks for data sources, chat templates and tokens (compiler side, no torch).

Each returns (dotted path, message, hint) findings for ftc.compiler.lint_rules:

- template_unreadable: model.chat_template names a .jinja file that is not there;
- system_role: the data has system messages, the template has no system role
  (it raises for one, or drops its text: found by rendering a probe conversation);
- generation_marker: assistant-only loss (messages data, supervised kinds) with a
  template of the recipe's own that has no {% generation %} markers;
- new_tokens: tokens added to a LoRA/QLoRA model whose embedding and head are not
  trained (method.lora.modules_to_save), checked against a local tokenizer's
  vocabulary when there is one;
- source_options: a source's slice or template fields that cannot work;
- per_epoch: evals/saves_per_epoch beside an explicit step count or strategy;
- hub_datasets_not_cached: a hub dataset id the local cache lacks.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

from ftc.source_spec import SliceError, entries, entry_path, parse_split, template_columns
from ftc.tables import OWN_TEMPLATE, chat_template

Finding = tuple[str, str, str | None]
SFT_KINDS = ("full", "lora", "qlora", "prefix", "adapter", "distill")
EMBEDDINGS = ("embed_tokens", "wte", "word_embeddings", "embed_in", "tok_embeddings")
HEADS = ("lm_head", "embed_out", "output")
PROBE_ROWS = 200  # rows of each local JSONL file looked at for a system message


def template_text(r) -> tuple[str | None, str]:
    """(Jinja text, what it is) of the resolved model.chat_template; None when unknown."""
    setting = r.get("model.chat_template")
    if not isinstance(setting, str):
        return None, ""
    if setting in OWN_TEMPLATE:
        from ftc.compiler.local_facts import tokenizer_facts

        facts = tokenizer_facts(r.get("model.tokenizer") or r.get("model.base"))
        return (facts.chat_template if facts else None), "the tokenizer's template"
    named = chat_template(setting)
    if named is not None:
        return named, f"template {setting!r}"
    return setting, "the recipe's template"


def template_unreadable(r) -> list[Finding]:
    from ftc.compiler.chat_template_check import is_template_file

    setting = r.get("model.chat_template")
    if isinstance(setting, str) and is_template_file(setting):
        return [("model.chat_template", f"chat template file {setting.strip()!r} cannot be "
                 "read (not found, or not a UTF-8 file under 1 MiB)",
                 "the path is relative to the recipe; or name a shipped template (chatml, "
                 "llama3, ...)")]
    return []


def system_role(r) -> list[Finding]:
    from ftc.compiler.chat_template_check import lacks_system_role, template_error

    where = _system_message_source(r)  # first: reading a tokenizer costs more
    if where is None:
        return []
    text, what = template_text(r)
    if not text or template_error(text) or not lacks_system_role(text):
        return []
    return [("model.chat_template", f"{what} has no system role, but {where} has a system "
             "message: the template refuses it or drops its text",
             "choose a template with a system role (chatml, llama3, qwen, ...) or remove the "
             "system prompt")]


def _system_message_source(r) -> str | None:
    if r.get("data.system_prompt"):
        return "data.system_prompt"
    for key in ("data.train", "data.validation", "data.test"):
        for entry in entries(r.get(key)):
            spec = entry if isinstance(entry, dict) else {}
            if spec.get("system_prompt") or (spec.get("fields") or {}).get("system"):
                return f"source {entry_path(entry)!r}"
            if _rows_have_system(entry):
                return f"{entry_path(entry)}"
    return None


def _rows_have_system(entry: object) -> bool:
    path = Path(entry_path(entry) or "")
    if path.suffix.lower() != ".jsonl" or not path.is_absolute() or not path.is_file():
        return False
    spec = entry if isinstance(entry, dict) else {}
    try:
        stat = path.stat()
    except OSError:
        return False
    return _file_has_system(str(path), stat.st_size, stat.st_mtime_ns,
                            json.dumps(spec, sort_keys=True, default=str))


@lru_cache(maxsize=256)
def _file_has_system(path: str, size: int, mtime_ns: int, spec_json: str) -> bool:
    """Read once per file version and source settings: recipes linted together share data
    (250 recipes over the same files read each one 250 times, 2 of a 6 s lint)."""
    from ftc.dataprep.convert import ConvertProblem, convert  # pure; only reached here

    spec = json.loads(spec_json)
    try:
        with open(path, encoding="utf-8-sig") as fh:
            for index, line in enumerate(fh):
                if index >= PROBE_ROWS:
                    break
                if not line.strip():
                    continue
                try:
                    row = convert(json.loads(line), spec)
                except (ValueError, RecursionError, ConvertProblem):
                    continue  # the data check reports the row
                messages = row.get("messages") if isinstance(row, dict) else None
                if isinstance(messages, list) and any(
                        isinstance(m, dict) and m.get("role") == "system" for m in messages):
                    return True
    except (OSError, UnicodeDecodeError):
        return False
    return False


def generation_marker(r) -> list[Finding]:
    from ftc.compiler.chat_template_check import has_generation_marker

    setting = r.get("model.chat_template")
    if r.get("method.kind") not in SFT_KINDS or r.get("data.format") != "messages" \
            or not isinstance(setting, str) or setting in OWN_TEMPLATE \
            or chat_template(setting) is not None or has_generation_marker(setting):
        return []
    return [("model.chat_template", "the recipe's chat template has no {% generation %} "
             "markers, and messages data trains on the assistant's turns only: the run stops "
             "(FTC505) unless TRL knows the template and patches it",
             "wrap the assistant text in {% generation %}...{% endgeneration %}, or name a "
             "shipped template (chatml, llama3, ...)")]


def requested_tokens(r, with_pad: bool = True) -> list[str]:
    """Tokens the recipe asks for (rule defaults such as pad-from-eos excepted)."""
    special = r.get("model.special_tokens") or {}
    tokens = [v for k, v in special.items() if v and (with_pad or k != "pad") and not r.source(
        f"model.special_tokens.{k}").startswith("rule:")]
    return list(dict.fromkeys([*tokens, *(r.get("model.added_tokens") or []),
                               *(r.get("model.eot_tokens") or [])]))


def new_tokens(r, peft: str | None, local: bool) -> list[Finding]:
    """Tokens an adapter run adds without training the embedding and head (FTC183 when the
    local tokenizer shows they are new; FTC188 when the tokenizer is not local). The pad
    token is left out: padding is masked from attention and loss, so its row need not train
    (axolotl exempts it the same way)."""
    tokens = requested_tokens(r, with_pad=False)
    if not tokens or peft is None:
        return []
    from ftc.compiler.local_facts import tokenizer_facts

    saved = set(r.get("method.lora.modules_to_save") or [])
    if saved & set(EMBEDDINGS) and saved & set(HEADS):
        return []
    facts = tokenizer_facts(r.get("model.tokenizer") or r.get("model.base"))
    if (facts is not None) != local:
        return []
    if facts is not None:
        tokens = [t for t in tokens if t not in facts.vocab]
        if not tokens:
            return []
        checked = "not in the tokenizer's vocabulary"
    else:
        checked = "(the tokenizer is not local, so ftc could not check whether they are " \
                  "already in its vocabulary)"
    shown = ", ".join(repr(t) for t in tokens[:5]) + (" ..." if len(tokens) > 5 else "")
    return [("method.lora.modules_to_save", f"tokens {shown} {checked}: with {peft} the "
             "embeddings of new tokens stay untrained unless the embedding and the head are "
             "trained", "set method.lora.modules_to_save: [embed_tokens, lm_head] (names "
             "for this architecture), or use tokens the tokenizer already has")]


def source_options(r) -> list[Finding]:
    out = []
    for key in ("data.train", "data.validation", "data.test"):
        for entry in entries(r.get(key)):
            if not isinstance(entry, dict):
                continue
            name = entry.get("path")
            if entry.get("split"):
                try:
                    parse_split(entry["split"])
                except SliceError as exc:
                    out.append((key, f"source {name!r}: {exc}", None))
            if entry.get("type") == "template":
                out += _template_fields(key, name, entry.get("fields") or {})
    return out


def _template_fields(key: str, name: str, fields: dict) -> list[Finding]:
    missing = [f for f in ("prompt", "completion") if not fields.get(f)]
    if missing:
        return [(key, f"source {name!r}: type template needs fields.{missing[0]} (a format "
                 "string over columns such as 'Q: {question}', or a column name)", None)]
    out = []
    for field in ("prompt", "completion"):
        try:
            template_columns(fields[field])
        except ValueError as exc:
            out.append((key, f"source {name!r}: fields.{field}: {exc}", None))
    return out


def per_epoch(r) -> list[Finding]:
    out = []
    for key, group in (("evals_per_epoch", "eval"), ("saves_per_epoch", "save")):
        if not r.get(f"training.{key}"):
            continue
        if r.user_set(f"training.{group}.every"):
            out.append((f"training.{key}", f"training.{key} and training.{group}.every are "
                        f"both set: {group}.every wins", "keep one of them"))
        elif r.user_set(f"training.{group}.strategy") and \
                r.get(f"training.{group}.strategy") != "steps":
            out.append((f"training.{key}", f"training.{key} needs {group}.strategy steps "
                        f"(got {r.get(f'training.{group}.strategy')}); it is set to steps",
                        None))
    return out


def hub_datasets_not_cached(r) -> list[Finding]:
    """Hub dataset ids the local Hugging Face cache lacks (no network: the cache's folders)."""
    out = []
    for key in ("data.train", "data.validation", "data.test"):
        for entry in entries(r.get(key)):
            name = entry_path(entry) or ""
            if Path(name).is_absolute() or name.count("/") != 1 or Path(name).suffix:
                continue
            if not _in_hf_cache(name):
                out.append((key, f"hub dataset {name!r} is not in the local Hugging Face cache: "
                            "the run downloads it, or stops with FTC327 where no hub is "
                            "reachable", f"fetch it first: hf download --repo-type dataset "
                            f"{name}"))
    return out


def _in_hf_cache(dataset_id: str) -> bool:
    from huggingface_hub import constants

    home = Path(constants.HF_HOME)
    hub = Path(constants.HF_HUB_CACHE) / f"datasets--{dataset_id.replace('/', '--')}"
    prepared = Path(os.environ.get("HF_DATASETS_CACHE") or home / "datasets")
    return hub.is_dir() or (prepared / dataset_id.replace("/", "___")).is_dir()
