"""Load recipes safely into a tree that remembers where every value came from.

Recipes are plain data, so we compose YAML nodes ourselves instead of letting a
constructor build Python objects: no tag can execute anything, alias expansion
is bounded (no "billion laughs"), and every node keeps its file:line:col and
its source (user, extends:FILE or --set) for error messages and provenance.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.composer import MaxDepthExceededError
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode
from ruamel.yaml.resolver import VersionedResolver

from ftc.compiler.schema import recipe_sections
from ftc.diagnostics import ERROR, Diagnostic, FtcError
from ftc.safe_files import FileProblem, read_regular

MAX_BYTES = 1_000_000  # a recipe is a page of YAML; 1 MB is already absurd
MAX_NODES = 20_000  # after alias expansion
MAX_DEPTH = 40
# The C parser recurses once per nesting level and overflows the C stack near
# 30,000 levels (SIGSEGV); text that might nest deeper than this goes to the
# pure-Python parser, whose composer stops at MAX_DEPTH before recursing further.
C_PARSER_MAX_NESTING = 1000
MAX_INT_DIGITS = 64  # no recipe number needs more; int() of huge literals is slow
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
    """File contents as text, or an FtcError naming what is wrong with the file.

    Only a regular file is read (never a FIFO, device or directory), and never
    more than MAX_BYTES of it.
    """
    try:
        raw = read_regular(path, MAX_BYTES, "file")
    except FileProblem as exc:
        if exc.too_big:
            raise _err(display, 1, 1, "FTC005", f"{exc.reason}; recipes are limited to "
                       f"{MAX_BYTES:,} bytes", "a recipe should be a short YAML file") from None
        message = "file not found" if exc.missing else f"cannot read the recipe: {exc.reason}"
        raise _err(display, 1, 1, "FTC009", message) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise _err(display, line, col, "FTC001", "file is not valid UTF-8",
                   "save the recipe as UTF-8") from None


def nesting_bound(text: str) -> int:
    """An upper bound of the YAML nesting depth of `text`, from a cheap line scan.

    A block level needs more indentation or a `- `/`? `/`: ` indicator on its line
    (a sequence may share its parent key's column, hence 2x); flow levels are
    counted by brackets, even inside strings, which only overestimates.
    """
    bound = flow = 0
    for line in text.splitlines():
        body = line.lstrip(" ")
        indent = len(line) - len(body)
        markers = body.count("- ") + body.count("? ") + body.count(": ") + 1
        opens = body.count("[") + body.count("{")
        bound = max(bound, 2 * (indent + 1) + markers + flow + opens)
        flow = max(0, flow + opens - body.count("]") - body.count("}"))
    return bound


class _RememberingResolver(VersionedResolver):
    """ruamel's resolver, remembering each scalar's tag.

    The C parser reads every document as YAML 1.2 (it ignores `%YAML 1.1`), so a
    scalar's tag depends only on its text and style. Working it out again (a
    version lookup that raises and catches an AttributeError, then the regexes) was
    a tenth of a 250-recipe lint; recipes repeat the same keys and values.
    """

    MEMO_LIMIT = 50_000  # hostile text with many distinct scalars must not grow it forever
    _memo: dict = {}  # shared: ruamel makes a new resolver for every document

    def resolve(self, kind, value, implicit):
        if kind is not ScalarNode:
            return super().resolve(kind, value, implicit)
        memo = _RememberingResolver._memo
        key = (value, implicit)
        tag = memo.get(key)
        if tag is None:
            if len(memo) >= self.MEMO_LIMIT:
                memo.clear()
            tag = memo[key] = super().resolve(kind, value, implicit)
        return tag


@cache
def _c_composer() -> YAML:
    """One YAML object for every recipe (building one cost 6% of a 250-recipe lint)."""
    yaml = YAML(typ="safe")  # C parser (ruamel.yaml.clib) when present
    if yaml.Parser.__module__.startswith("ruamel.yaml.clib"):  # YAML 1.2 only: see above
        yaml.Resolver = _RememberingResolver
    return yaml


def _composer(text: str) -> YAML:
    if nesting_bound(text) <= C_PARSER_MAX_NESTING:
        return _c_composer()
    yaml = YAML(typ="safe", pure=True)
    yaml.max_depth = MAX_DEPTH + 1  # raises before recursing deeper
    return yaml


def parse(text: str, display: str, source: str = SOURCE_USER, line_offset: int = 0,
          col_offset: int = 0, base_dir: Path | None = None) -> Node:
    """Parse YAML text into a Node tree; raises FtcError with the position of any problem."""
    try:
        root = _composer(text).compose(text)
    except MaxDepthExceededError as exc:
        mark = exc.problem_mark
        raise _err(display, mark.line + 1 + line_offset, mark.column + 1 + col_offset, "FTC006",
                   f"nesting deeper than {MAX_DEPTH} levels") from None
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
        tag = yn.tag  # a property that builds the string: read it once
        tag = str(getattr(tag, "value", tag))
        if tag not in _ALLOWED_TAGS:
            raise self.fail(yn, "FTC003", f"tag {tag.replace(_STD, '!!')} is not allowed",
                            "recipes hold plain data: strings, numbers, booleans, lists, maps")
        if isinstance(yn, MappingNode):
            return self.mapping(yn, depth)
        if isinstance(yn, SequenceNode):
            items = [self.build(item, depth + 1) for item in yn.value]
            return Node("seq", items, self.pos(yn), self.source, base_dir=self.base_dir)
        assert isinstance(yn, ScalarNode)
        try:
            value = _scalar(yn.value, tag)
        except ValueError as exc:
            raise self.fail(yn, "FTC001", str(exc), "quote the value to make it a string, "
                            "or write a plain number") from None
        pos = self.pos(yn)
        if yn.style == "|":  # a literal block's text starts on the line after the `|`
            pos = Pos(pos.path, pos.line + 1, pos.col)
        return Node("scalar", value, pos, self.source, base_dir=self.base_dir)

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
    """The Python value of a scalar; ValueError (worded for the user) if it is not one."""
    kind = tag.replace(_STD, "")
    if kind == "null":
        if text not in ("", "~", "null", "Null", "NULL"):
            raise ValueError(f"{_short(text)} is tagged null but is not null")
        return None
    if kind == "bool":
        if text.lower() not in ("true", "false"):
            raise ValueError(f"{_short(text)} is tagged as a boolean but is not true or false")
        return text.lower() == "true"
    if kind == "int":
        return _int(text)
    if kind == "float":
        return _float(text)
    return text


def _int(text: str) -> int:
    body = text.replace("_", "")
    sign = -1 if body.startswith("-") else 1
    body = body.lstrip("+-")
    base = {"0x": 16, "0o": 8, "0b": 2}.get(body[:2].lower(), 10)
    digits = body[2:] if base != 10 else body
    if len(digits) > MAX_INT_DIGITS:
        raise ValueError(f"integer with {len(digits)} digits; recipe numbers have at most "
                         f"{MAX_INT_DIGITS}")
    try:
        return sign * int(digits, base)
    except ValueError:
        raise ValueError(f"{_short(text)} is not a valid integer") from None


def _float(text: str) -> float:
    low = text.lower().lstrip("+")
    if low in (".inf", "-.inf"):
        return -math.inf if low.startswith("-") else math.inf
    if low == ".nan":
        return math.nan
    try:
        return float(text.replace("_", ""))
    except ValueError:
        raise ValueError(f"{_short(text)} is not a valid number") from None


def _short(text: str) -> str:
    shown = text if len(text) <= 40 else text[:37] + "..."
    return json.dumps(shown)


# --------------------------------------------------------------------------- extends


def display_path(path: Path) -> str:
    """A path as shown in messages: relative to the working directory when inside it."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def load_recipe_tree(path: Path, display: str | None = None) -> Node:
    """Load a recipe and everything it extends, merged; values keep their sources."""
    display = display or str(path)
    text = read_text(Path(path), display)  # before anything resolves the path
    top_dir = _real(Path(path)).parent
    return _load_chain(Path(path), display, [], SOURCE_USER, top_dir, text)


