"""Every path a recipe names, checked before anything resolves or opens it.

A path may be missing (fine at compile time: FTC120 warns, hub ids look like
that), but it may not be something ftc must never open: a FIFO, a device, a
directory where a file belongs, a symlink loop, a name too long for the
system, or `~nosuchuser`.  Each is an FTC009 error at the value, so that the
later stages (resolve, lint, fit, emit) meet only paths that are safe to stat
and read.  A custom DeepSpeed config is also read and checked here, so that
`ftc lint` reports what `ftc compile` would refuse.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

from ftc.compiler.loader import Node
from ftc.diagnostics import ERROR, Diagnostic
from ftc.dotted import dotted_name
from ftc.providers import PROVIDER_KINDS
from ftc.safe_files import FileProblem, expand, kind_of, stat_path

# What each path key must be when it exists.
FILE_KEYS = ("method.distill.generate.prompts", "method.distill.generate.output",
             "hardware.deepspeed_config")
# A data source is a file or a folder (data files, a hub-style repo, a save_to_disk folder).
DATA_KEYS = ("data.train", "data.validation", "data.test")
DIR_KEYS = ("model.base", "model.tokenizer", "method.distill.teacher",
            "method.rlhf.reward_model", "output_dir")
ADAPTER_FILE_KEYS = ("train", "validation")


def path_problems(tree: Node) -> list[Diagnostic]:
    """FTC009 for each path value that names something unusable."""
    out = []
    backend = tree.find(("backend", "kind"))
    provider = backend is not None and backend.value in PROVIDER_KINDS
    for path, node, want_dir in _path_nodes(tree):
        # a provider backend never reads a DeepSpeed config (FTC140 says so): only its kind
        if path == ["hardware", "deepspeed_config"] and not provider:
            message = _deepspeed_problem(node)  # compile copies it: it must be there
        else:
            message = _problem(node, want_dir)
        if message:
            out.append(Diagnostic(node.pos.path, node.pos.line, node.pos.col, ERROR, "FTC009",
                                  f"{dotted_name(path)} {_shown(node.value)}: {message}"))
    return out


def _path_nodes(tree: Node) -> Iterator[tuple[list, Node, bool | None]]:
    """(key path, scalar node, whether it names a directory) for every path value."""
    for dotted, want_dir in [(k, False) for k in FILE_KEYS] + [(k, True) for k in DIR_KEYS]:
        parts: list = dotted.split(".")
        yield from _scalars(parts, tree.find(tuple(parts)), want_dir)
    for dotted in DATA_KEYS:
        parts = dotted.split(".")
        yield from _scalars(parts, tree.find(tuple(parts)), None)
    adapters = tree.find(("method", "adapter", "adapters"))
    if adapters is not None and adapters.kind == "seq":
        for index, item in enumerate(adapters.value):
            for key in ADAPTER_FILE_KEYS:
                parts = ["method", "adapter", "adapters", index, key]
                yield from _scalars(parts, item.get(key), False)


def _scalars(parts: list, node: Node | None, want_dir: bool | None):
    if node is None:
        return
    if node.kind == "scalar" and isinstance(node.value, str):
        yield parts, node, want_dir
    elif node.kind == "seq":
        for index, child in enumerate(node.value):
            if child.kind == "map":  # a data source: its path
                child, where = child.get("path"), parts + [index, "path"]
            else:
                where = parts + [index]
            if child is not None and child.kind == "scalar" and isinstance(child.value, str):
                yield where, child, want_dir


def local_path(node: Node) -> Path:
    """Where a path value points: relative to the file (or --set's directory) that set it."""
    path = expand(node.value)
    return path if path.is_absolute() or node.base_dir is None else node.base_dir / path


def _problem(node: Node, want_dir: bool | None) -> str | None:
    """want_dir: True a directory (or file), False a regular file, None either."""
    try:
        mode = stat_path(local_path(node)).st_mode
    except FileProblem as exc:
        return None if exc.missing else exc.reason
    if want_dir is None:
        return None if stat.S_ISDIR(mode) or stat.S_ISREG(mode) else \
            f"is {kind_of(mode)}, not a file or folder"
    if want_dir and not stat.S_ISDIR(mode) and not stat.S_ISREG(mode):
        return f"is {kind_of(mode)}, not a directory"
    if not want_dir and not stat.S_ISREG(mode):
        return f"is {kind_of(mode)}, not a regular file"
    return None


def _deepspeed_problem(node: Node) -> str | None:
    from ftc.compiler.emit.deepspeed_config import CustomConfigError, read_custom

    try:
        read_custom(local_path(node))
    except FileProblem as exc:
        return exc.reason
    except CustomConfigError as exc:
        return str(exc)
    return None


def _shown(value: str) -> str:
    return json.dumps(value if len(value) <= 60 else value[:57] + "...")
