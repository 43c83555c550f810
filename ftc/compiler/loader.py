"""Load recipes safely into a tree that remembers where every value came from.

Recipes are plain data, so we compose YAML nodes ourselves instead of letting a
constructor build Python objects: no tag can execute anything, alias expansion
is bounded (no "billion laughs"), and every node keeps its file:line:col and
its source (user, extends:FILE or --set) for error messages and provenance.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

from ftc.diagnostics import ERROR, Diagnostic, FtcError

MAX_BYTES = 1_000_000  # a recipe is a page of YAML; 1 MB is already absurd
MAX_NODES = 20_000  # after alias expansion
MAX_DEPTH = 40
SOURCE_USER = "user"
SOURCE_SET = "--set"

_STD = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {_STD + t for t in ("str", "int", "float", "bool", "null", "map", "seq")}


@dataclass(frozen=True)
class Pos:
    path: str
    line: int
    col: int


@dataclass
class Node:
    """A YAML value with its position; maps hold dict[str, Node], seqs list[Node]."""

    kind: str  # "map" | "seq" | "scalar"
    value: Any
    pos: Pos
    source: str = SOURCE_USER
    key_pos: Pos | None = None
    base_dir: Path | None = None  # directory that relative paths in this value are relative to

    def get(self, key: str) -> Node | None:
        return self.value.get(key) if self.kind == "map" else None

    def find(self, path: tuple) -> Node | None:
        """The node at a path of keys/indices, or None."""
        node: Node | None = self
        for part in path:
            if node is None:
                return None
            if node.kind == "map" and isinstance(part, str):
                node = node.value.get(part)
            elif node.kind == "seq" and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
            else:
                return None
        return node

    def plain(self) -> Any:
        """The value as plain Python data (dict/list/scalars)."""
        if self.kind == "map":
            return {k: v.plain() for k, v in self.value.items()}
        if self.kind == "seq":
            return [v.plain() for v in self.value]
        return self.value


def _err(path: str, line: int, col: int, rule: str, msg: str, hint: str | None = None) -> FtcError:
    return FtcError([Diagnostic(path, line, col, ERROR, rule, msg, hint)])


def read_text(path: Path, display: str) -> str:
    """File contents as text, or an FtcError naming what is wrong with the file."""
    try:
        if path.is_dir():
            raise _err(display, 1, 1, "FTC009", "is a directory, not a recipe file")
        size = path.stat().st_size
    except FileNotFoundError:
        raise _err(display, 1, 1, "FTC009", "file not found") from None
    except OSError as exc:
        raise _err(display, 1, 1, "FTC009", f"cannot read file: {exc.strerror}") from None
    if size > MAX_BYTES:
        raise _err(display, 1, 1, "FTC005", f"file is {size:,} bytes; recipes are limited to "
                   f"{MAX_BYTES:,}", "a recipe should be a short YAML file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _err(display, 1, 1, "FTC009", f"cannot read file: {exc.strerror}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise _err(display, line, col, "FTC001", "file is not valid UTF-8",
                   "save the recipe as UTF-8") from None


def parse(text: str, display: str, source: str = SOURCE_USER, line_offset: int = 0,
          col_offset: int = 0, base_dir: Path | None = None) -> Node:
    """Parse YAML text into a Node tree; raises FtcError with the position of any problem."""
    try:
        root = YAML(typ="safe").compose(text)  # C parser (ruamel.yaml.clib) when present
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise _err(display, line + line_offset, col + col_offset, "FTC001",
                   f"YAML syntax error: {problem}") from None
    except RecursionError:
        raise _err(display, 1, 1, "FTC006", "nesting is too deep to parse") from None
    if root is None:
        return Node("map", {}, Pos(display, 1, 1), source, base_dir=base_dir)
    builder = _Builder(display, source, line_offset, col_offset, base_dir)
    return builder.build(root, 0)


class _Builder:
    def __init__(self, display: str, source: str, line_offset: int, col_offset: int,
                 base_dir: Path | None):
        self.display, self.source, self.base_dir = display, source, base_dir
        self.line_offset, self.col_offset = line_offset, col_offset
        self.count = 0

    def pos(self, yaml_node) -> Pos:
        m = yaml_node.start_mark
        return Pos(self.display, m.line + 1 + self.line_offset, m.column + 1 + self.col_offset)

    def fail(self, yaml_node, rule: str, msg: str, hint: str | None = None) -> FtcError:
        p = self.pos(yaml_node)
        return _err(p.path, p.line, p.col, rule, msg, hint)

    def build(self, yn, depth: int) -> Node:
        self.count += 1
        if self.count > MAX_NODES:
            raise self.fail(yn, "FTC004", f"more than {MAX_NODES:,} values after expanding "
                            "aliases", "remove repeated anchors (&) and aliases (*)")
        if depth > MAX_DEPTH:
            raise self.fail(yn, "FTC006", f"nesting deeper than {MAX_DEPTH} levels")
        tag = str(yn.tag.value if hasattr(yn.tag, "value") else yn.tag)
        if tag not in _ALLOWED_TAGS:
            raise self.fail(yn, "FTC003", f"tag {tag.replace(_STD, '!!')} is not allowed",
                            "recipes hold plain data: strings, numbers, booleans, lists, maps")
        if isinstance(yn, MappingNode):
            return self.mapping(yn, depth)
        if isinstance(yn, SequenceNode):
            items = [self.build(item, depth + 1) for item in yn.value]
            return Node("seq", items, self.pos(yn), self.source, base_dir=self.base_dir)
        assert isinstance(yn, ScalarNode)
        value = _scalar(yn.value, tag)
        return Node("scalar", value, self.pos(yn), self.source, base_dir=self.base_dir)

    def mapping(self, yn, depth: int) -> Node:
        out: dict[str, Node] = {}
        for key_node, value_node in yn.value:
            if not isinstance(key_node, ScalarNode) or str(key_node.tag).endswith(":map"):
                raise self.fail(key_node, "FTC001", "mapping keys must be plain strings")
            key = str(key_node.value)
            if key in out:
                raise self.fail(key_node, "FTC001", f"duplicate key '{key}'",
                                "each key may appear once in a mapping")
            child = self.build(value_node, depth + 1)
            child.key_pos = self.pos(key_node)
            out[key] = child
        return Node("map", out, self.pos(yn), self.source, base_dir=self.base_dir)


def _scalar(text: str, tag: str) -> Any:
    kind = tag.replace(_STD, "")
    if kind == "null":
        return None
    if kind == "bool":
        return text.lower() == "true"
    if kind == "int":
        digits = text.replace("_", "")
        try:
            return int(digits, 10)
        except ValueError:
            return int(digits, 0)
    if kind == "float":
        low = text.lower().lstrip("+")
        if low in (".inf", "-.inf"):
            return -math.inf if low.startswith("-") else math.inf
        if low == ".nan":
            return math.nan
        return float(text.replace("_", ""))
    return text


# --------------------------------------------------------------------------- extends


def display_path(path: Path) -> str:
    """A path as shown in messages: relative to the working directory when inside it."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def load_recipe_tree(path: Path, display: str | None = None) -> Node:
    """Load a recipe and everything it extends, merged; values keep their sources."""
    top_dir = Path(path).resolve().parent
    return _load_chain(Path(path), display or str(path), [], SOURCE_USER, top_dir)


