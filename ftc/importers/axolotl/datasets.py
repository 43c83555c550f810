"""axolotl `datasets:` / `test_datasets:` entries as ftc data sources (data.train/validation).

Types follow axolotl's dataset formats: chat_template (messages with field_messages,
message_property_mappings and roles), sharegpt, the alpaca family, completion, the DPO
types, and user-defined types (field_* keys, with a format string -> template).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ftc.compiler.loader import Node
from ftc.importers.axolotl import tables
from ftc.importers.mapping import Mapping

# keys of a dataset entry that need no mapping of their own
_DROPPED = {"ds_type": "ftc reads the file type from its extension or the hub repo",
            "train_on_eos": "",  # checked below
            "trust_remote_code": "", "shards_idx": ""}
FTC_ROLES = ("system", "user", "assistant")
# axolotl wraps alpaca rows in the Alpaca prompt text; ftc makes them a user turn (+ input)
# and an assistant turn rendered by the chat template: same loss on the output, other text
ALPACA_NOTE = "instruction/input -> user turn, output -> assistant turn (chat template, " \
    "not axolotl's Alpaca prompt text)"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_NAMED_FORMAT = re.compile(r"\{(instruction|input|system)\}")


def map_datasets(m: Mapping, key: str, node: Node, target: str, paths: PathFix) -> None:
    """Each entry of a datasets list into `target` (a list of source objects)."""
    if node.kind != "seq":
        m.unsupported(key, node, "expected a list of datasets")
        return
    sources = []
    for index, item in enumerate(node.value):
        where = f"{target}[{index}]"
        source = _source(m, f"{key}[{index}]", item, paths, where)
        if source is not None:
            sources.append(source)
    if sources:
        m.recipe.setdefault("data", {})[target.split(".")[1]] = sources
        m.mapped(key, node, f"data.{target.split('.')[1]}")


def _source(m: Mapping, key: str, node: Node, paths: PathFix, where: str) -> dict | None:
    if node.kind != "map" or not isinstance(_value(node, "path"), str):
        m.unsupported(key, node, "a dataset needs a path")
        return None
    source: dict = {"path": paths.fix(_value(node, "path"))}
    kind, fields = _type(m, key, node, where)
    for name in ("name", "split", "revision", "data_files"):
        child = node.get(name)
        if child is not None and child.value is not None:
            source[name] = child.plain()
            m.mapped(f"{key}.{name}", child, f"{where}.{name}")
    if kind:
        source["type"] = kind
    fields.update(_message_fields(m, key, node, where, kind))
    if fields:
        source["fields"] = fields
    roles = _roles(m, key, node, where)
    if roles:
        source["roles"] = roles
    _rest(m, key, node, source, where)
    m.mapped(f"{key}.path", node.get("path"), f"{where}.path")
    return source


def _value(node: Node, key: str):
    child = node.get(key)
    return child.value if child is not None else None


def _type(m: Mapping, key: str, node: Node, where: str) -> tuple[str | None, dict]:
    child = node.get("type")
    if child is None:
        return None, {}
    if child.kind == "map":
        return _user_defined(m, f"{key}.type", child, where)
    name = str(child.value)
    if name in tables.DATASET_TYPES:
        kind, fields = tables.DATASET_TYPES[name]
        note = ALPACA_NOTE if kind == "alpaca" else ""
        m.mapped(f"{key}.type", child, f"{where}.type", note)
        prefix = name.split(".")[0]
        if kind == "preference" and prefix in tables.DPO_TYPE_TEMPLATES:
            m.facts.setdefault("dataset_templates", []).append(
                (f"{key}.type", child, tables.DPO_TYPE_TEMPLATES[prefix]))
        return kind, dict(fields)
    m.unsupported(f"{key}.type", child, f"dataset type {name!r} has no ftc equivalent "
                  "(ftc: messages, sharegpt, alpaca, completion, preference, template)")
    return None, {}


def _user_defined(m: Mapping, key: str, node: Node, where: str) -> tuple[str | None, dict]:
    """axolotl's user-defined prompt type: field_* names and optional format strings."""
    spec = node.plain()
    fields = {k.removeprefix("field_"): v for k, v in spec.items()
              if k.startswith("field_") and isinstance(v, str)}
    if {"chosen", "rejected"} & set(fields):
        m.mapped(key, node, f"{where}.type")
        return "preference", fields
    fmt = spec.get("format")
    if isinstance(fmt, str) and _CONTROL.search(fmt):
        m.unsupported(f"{key}.format", node.get("format"), "a format string over several "
                      "lines: ftc's template fields are one line")
        return None, {}
    if isinstance(fmt, str):
        columns = {"instruction": fields.get("instruction", "instruction"),
                   "input": fields.get("input", "input"), "system": fields.get("system", "system")}
        prompt = _NAMED_FORMAT.sub(lambda x: "{" + columns[x.group(1)] + "}", fmt)
        if spec.get("no_input_format"):
            m.unsupported(f"{key}.no_input_format", node.get("no_input_format"),
                          "ftc's template type has one format for every row")
        m.mapped(key, node, f"{where}.type")
        return "template", {"prompt": prompt, "completion": fields.get("output", "output")}
    m.mapped(key, node, f"{where}.type")
    keep = {k: v for k, v in fields.items() if k in ("instruction", "input", "output", "system")}
    return "alpaca", keep


