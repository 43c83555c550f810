"""Every key the recipe schema accepts is read by something: an option that does nothing is
a defect (a user sets it, gets no error and no effect).

The check walks the schema's leaf paths and looks for a read of each in ftc's source
(the AST, so comments and docstrings do not count):
- a string constant holding a dotted suffix of the path ("training.eval.every",
  "eval.every") used as a key: `x.get(...)`, `x.has(...)`, `get_dotted(v, ...)`,
  `lock.get(...)`, `x[...]`, `x.pop(...)`, `... in x`;
- or, in one module, a read of the leaf's own name together with a read of its
  parent section (`eval_cfg = tr.get("eval")` ... `eval_cfg.get("every")`), where
  literal tables of keys that a module loops over count as reads (`for key in
  ("partition", "account")`, `{"epochs": "n_epochs"}`), except in resolve.py, whose
  loops set defaults.
Setting a default (resolve's tables) is not a read. What no code reads on purpose is in
ALLOWED with the reason; that list is itself checked: each entry must be a schema leaf that
the source really does not read, so it shrinks as code starts reading a key.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

from ftc.compiler import SCHEMA_FILE

PACKAGE = Path(__file__).resolve().parents[2] / "ftc"

# Keys that nothing in ftc reads, each with the reason that makes that right.
ALLOWED: dict[str, str] = {}
# Accepted and ignored today: open defects that other issues' branches close, listed so
# that this test names them; each entry fails test_the_allow_list_is_minimal as soon as
# the code reads the key, so the list only shrinks.
PENDING = {
    "hardware.launcher": "issue 11 (cluster): ftc launch picks sbatch or accelerate by it",
}
READERS = {"get", "has", "pop", "user_set", "source", "where", "get_dotted", "default_of"}
# The schema compiled to Python: it names every key because it checks them, not reads them.
SCHEMA_ITSELF = {"compiler/recipe_check.py"}


def schema_leaves() -> list[str]:
    """Dotted paths of every leaf (array items of objects: 'a.b[].c' as 'a.b.c')."""
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    out: list[str] = []

    def walk(node: dict, path: list[str]) -> None:
        for alt in node.get("oneOf", []) + node.get("anyOf", []):
            if alt.get("properties") or (alt.get("items") or {}).get("properties"):
                walk(alt, path)
        items = node.get("items") or {}
        for alt in items.get("oneOf", []):  # a list of paths or of source objects
            if alt.get("properties"):
                walk(alt, path)
        props = node.get("properties") or items.get("properties")
        if props:
            for key, child in props.items():
                walk(child, path + [key])
        elif path:
            out.append(".".join(path))

    walk(schema, [])
    return sorted(set(out))


# Where constant tuples of keys are loops that set defaults, not reads.
DEFAULTS_ONLY = {"compiler/resolve.py"}


def reads_by_module() -> dict[str, set[str]]:
    """String keys each module reads (see the module docstring for what counts)."""
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        name = str(path.relative_to(PACKAGE))
        if name in SCHEMA_ITSELF:
            continue
        keys: set[str] = set()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = _string_constants(tree)
        for node in ast.walk(tree):
            keys.update(_read_keys(node, names))
            if name not in DEFAULTS_ONLY:
                keys.update(_key_tables(node))
        found[name] = keys
    return found


def _key_tables(node) -> list[str]:
    """Keys listed in a literal a module loops over to read them (tuples of names that
    `for key in (...)`, or mapping keys such as {"epochs": "n_epochs"})."""
    if isinstance(node, ast.Dict):
        return [k for k in map(_const, node.keys) if k]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [k for k in map(_const, node.elts) if k]
    return []


def _string_constants(tree) -> dict[str, str]:
    """Module-level NAME = "a.b.c" assignments (a key held in a constant)."""
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name) and _const(node.value):
            out[node.targets[0].id] = _const(node.value)
    return out


def _const(node, names: dict[str, str] | None = None) -> str | None:
    """A string the expression always is: a literal, a NAME constant, or an f-string of those."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and names:
        return names.get(node.id)
    if isinstance(node, ast.JoinedStr) and names is not None:
        parts = [_const(v.value if isinstance(v, ast.FormattedValue) else v, names)
                 for v in node.values]
        return "".join(parts) if all(p is not None for p in parts) else None
    return None


def _read_keys(node, names: dict[str, str]) -> list[str]:
    if isinstance(node, ast.Call):
        name = getattr(node.func, "attr", getattr(node.func, "id", None))
        if name in READERS:
            return [k for k in (_const(a, names) for a in node.args[:2]) if k]
    if isinstance(node, ast.Subscript):
        key = _const(node.slice)
        return [key] if key else []
    if isinstance(node, ast.Compare) and any(isinstance(op, ast.In) for op in node.ops):
        key = _const(node.left)
        return [key] if key else []
    return []


def is_read(path: str, modules: dict[str, set[str]]) -> bool:
    parts = path.split(".")
    suffixes = {".".join(parts[i:]) for i in range(len(parts) - 1)}
    parents = {".".join(parts[i:-1]) for i in range(len(parts) - 1)}
    for keys in modules.values():
        if keys & suffixes:
            return True
        if parts[-1] in keys and (len(parts) == 1 or keys & parents):
            return True
    return False


def test_every_schema_key_is_read():
    modules = reads_by_module()
    unread = [p for p in schema_leaves()
              if p not in ALLOWED and p not in PENDING and not is_read(p, modules)]
    assert unread == [], f"schema keys nothing reads: {unread}"


def test_the_allow_list_is_minimal():
    leaves = set(schema_leaves())
    modules = reads_by_module()
    for path in {**ALLOWED, **PENDING}:
        assert path in leaves, f"{path} is not a schema key any more: drop it from the list"
        assert not is_read(path, modules), f"{path} is read now: drop it from the list"


def test_the_walk_sees_nested_and_list_keys():
    leaves = set(schema_leaves())
    assert {"training.eval.every", "method.lora.r", "logging.wandb.mode",
            "hardware.slurm.partition"} <= leaves
    assert any(p.startswith("method.adapter.adapters.") for p in leaves)


def test_the_detector_is_not_vacuous():
    modules = reads_by_module()
    assert not is_read("training.no_such_option", modules)
    assert not is_read("logging.wandb.no_such_field", modules)
    assert is_read("training.neftune_noise_alpha", modules)  # read by training_args.py
    assert is_read("method.distill.generate.temperature", modules)  # through KEY = "..."
