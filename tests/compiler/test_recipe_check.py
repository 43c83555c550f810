"""The generated schema check (ftc/compiler/recipe_check.py) gives jsonschema's verdict.

`ftc lint` trusts it to skip jsonschema for valid recipes, so it must never accept
what ftc's strict jsonschema validator refuses (and should accept what it accepts,
or valid recipes lose the fast path).  Compared on the curated recipes, on the
values where generated validators usually differ, and on hypothesis recipes
drawn from the schema and then mutated (the fuzz suite's strategies).
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ftc.compiler import recipe_check, schema_codegen
from ftc.compiler.loader import load_recipe_tree
from ftc.compiler.validate import strict_validator
from tests.compiler.fuzz_strategies import SCHEMA, Raw, from_schema, mutated

REPO = Path(__file__).resolve().parents[2]
# the recipes a user runs (an abstract base may leave required sections to its children)
RECIPES = sorted(p for p in (REPO / "recipes").glob("*.yaml")
                 if "abstract: true" not in p.read_text(encoding="utf-8"))


def jsonschema_accepts(tree) -> bool:
    return not any(True for _ in strict_validator().iter_errors(tree))


def test_the_generated_check_is_current():
    assert schema_codegen.TARGET.read_text(encoding="utf-8") == schema_codegen.generate(), (
        "ftc/compiler/recipe_check.py is stale: run python -m ftc.compiler.schema_codegen")


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.name)
def test_curated_recipes_take_the_fast_path(path):
    tree = load_recipe_tree(path).plain()
    assert jsonschema_accepts(tree)
    assert recipe_check.is_valid(tree)


def _quickstart() -> dict:
    return load_recipe_tree(REPO / "recipes" / "quickstart.yaml").plain()


@pytest.mark.parametrize(("path", "value"), [
    (("training", "max_steps"), 3.0),  # a whole float is not an integer (draft 6+ says it is)
    (("training", "max_steps"), True),  # nor is a boolean
    (("method", "lora", "r"), 16.0),
    (("name",), "quickstart\n"),  # `$` is the end of the text, not before a final newline
    (("method", "quantization", "bits"), True),  # enum [4, 8]: True == 1 in Python
    (("method", "quantization", "bits"), 4.0),
    (("evaluation", "baseline"), 1),  # enum [true, false, auto]: 1 == True in Python
    (("evaluation", "baseline"), 0),
    (("hardware", "fsdp", "version"), True),
    (("evaluation", "metrics"), ["loss", "loss"]),  # uniqueItems
    (("training", "learning_rate"), "2e-4"),
    (("export", "formats"), ["gguf", 1]),
])
def test_values_where_generated_validators_usually_differ(path, value):
    tree = _quickstart()
    node = tree
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value
    assert recipe_check.is_valid(tree) == jsonschema_accepts(tree)
    assert not recipe_check.is_valid(tree)


def _plain(value):
    """Raw YAML markers as the text they hold (this compares data, not parsing)."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@pytest.mark.fuzz
@given(tree=from_schema(SCHEMA).flatmap(
    lambda valid: st.one_of(st.just(valid), mutated(copy.deepcopy(valid)))))
def test_the_check_agrees_with_jsonschema_on_drawn_recipes(tree):
    tree = _plain(tree)
    before = copy.deepcopy(tree)
    assert recipe_check.is_valid(tree) == jsonschema_accepts(tree)
    assert tree == before  # the check fills in nothing
