"""Check a recipe tree against the published JSON Schema, every problem at once.

jsonschema finds the problems; this module turns each into one Diagnostic at
the line:col of the offending key or value, in the words a person would use
("method.lora.r must be an integer >= 1"), with did-you-mean hints.
"""

from __future__ import annotations

import difflib
import json
from functools import lru_cache
from typing import Any

from jsonschema import Draft7Validator

from ftc.compiler.loader import Node
from ftc.diagnostics import ERROR, Diagnostic
from ftc.resources import shared_path

# Shipped as package data (ftc/resources.py), so it exists in any install.
SCHEMA_FILE = shared_path("schemas", "recipe.schema.json")


@lru_cache(maxsize=1)
def load_schema() -> dict:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _validator() -> Draft7Validator:
    return Draft7Validator(load_schema())


def dotted(path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "recipe"


def subschema(parts: list[str]) -> dict | None:
    """The schema of the property at `parts` (object properties only), or None."""
    node = load_schema()
    for part in parts:
        props = node.get("properties")
        if not props or part not in props:
            return None
        node = props[part]
    return node


def known_keys(parts: list[str]) -> list[str]:
    node = subschema(parts) if parts else load_schema()
    return sorted((node or {}).get("properties", {}))


def validate_tree(tree: Node) -> list[Diagnostic]:
    """All schema problems of a merged recipe tree, each at its own position."""
    out: list[Diagnostic] = []
    abstract = is_abstract(tree)
    for error in _validator().iter_errors(tree.plain()):
        if abstract and error.validator == "required":
            continue
        out.extend(_diagnose(error, tree))
    return out


def is_abstract(tree: Node) -> bool:
    flag = tree.get("abstract")
    return bool(flag is not None and flag.value is True)


def _diagnose(error, tree: Node) -> list[Diagnostic]:
    path = list(error.absolute_path)
    node = tree.find(tuple(path)) or tree
    name = dotted(path)
    kind = error.validator
    if kind == "additionalProperties":
        return _unknown_keys(error, node, path)
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "?"
        where = node.key_pos or node.pos
        section = f"{name} " if path else "the recipe "
        return [_diag(where, "FTC013", f"{section}is missing required key '{missing}'",
                      _describe_key(path + [missing]))]
    if kind == "enum":
        allowed = error.validator_value
        hint = _close(error.instance, allowed)
        return [_diag(node.pos, "FTC012", f"{name} must be one of: "
                      f"{', '.join(map(_show, allowed))} (got {_show(error.instance)})", hint)]
    if kind in ("type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
                "minLength", "maxLength", "minItems", "maxItems", "uniqueItems"):
        rule = "FTC011" if kind == "type" else "FTC014"
        return [_diag(node.pos, rule, f"{name} must be {expectation(error.schema)} "
                      f"(got {_show(error.instance)})")]
    if kind == "oneOf":
        forms = " or ".join(expectation(alt) for alt in error.validator_value)
        return [_diag(node.pos, "FTC011", f"{name} must be {forms} (got {_show(error.instance)})")]
    if kind == "pattern":
        return [_diag(node.pos, "FTC014", f"{name} {_show(error.instance)} is not in the "
                      "expected form", error.schema.get("description"))]
    return [_diag(node.pos, "FTC014", f"{name}: {error.message}")]


def _unknown_keys(error, node: Node, path: list) -> list[Diagnostic]:
    allowed = sorted(error.schema.get("properties", {}))
    out = []
    for key in sorted(set(error.instance) - set(allowed)):
        child = node.get(key)
        where = (child.key_pos or child.pos) if child else node.pos
        hint = _close(key, allowed) or f"allowed keys here: {', '.join(allowed)}"
        where_name = dotted(path) if path else "the recipe"
        out.append(_diag(where, "FTC010", f"unknown key '{key}' in {where_name}", hint))
    return out


def _describe_key(parts: list) -> str | None:
    schema = subschema([p for p in parts if isinstance(p, str)])
    return schema.get("description") if schema else None


def _close(value: Any, allowed: list) -> str | None:
    if not isinstance(value, str):
        return None
    words = [a for a in allowed if isinstance(a, str)]
    match = difflib.get_close_matches(value, words, n=1, cutoff=0.6)
    if not match:
        lowered = {w.lower(): w for w in words}
        match = [lowered[value.lower()]] if value.lower() in lowered else []
    return f"did you mean '{match[0]}'?" if match else None


_ARTICLE = {"integer": "an integer", "number": "a number", "string": "a string",
            "boolean": "true or false", "array": "a list", "object": "a mapping", "null": "null"}


def expectation(schema: dict) -> str:
    """A short phrase for what a schema accepts: 'an integer >= 1', 'a list of strings'."""
    if "enum" in schema:
        return "one of " + ", ".join(map(_show, schema["enum"]))
    types = schema.get("type")
    types = types if isinstance(types, list) else [types] if types else []
    words = " or ".join(_ARTICLE.get(t, t) for t in types) or "a valid value"
    bounds = []
    if "minimum" in schema:
        bounds.append(f">= {schema['minimum']}")
    if "exclusiveMinimum" in schema:
        bounds.append(f"> {schema['exclusiveMinimum']}")
    if "maximum" in schema:
        bounds.append(f"<= {schema['maximum']}")
    if "exclusiveMaximum" in schema:
        bounds.append(f"< {schema['exclusiveMaximum']}")
    if schema.get("minLength"):
        bounds.append("non-empty")
    if "array" in types:
        items = schema.get("items", {})
        if schema.get("minItems") and schema.get("minItems") == schema.get("maxItems"):
            words = f"a list of {schema['minItems']}"
        elif schema.get("minItems"):
            words = "a non-empty list"
        if items:
            words += _of_items(items).removeprefix(" of" if words[-1].isdigit() else "")
        if schema.get("uniqueItems"):
            bounds.append("without repeats")
    return words + (" " + " and ".join(bounds) if bounds else "")


def _of_items(items: dict) -> str:
    """' of numbers (each >= 0 and < 1)': the item noun in the plural, its bounds apart."""
    if "enum" in items:
        return " of " + expectation(items)
    noun = expectation({k: v for k, v in items.items() if k in ("type", "items")})
    bounds = expectation(items)[len(noun):]
    plural = noun.removeprefix("a ").removeprefix("an ") + "s"
    return f" of {plural}" + (f" (each{bounds})" if bounds else "")


def _show(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    return str(value)


def _diag(pos, rule: str, message: str, hint: str | None = None) -> Diagnostic:
    return Diagnostic(pos.path, pos.line, pos.col, ERROR, rule, message, hint)