def _real(path: Path) -> Path:
    """The canonical path, or the absolute one where it cannot be resolved."""
    try:
        return Path(os.path.realpath(path))
    except (OSError, ValueError, RuntimeError):
        return Path(os.path.abspath(path))


RECIPE_SUFFIXES = (".yaml", ".yml")


def _load_chain(path: Path, display: str, stack: list[Path], source: str,
                top_dir: Path, text: str) -> Node:
    real = _real(path)
    tree = parse(text, display, source, base_dir=real.parent)
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
    if not ext.value.endswith(RECIPE_SUFFIXES):
        raise _err(display, ext.pos.line, ext.pos.col, "FTC007",
                   "extends must name a recipe file (.yaml or .yml)")
    base_path = path.parent / ext.value
    base_display = os.path.normpath(os.path.join(os.path.dirname(display), ext.value))
    try:
        base_text = read_text(base_path, base_display)
    except FtcError as exc:
        rule = exc.diagnostics[0].rule
        reason = exc.diagnostics[0].message if rule != "FTC001" else "it is not UTF-8 text"
        missing = reason == "file not found"
        raise _err(display, ext.pos.line, ext.pos.col, "FTC007",
                   f"extends file not found: {ext.value}" if missing else
                   f"extends {ext.value}: {reason.removeprefix('cannot read the recipe: ')}",
                   "the path is relative to the file that extends it" if missing else None
                   ) from None
    chain = stack + [real]
    base_real = _real(base_path)
    if base_real in chain:
        names = " -> ".join([display_path(p) for p in chain] + [base_display])
        raise _err(display, where.line, where.col, "FTC007", f"extends cycle: {names}")
    label = os.path.relpath(base_real, top_dir)  # stable across machines
    base = _load_chain(base_path, base_display, chain, f"extends:{label}", top_dir, base_text)
    _require_recipe(base, ext, display)
    base.value.pop("abstract", None)  # being a base is not inherited
    return merge(base, tree)


def _require_recipe(base: Node, ext: Node, display: str) -> None:
    """A base must look like a recipe; otherwise say so without echoing any of its content."""
    if not set(base.value) & set(recipe_sections()):
        raise _err(display, ext.pos.line, ext.pos.col, "FTC007",
                   f"extends {ext.value}: not a recipe (it has none of the recipe's sections)",
                   "extends names another ftc recipe to build on")


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
    if any("\udc80" <= ch <= "\udcff" for ch in text):  # undecodable argv bytes
        raise _err(display, index, 1, "FTC008", "--set value is not valid UTF-8 text",
                   "check the shell quoting and the terminal's encoding")
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
