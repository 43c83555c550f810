"""The package's shape, checked on its source: no import cycles, methods behind one registry,
the compiler used through its public face, and no training stack on the compiler side.

Every import counts, including those inside functions (a lazy import is still an
edge: it runs the first time the function does).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "ftc"
HEAVY = {"torch", "transformers", "peft", "trl", "deepspeed", "accelerate", "datasets",
         "bitsandbytes"}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _owner(name: str) -> str | None:
    """The module a dotted import name lands in (ftc.a.b.func -> ftc.a.b)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str) -> set[str]:
    """Every name module imports (absolute, resolved for relative imports)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names |= {f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base
                      for a in node.names}
    return names


def _graph() -> dict[str, set[str]]:
    graph = {}
    for module in MODULES:
        targets = {_owner(n) for n in _imports(module) if n.split(".")[0] == "ftc"}
        graph[module] = {t for t in targets if t and t != module}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_the_package_has_no_import_cycles():
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_methods_never_import_the_orchestrator():
    graph = _graph()
    offenders = [m for m in graph if m.startswith("ftc.runtime.methods")
                 and "ftc.runtime.train" in graph[m]]
    assert offenders == []


def test_every_method_kind_in_the_schema_is_registered():
    import json

    from ftc.compiler import SCHEMA_FILE
    from ftc.runtime.methods import METHODS, method_for_kind
    from ftc.runtime.methods.interface import TrainingMethod

    schema = json.loads(Path(SCHEMA_FILE).read_text(encoding="utf-8"))
    kinds = set(schema["properties"]["method"]["properties"]["kind"]["enum"]) - {"auto"}
    assert kinds <= set(METHODS)
    verbs = [n for n in vars(TrainingMethod) if not n.startswith("_")]
    assert "build" in verbs and "prepare_data" in verbs
    for kind in METHODS:
        method = method_for_kind(kind)
        missing = [v for v in verbs if not callable(getattr(method, v, None))]
        assert missing == [], kind


@pytest.mark.parametrize("side", ["ftc.commands", "ftc.runtime", "ftc.dataprep", "ftc.cli"])
def test_the_cli_and_runtime_use_only_the_compilers_public_face(side):
    graph = _graph()
    offenders = {m: sorted(t for t in graph[m] if t.startswith("ftc.compiler."))
                 for m in graph if m == side or m.startswith(side + ".")}
    assert {m: t for m, t in offenders.items() if t} == {}


def test_the_compiler_side_never_imports_the_training_stack():
    compiler_side = [m for m in MODULES
                     if m.startswith(("ftc.compiler", "ftc.memory", "ftc.importers"))
                     or m == "ftc.diagnostics"]
    offenders = {m: sorted(n for n in _imports(m) if n.split(".")[0] in HEAVY)
                 for m in compiler_side}
    assert {m: n for m, n in offenders.items() if n} == {}
