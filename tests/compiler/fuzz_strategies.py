"""Hypothesis strategies for hostile recipes: generated from the schema, then mutated.

A case is a plan, not files: the recipe as data (with RAW markers for YAML
text that data cannot express), extra files for `extends` graphs, links, and
--set strings.  `write_case` lays a plan out in a directory that `fixtures`
already filled with the things a hostile path points at (a FIFO, a link to
/dev/zero, a symlink loop, a model directory, DeepSpeed configs good and bad).
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import strategies as st

from ftc.compiler.validate import load_schema

SCHEMA = load_schema()


@dataclass(frozen=True)
class Raw:
    """YAML text written as is (a tag, an odd scalar, deep nesting)."""

    text: str


RAW_SCALARS = ["0o_", "0x_", "0b2", "!!int abc", "!!float ''", "!!bool maybe", "!!null x",
               "~", "!!python/object/apply:os.system ['true']", "!!binary aGk=",
               "!!timestamp 2001-12-14", "1_000", "0b101", "0x1F", "0o17", ".NaN", "-.INF",
               "0x" + "f" * 80, "9" * 400, "1e400", "-0", "+12", "*undefined", "&a 1",
               "[" * 60 + "]" * 60, "{a: " * 45 + "1" + "}" * 45]
CONTROL = "".join(chr(c) for c in range(32)) + "\x7f\x85\x9b\u2028\u2029\ufeff"
TOKENS = ["hf_" + "aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3x", "sk-" + "Ab3De5Fg7Hi9Jk1Lm3No5Pq7R",
          "AKIA" + "IOSFODNN7EXAMPLE", "ghp_" + "aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5",
          "0123456789abcdef" * 2]
# Names that fixtures() creates next to the recipe.
PATHS = ["data/train.jsonl", "data/val.jsonl", "data/deep.jsonl", "model", "bad-model",
         "ds.json", "bad-ds.json", "fifo", "zero", "loop1", "missing.jsonl", "data",
         "~nosuchuser/x", "/dev/zero", "/etc/passwd", "a" * 300, "org/model",
         "meta-llama/Llama-3.1-8B", "./model", "../outside", "runs", "out dir/x"]
ODD_STRINGS = st.one_of(
    st.text(alphabet=st.sampled_from(CONTROL + "$`'\";&|<>(){}#~ \\"), max_size=12),
    st.text(max_size=30), st.sampled_from(TOKENS), st.sampled_from(PATHS),
    st.builds(lambda t, c, x: t + c + x, st.sampled_from(["job", "org/m", "gpu"]),
              st.sampled_from(["\n", "\r", "\n$(touch PWNED)", "`touch PWNED`", "\x00"]),
              st.sampled_from(["", "x", "\n"])),
    st.just("\ud800"), st.just("x" * 5000))
ODD_NUMBERS = st.one_of(st.sampled_from([math.nan, math.inf, -math.inf]),
                        st.sampled_from([1e300, -1e300, 0.0, -0.0, 10**30, -(10**20), 2**63, 0,
                                         -1, 1e26, 5e-324, 1.5, 3]),
                        st.integers(), st.floats())
ODD_VALUES = st.one_of(ODD_STRINGS, ODD_NUMBERS, st.none(), st.booleans(),
                       st.sampled_from([[], {}, [1, "a"], {"x": 1}]),
                       st.sampled_from(RAW_SCALARS).map(Raw))
TOP_KEYS = sorted(SCHEMA["properties"])


def _generation_regex(pattern: str) -> str:
    """The schema's ECMA pattern for hypothesis: `$` is the end of the text."""
    return re.sub(r"(?<!\\)\$", r"\\Z", pattern)


@st.composite
def from_schema(draw, schema: dict, key: str = "", depth: int = 0):
    """A value the schema accepts (the keys of a map: required ones and a few optional)."""
    if "enum" in schema:
        return draw(st.sampled_from(schema["enum"]))
    if "oneOf" in schema:
        return draw(st.one_of([from_schema(alt, key, depth) for alt in schema["oneOf"]]))
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = draw(st.sampled_from(kind))
    if kind == "object":
        props = schema.get("properties", {})
        required = schema.get("required", [])
        optional = sorted(set(props) - set(required) - {"extends", "abstract"})
        chosen = draw(st.lists(st.sampled_from(optional), max_size=3 if depth else 6,
                               unique=True)) if optional else []
        return {k: draw(from_schema(props[k], k, depth + 1)) for k in [*required, *chosen]}
    if kind == "array":
        items = schema.get("items", {})
        return draw(st.lists(from_schema(items, key, depth + 1), min_size=schema.get(
            "minItems", 0), max_size=3, unique_by=lambda v: json.dumps(v, sort_keys=True)
            if schema.get("uniqueItems") else None))
    if kind == "integer":
        low = schema.get("minimum", 0)
        return draw(st.integers(low, schema.get("maximum", low + 10_000)))
    if kind == "number":
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0.0))
        high = schema.get("maximum", low + 1000.0)
        return draw(st.floats(low, high, exclude_min="exclusiveMinimum" in schema,
                              allow_nan=False, allow_infinity=False))
    if kind == "boolean":
        return draw(st.booleans())
    if kind == "string":
        if "pattern" in schema and not schema["pattern"].startswith("^[^"):
            return draw(st.from_regex(_generation_regex(schema["pattern"]), fullmatch=True))
        return draw(st.one_of(st.sampled_from(PATHS[:4] + ["org/model", "q_proj", "main"]),
                              st.text(st.characters(codec="utf-8", exclude_categories=["Cc",
                                                                                      "Cs"]),
                                      min_size=schema.get("minLength", 0), max_size=12)))
    return draw(ODD_VALUES)


