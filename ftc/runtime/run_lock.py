"""The lock file as the runtime sees it: values, where each one sits, local paths.

The runtime reads nothing but recipe.lock.yaml. Its paths are relative to the
lock's directory; errors about a value point at its line in the lock, so the
lock is loaded once with positions (ruamel round-trip, YAML 1.2) and turned
into plain dicts for everything else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftc.diagnostics import ERROR, Diagnostic
from ftc.dotted import get_dotted

LOCK_NAME = "recipe.lock.yaml"


class RunFailure(Exception):
    """A known run-time failure, already explained as diagnostics (no traceback)."""

    def __init__(self, diagnostics: list[Diagnostic], collective: bool = False):
        super().__init__("\n".join(d.text() for d in diagnostics))
        self.diagnostics = diagnostics
        self.collective = collective  # raised on every rank at once (they can still meet)


@dataclass
class RunLock:
    """A loaded lock: plain values plus the line:col of every key."""

    path: Path
    values: dict
    positions: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def dir(self) -> Path:
        return self.path.parent

    @property
    def name(self) -> str:
        return self.values["name"]

    def get(self, dotted: str, default: Any = None) -> Any:
        return get_dotted(self.values, dotted, default)

    def local(self, value: str) -> Path:
        """A path from the lock, made absolute against the lock's directory."""
        return (self.dir / Path(value).expanduser()).resolve()

    def error(self, dotted: str, rule: str, message: str, hint: str | None = None) -> Diagnostic:
        """A diagnostic pointing at dotted's line in the lock (or its nearest parent)."""
        parts = dotted.split(".")
        line, col = 1, 1
        while parts:
            pos = self.positions.get(".".join(parts))
            if pos:
                line, col = pos
                break
            parts.pop()
        return Diagnostic(str(self.path), line, col, ERROR, rule, message, hint)

    def fail(self, dotted: str, rule: str, message: str, hint: str | None = None) -> RunFailure:
        return RunFailure([self.error(dotted, rule, message, hint)])


def load_run_lock(path: str | Path) -> RunLock:
    """Read a recipe.lock.yaml (or the bundle directory holding one)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    path = Path(path)
    if path.is_dir():
        path = path / LOCK_NAME
    where = Diagnostic(str(path), 1, 1, ERROR, "FTC501", "")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        message = f"cannot read the lock file: {exc.strerror or exc}"
        raise RunFailure([_with(where, message)]) from None
    try:
        tree = YAML(typ="rt", pure=True).load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        diag = Diagnostic(str(path), line, col, ERROR, "FTC501",
                          f"the lock file is not valid YAML: {getattr(exc, 'problem', exc)}",
                          "re-create it with `ftc compile`")
        raise RunFailure([diag]) from None
    if not isinstance(tree, dict) or "name" not in tree:
        raise RunFailure([_with(where, "this is not an ftc lock file (no `name:`)",
                                "pass the recipe.lock.yaml that `ftc compile` wrote")])
    positions: dict[str, tuple[int, int]] = {}
    _positions(tree, [], positions)
    values = json.loads(json.dumps(tree))  # plain dicts, lists and scalars
    return RunLock(path=path.resolve(), values=values, positions=positions)


def _with(d: Diagnostic, message: str, hint: str | None = None) -> Diagnostic:
    return Diagnostic(d.path, d.line, d.col, d.severity, d.rule, message, hint)


def _positions(node: Any, parts: list[str], out: dict[str, tuple[int, int]]) -> None:
    if not hasattr(node, "lc") or not isinstance(node, dict):
        return
    for key in node:
        dotted = ".".join([*parts, str(key)])
        try:  # a section points at its key, a value at itself
            line, col = node.lc.key(key) if isinstance(node[key], dict) else node.lc.value(key)
        except (KeyError, TypeError, AttributeError):
            line, col = node.lc.key(key)
        out[dotted] = (line + 1, col + 1)
        _positions(node[key], [*parts, str(key)], out)
