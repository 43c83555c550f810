"""Check a recipe tree against the published JSON Schema, every problem at once.

jsonschema finds the problems; this module turns each into one Diagnostic at
the line:col of the offending key or value, in the words a person would use
("method.lora.r must be an integer >= 1"), with did-you-mean hints.  A valid
recipe never loads jsonschema (most of a cold `ftc lint`): the schema compiled to
plain Python (recipe_check.py, generated with the same strict rules) says so first.
"""

from __future__ import annotations

import difflib
import json
import re
from functools import cache, lru_cache
from typing import Any

from ftc.compiler import recipe_check
from ftc.compiler.loader import Node
from ftc.compiler.schema import SCHEMA_FILE, load_schema  # noqa: F401 (SCHEMA_FILE re-exported)
from ftc.compiler.value_checks import scan_tree, value_problems
from ftc.diagnostics import ERROR, Diagnostic, redact_diagnostics
from ftc.dotted import dotted_name


@cache
def _python_regex(pattern: str) -> re.Pattern[str]:
    """A schema pattern with ECMA-262's `$` (end of text, not before a final newline)."""
    return re.compile(re.sub(r"(?<!\\)\$", r"\\Z", pattern))


def _pattern(validator, pattern: str, instance, schema):
    from jsonschema import ValidationError

    if validator.is_type(instance, "string") and not _python_regex(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _is_integer(checker, instance) -> bool:
    """An int, not a bool and not a float that happens to be whole (1e26 is not a step count)."""
    return isinstance(instance, int) and not isinstance(instance, bool)


@lru_cache(maxsize=1)
def strict_validator():
    """jsonschema's draft-7 validator with ftc's integer and pattern rules (loaded on demand)."""
    from jsonschema import Draft7Validator, validators

    strict = validators.extend(
        Draft7Validator, validators={"pattern": _pattern},
        type_checker=Draft7Validator.TYPE_CHECKER.redefine("integer", _is_integer))
    return strict(load_schema())


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
    """All schema problems of a merged recipe tree, each at its own position.

    The value checks (finite numbers, no control characters) come first; a range
    or form error where they, or a type error, already spoke would only repeat it.
    """
    secrets, found = scan_tree(tree)
    checked = secrets + value_problems(tree)
    schema: list[Diagnostic] = []
    abstract = is_abstract(tree)
    plain = tree.plain()
    errors = [] if recipe_check.is_valid(plain) else strict_validator().iter_errors(plain)
    for error in errors:
        if abstract and error.validator == "required":
            continue
        schema.extend(_diagnose(error, tree))
    # one message per value: the value checks are the most specific, and a wrong type
    # makes a range or form moot
    checked_at = {_at(d) for d in checked}
    typed_at = {_at(d) for d in schema if d.rule == "FTC011"}
    rest = [d for d in schema if _at(d) not in checked_at
            and (d.rule != "FTC014" or _at(d) not in typed_at)]
    return secrets + redact_diagnostics(checked[len(secrets):] + rest, found)


def _at(d: Diagnostic) -> tuple[str, int, int]:
    return d.path, d.line, d.col


def is_abstract(tree: Node) -> bool:
    flag = tree.get("abstract")
    return bool(flag is not None and flag.value is True)


def _diagnose(error, tree: Node) -> list[Diagnostic]:
    path = list(error.absolute_path)
    node = tree.find(tuple(path)) or tree
    name = dotted_name(path)
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
        inner = _matching_errors(error)
        if inner and all(len(e.absolute_path) > len(error.absolute_path) for e in inner):
            # a list of paths and source objects: each entry's own problems
            return [d for sub in inner for d in _diagnose(sub, tree)]
        forms = " or ".join(expectation(alt) for alt in error.validator_value)
        return [_diag(node.pos, "FTC011", f"{name} must be {forms} (got {_show(error.instance)})")]
    if kind == "pattern":
        return [_diag(node.pos, "FTC014", f"{name} {_show(error.instance)} is not in the "
                      "expected form", error.schema.get("description"))]
    return [_diag(node.pos, "FTC014", f"{name}: {error.message}")]


def _matching_errors(error) -> list | None:
    """A oneOf's errors inside the one alternative whose type the value has (a list of
    paths or source objects, an entry that is an object), else None."""
    alternatives: dict[int, list] = {}
    for sub in error.context or []:
        alternatives.setdefault(sub.relative_schema_path[0], []).append(sub)
    fitting = [errs for errs in alternatives.values()
               if not any(e.validator == "type" and e.absolute_path == error.absolute_path
                          for e in errs)]
    if len(fitting) != 1:
        return None
    out = []
    for sub in fitting[0]:
        inner = _matching_errors(sub) if sub.validator == "oneOf" else None
        out += inner if inner else [sub]
    return out


def _unknown_keys(error, node: Node, path: list) -> list[Diagnostic]:
    allowed = sorted(error.schema.get("properties", {}))
    out = []
    for key in sorted(set(error.instance) - set(allowed)):
        child = node.get(key)
        where = (child.key_pos or child.pos) if child else node.pos
        hint = _close(key, allowed) or f"allowed keys here: {', '.join(allowed)}"
        where_name = dotted_name(path) if path else "the recipe"
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
        return json.dumps(value if len(value) <= 80 else value[:77] + "...")
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    return str(value)


def _diag(pos, rule: str, message: str, hint: str | None = None) -> Diagnostic:
    return Diagnostic(pos.path, pos.line, pos.col, ERROR, rule, message, hint)