def leaf_paths(value, prefix=()):
    """Every key path in a recipe (maps and their leaves), for mutations to aim at."""
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            out += leaf_paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += leaf_paths(v, prefix + (i,))
    return out


def _set(tree, path, value):
    node = tree
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def _delete(tree, path):
    node = tree
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]


INSERTS = st.one_of(st.sampled_from(list(CONTROL)), st.sampled_from(TOKENS),
                    st.sampled_from(["\ud800", "\n$(touch PWNED)", "`touch PWNED`", "'; x; '",
                                     "\u202e", "\U0001f600", "é", "\\", "%s", "{{NAME}}"]))


@st.composite
def mutated(draw, recipe: dict):
    """The recipe after a few mutations, each aimed at a kind of leaf: odd numbers in numeric
    fields, odd characters inside strings, odd YAML scalars, wrong types, deletions, extras."""
    for _ in range(draw(st.sampled_from([1, 1, 2, 3]))):
        paths = leaf_paths(recipe)
        if not paths:
            break
        leaves = {"number": [], "text": []}
        for path in paths:
            value = _get(recipe, path)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                leaves["number"].append(path)
            elif isinstance(value, str):
                leaves["text"].append(path)
        action = draw(st.sampled_from(["number", "number", "text", "text", "raw", "type",
                                       "delete", "extra"]))
        pool = leaves.get(action) or paths
        path = draw(st.sampled_from(pool))
        if action == "number":
            _set(recipe, path, draw(ODD_NUMBERS))
        elif action == "text" and isinstance(_get(recipe, path), str):
            text = _get(recipe, path)
            at = draw(st.integers(0, len(text)))
            _set(recipe, path, text[:at] + draw(INSERTS) + text[at:])
        elif action == "raw":
            _set(recipe, path, Raw(draw(st.sampled_from(RAW_SCALARS))))
        elif action == "delete":
            _delete(recipe, path)
        elif action == "extra" and isinstance(_get(recipe, path), dict):
            _get(recipe, path)[draw(st.one_of(st.sampled_from(TOP_KEYS + ["modle", "lr"]),
                                              st.text(max_size=8)))] = draw(ODD_VALUES)
        else:
            _set(recipe, path, draw(ODD_VALUES))
    return recipe


def _get(tree, path):
    for part in path:
        tree = tree[part]
    return tree


@dataclass
class Case:
    recipe: dict
    bases: dict[str, object] = field(default_factory=dict)  # file name -> recipe or Raw text
    links: dict[str, str] = field(default_factory=dict)  # link name -> target
    sets: list[str] = field(default_factory=list)
    ascii: bool = True  # strings as \\u escapes, or raw UTF-8 (then YAML meets odd characters)


BASE_NAMES = ["base-a.yaml", "base-b.yaml", "base-c.yaml", "not-yaml.txt", "dir.yaml",
              "missing.yaml", "link.yaml", "loop.yaml", "fifo", "~nosuchuser/b.yaml"]


@st.composite
def extends_graph(draw) -> tuple[str | None, dict, dict]:
    """(what the recipe extends, base files, links): chains, cycles, links, non-recipes."""
    bases: dict[str, object] = {}
    for name in draw(st.lists(st.sampled_from(BASE_NAMES[:4]), unique=True, max_size=3)):
        body = draw(st.one_of(from_schema(SCHEMA), st.just({"DB_PASSWORD": "hunter2"}),
                               st.sampled_from([Raw("[1, 2"), Raw("- a\n- b"), Raw("")])))
        if isinstance(body, dict) and draw(st.booleans()):
            body = {k: v for k, v in body.items() if draw(st.booleans())}
            body["extends"] = draw(st.sampled_from(BASE_NAMES))
        if isinstance(body, dict) and draw(st.booleans()):
            body["abstract"] = True
        bases[name] = body
    links = draw(st.sampled_from([{}, {"link.yaml": "base-a.yaml"},
                                  {"loop.yaml": "loop.yaml"}, {"link.yaml": "/dev/zero"}]))
    target = draw(st.one_of(st.none(), st.sampled_from(BASE_NAMES)))
    return target, bases, links