def _load_chain(path: Path, display: str, stack: list[Path], source: str,
                top_dir: Path) -> Node:
    real = path.resolve()
    tree = parse(read_text(path, display), display, source, base_dir=real.parent)
    if tree.kind != "map":
        raise _err(display, tree.pos.line, tree.pos.col, "FTC002",
                   "the recipe must be a mapping of sections (model:, method:, data: ...)")
    ext = tree.value.pop("extends", None)
    if ext is None:
        return tree
    where = ext.key_pos or ext.pos
    if ext.kind != "scalar" or not isinstance(ext.value, str) or not ext.value:
        raise _err(display, ext.pos.line, ext.pos.col, "FTC007",
                   "extends must be a path to another recipe")
    base_path = path.parent / ext.value
    base_display = os.path.normpath(os.path.join(os.path.dirname(display), ext.value))
    chain = stack + [real]
    if base_path.resolve() in chain:
        names = " -> ".join([display_path(p) for p in chain] + [base_display])
        raise _err(display, where.line, where.col, "FTC007", f"extends cycle: {names}")
    if not base_path.is_file():
        raise _err(display, ext.pos.line, ext.pos.col, "FTC007",
                   f"extends file not found: {ext.value}",
                   "the path is relative to the file that extends it")
    label = os.path.relpath(base_path.resolve(), top_dir)  # stable across machines
    base = _load_chain(base_path, base_display, chain, f"extends:{label}", top_dir)
    base.value.pop("abstract", None)  # being a base is not inherited
    return merge(base, tree)


def merge(base: Node, top: Node) -> Node:
    """Deep-merge two maps: keys in `top` win; lists and scalars are replaced whole."""
    if base.kind != "map" or top.kind != "map":
        return top
    out = dict(base.value)
    for key, node in top.value.items():
        out[key] = merge(out[key], node) if key in out else node
    return Node("map", out, top.pos, top.source, top.key_pos, top.base_dir)


# --------------------------------------------------------------------------- --set


def parse_override(text: str, index: int) -> tuple[list[str], Node]:
    """`key.path=value` from the command line; the value is parsed as YAML."""
    display = SOURCE_SET
    if "=" not in text:
        raise _err(display, index, 1, "FTC008", f"--set {text!r} must look like key.path=value")
    key, _, raw = text.partition("=")
    parts = key.strip().split(".")
    if not all(parts):
        raise _err(display, index, 1, "FTC008", f"--set {text!r}: empty key in '{key}'")
    value = parse(raw if raw.strip() else '""', display, SOURCE_SET, index - 1, len(key) + 1,
                  base_dir=Path.cwd())
    return parts, value


def apply_override(tree: Node, parts: list[str], value: Node) -> None:
    """Put `value` at `parts`, creating maps on the way; the value is marked --set."""
    node = tree
    for part in parts[:-1]:
        child = node.value.get(part)
        if child is None or child.kind != "map":
            child = Node("map", {}, value.pos, SOURCE_SET, value.pos, value.base_dir)
            node.value[part] = child
        node = child
    value.key_pos = value.pos
    _mark(value, SOURCE_SET)
    node.value[parts[-1]] = value


def _mark(node: Node, source: str) -> None:
    node.source = source
    if node.kind == "map":
        for child in node.value.values():
            _mark(child, source)
    elif node.kind == "seq":
        for child in node.value:
            _mark(child, source)
