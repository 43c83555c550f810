"""The bookkeeping every importer shares: the recipe being built and one entry per source key.

An entry is the importer's account of a key: mapped (to the recipe key it means), dropped
(with the reason it does not matter to ftc) or unsupported (with its line and column, and
whether it changes what training does). Nothing is ever left out silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ftc.compiler.loader import Node

MAPPED, DROPPED, UNSUPPORTED, DEFAULT = "mapped", "dropped", "unsupported", "default"


@dataclass(frozen=True)
class Entry:
    key: str  # the source key, dotted (datasets[0].type)
    line: int
    col: int
    status: str  # mapped | dropped | unsupported | default (the source's default, written)
    target: str = ""  # the recipe key (mapped)
    reason: str = ""
    changes_training: bool = False  # unsupported and it alters the trained weights

    def as_dict(self) -> dict:
        return {"key": self.key, "line": self.line, "col": self.col, "status": self.status,
                "target": self.target, "reason": self.reason,
                "changes_training": self.changes_training}


@dataclass
class Mapping:
    """The recipe under construction (plain nested dicts) and the entries so far."""

    recipe: dict = field(default_factory=dict)
    entries: list[Entry] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)  # joint keys (adapter, precision)

    def put(self, target: str, value: Any, key: str, node: Node, note: str = "") -> None:
        """Set a recipe value and record which source key it came from."""
        set_path(self.recipe, target, value)
        self.mapped(key, node, target, note)

    def mapped(self, key: str, node: Node, target: str, note: str = "") -> None:
        self.entries.append(_entry(key, node, MAPPED, target, note))

    def default(self, target: str, value: Any, key: str) -> None:
        """The source tool's default for a key the config leaves out, where ftc's differs."""
        set_path(self.recipe, target, value)
        self.entries.append(Entry(key, 0, 0, DEFAULT, target,
                                  "axolotl's default (the config leaves it out)"))

    def drop(self, key: str, node: Node, reason: str) -> None:
        self.entries.append(_entry(key, node, DROPPED, "", reason))

    def unsupported(self, key: str, node: Node, reason: str, changes: bool = True) -> None:
        self.entries.append(_entry(key, node, UNSUPPORTED, "", reason, changes))

    def get(self, target: str) -> Any:
        node: Any = self.recipe
        for part in target.split("."):
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    def blocking(self) -> list[Entry]:
        """Unsupported entries that change training (the importer's exit 1)."""
        return [e for e in self.entries if e.status == UNSUPPORTED and e.changes_training]


def _entry(key: str, node: Node, status: str, target: str, reason: str,
           changes: bool = False) -> Entry:
    pos = node.key_pos or node.pos
    return Entry(key, pos.line, pos.col, status, target, reason, changes)


def set_path(tree: dict, dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    for part in parts[:-1]:
        tree = tree.setdefault(part, {})
    tree[parts[-1]] = value