SET_KEYS = ["training.epochs", "training.max_steps", "training.learning_rate", "hardware.gpus",
            "hardware.slurm.partition", "model.base", "name", "description", "data.train",
            "model.parameters", "hardware.gpu_memory", "extends", "no.such.key", "method.lora.r",
            "hardware.deepspeed_config", "model.chat_template", "training.batch_size"]


@st.composite
def set_strings(draw) -> list[str]:
    out = []
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.one_of(st.sampled_from(SET_KEYS), st.text(max_size=10)))
        value = draw(ODD_VALUES)
        text = value.text if isinstance(value, Raw) else dump(value)
        shape = draw(st.sampled_from(["kv", "kv", "kv", "no-equals", "bytes", "empty-part"]))
        if shape == "no-equals":
            out.append(key)
        elif shape == "bytes":  # what argv holds for bytes that are not UTF-8
            out.append(f"{key}={text}" + b"\xff\xfe".decode("utf-8", "surrogateescape"))
        elif shape == "empty-part":
            out.append(f"{key}..x={text}")
        else:
            out.append(f"{key}={text}")
    return out


@st.composite
def recipe_cases(draw) -> Case:
    recipe = draw(from_schema(SCHEMA))
    if draw(st.integers(0, 3)):  # mostly: a data file and a model that are there
        recipe["data"]["train"] = draw(st.sampled_from(["data/train.jsonl", "data/deep.jsonl"]))
        recipe["model"]["base"] = draw(st.sampled_from(["model", "org/model"]))
    if draw(st.integers(0, 2)):  # two cases in three are mutated
        recipe = draw(mutated(recipe))
    target, bases, links = draw(extends_graph())
    if target is not None and isinstance(recipe, dict):
        recipe["extends"] = target
    return Case(recipe, bases, links, draw(set_strings()), draw(st.booleans()))


def dump(value, ascii: bool = True) -> str:
    """YAML text for plain data (flow style; JSON strings; .nan/.inf; Raw as is)."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k), ensure_ascii=ascii)}: {dump(v, ascii)}"
                               for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(dump(v, ascii) for v in value) + "]"
    return json.dumps(value, ensure_ascii=ascii)


def dump_recipe(value, ascii: bool = True) -> str:
    """A recipe as block-style top level (like people write) with flow values."""
    if isinstance(value, dict):
        return "".join(f"{json.dumps(str(k), ensure_ascii=ascii)}: {dump(v, ascii)}\n"
                       for k, v in value.items())
    return dump(value, ascii) + "\n"


TINY_CONFIG = {"model_type": "llama", "hidden_size": 64, "intermediate_size": 176,
               "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 1,
               "vocab_size": 300, "tie_word_embeddings": True}


def fixtures(root: Path) -> None:
    """The things hostile paths point at, next to the recipe."""
    (root / "data").mkdir()
    row = {"messages": [{"role": "user", "content": "hi"},
                        {"role": "assistant", "content": "hello"}]}
    (root / "data" / "train.jsonl").write_text(json.dumps(row) + "\n")
    (root / "data" / "val.jsonl").write_text(json.dumps(row) + "\n")
    (root / "data" / "deep.jsonl").write_text('{"a": ' * 5000 + "1" + "}" * 5000 + "\n")
    (root / "model").mkdir()
    (root / "model" / "config.json").write_text(json.dumps(TINY_CONFIG))
    (root / "bad-model").mkdir()
    (root / "bad-model" / "config.json").write_text('{"hidden_size": [')
    (root / "ds.json").write_text('{"zero_optimization": {"stage": 2}, "bf16": {"enabled": '
                                  '"auto"}}')
    (root / "bad-ds.json").write_text('{"zero_optimization": NaN}')
    (root / "dir.yaml").mkdir()
    os.mkfifo(root / "fifo")
    os.symlink("/dev/zero", root / "zero")
    os.symlink("loop2", root / "loop1")
    os.symlink("loop1", root / "loop2")


def write_case(case: Case, root: Path) -> Path:
    """Files for a case under root (already holding fixtures()); the recipe's path."""
    for name, body in case.bases.items():
        text = body.text if isinstance(body, Raw) else dump_recipe(body, case.ascii)
        (root / name).write_text(text, encoding="utf-8", errors="surrogatepass")
    for name, target in case.links.items():
        os.symlink(target, root / name)
    recipe = root / "recipe.yaml"
    recipe.write_text(dump_recipe(case.recipe, case.ascii), encoding="utf-8",
                      errors="surrogatepass")  # a raw lone surrogate: bytes that are not UTF-8
    return recipe