def _message_fields(m: Mapping, key: str, node: Node, where: str, kind: str | None) -> dict:
    fields = {}
    messages = node.get("field_messages")
    if messages is not None and isinstance(messages.value, str):
        name = "prompt" if kind == "preference" else "messages"  # a DPO row's prompt turns
        fields[name] = messages.value
        m.mapped(f"{key}.field_messages", messages, f"{where}.fields.{name}")
    mappings = node.get("message_property_mappings")
    if mappings is not None and mappings.kind == "map":
        for prop, child in mappings.value.items():
            if prop in ("role", "content") and isinstance(child.value, str):
                fields[prop] = child.value
                m.mapped(f"{key}.message_property_mappings.{prop}", child,
                         f"{where}.fields.{prop}")
            else:
                m.unsupported(f"{key}.message_property_mappings.{prop}", child,
                              "ftc maps the role and content properties")
    for legacy, prop in (("message_field_role", "role"), ("message_field_content", "content")):
        child = node.get(legacy)
        if child is not None and isinstance(child.value, str):
            fields.setdefault(prop, child.value)
            m.mapped(f"{key}.{legacy}", child, f"{where}.fields.{prop}")
    for name, prop in (("field", "completion"), ("field_chosen", "chosen"),
                       ("field_rejected", "rejected"), ("field_system", "system"),
                       ("field_prompt", "prompt")):
        child = node.get(name)
        if child is not None and isinstance(child.value, str):
            fields[prop] = child.value
            m.mapped(f"{key}.{name}", child, f"{where}.fields.{prop}")
    return fields


def _roles(m: Mapping, key: str, node: Node, where: str) -> dict:
    """axolotl's {target: [source roles]} inverted into ftc's {source: target}."""
    child = node.get("roles")
    if child is None or child.kind != "map":
        return {}
    roles = {}
    for target, sources in child.plain().items():
        if target not in FTC_ROLES:
            m.unsupported(f"{key}.roles.{target}", child.value[target],
                          f"role {target!r}: ftc's roles are system, user and assistant")
            continue
        for source in sources if isinstance(sources, list) else [sources]:
            if isinstance(source, str) and source != target:
                roles[source] = target
    m.mapped(f"{key}.roles", child, f"{where}.roles")
    return roles


_HANDLED = {"path", "type", "name", "split", "revision", "data_files", "field_messages",
            "message_property_mappings", "message_field_role", "message_field_content",
            "roles", "field", "field_chosen", "field_rejected", "field_system", "field_prompt",
            "chat_template", "chat_template_jinja"}


def _rest(m: Mapping, key: str, node: Node, source: dict, where: str) -> None:
    for name, child in node.value.items():
        sub = f"{key}.{name}"
        if name in _HANDLED and name not in ("chat_template", "chat_template_jinja"):
            continue
        if child.value is None:
            m.drop(sub, child, "null")
        elif name in ("chat_template", "chat_template_jinja"):
            m.facts.setdefault("dataset_templates", []).append((sub, child, None))
        elif name == "ds_type":
            m.drop(sub, child, _DROPPED["ds_type"])
        elif name == "train_on_eos" and child.value == "turn":
            m.drop(sub, child, "turn: axolotl's default; ftc trains on each assistant turn's end")
        elif name == "roles_to_train" and child.plain() == ["assistant"]:
            m.drop(sub, child, "assistant turns: ftc's default loss")
        elif name == "shards" and isinstance(child.value, int) and child.value > 1:
            source["weight"] = round(1.0 / child.value, 6)
            m.mapped(sub, child, f"{where}.weight", "one shard = 1/shards of the rows")
        elif name == "shards_idx":
            m.drop(sub, child, "which shard: ftc's weight takes a deterministic subsample")
        elif name == "system_prompt" and isinstance(child.value, str):
            source["system_prompt"] = child.value
            m.mapped(sub, child, f"{where}.system_prompt")
        else:
            m.unsupported(sub, child, f"dataset option {name!r} has no ftc equivalent")


class PathFix:
    """axolotl resolves local paths from the working directory; ftc from the recipe's."""

    def __init__(self, cwd: Path, recipe_dir: Path):
        self.cwd, self.recipe_dir = cwd, recipe_dir

    def fix(self, value: str, always: bool = False) -> str:
        """`value` relative to the recipe's folder; absolute paths and hub ids unchanged
        (a relative path is local when it exists or starts with '.', or `always`)."""
        local = self.cwd / Path(value).expanduser()
        if value.startswith(("/", "~")) or not (always or local.exists()
                                                or value.startswith(".")):
            return value
        return os.path.relpath(local.resolve(), self.recipe_dir.resolve())
