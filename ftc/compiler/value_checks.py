"""Checks on every recipe value that JSON Schema keywords cannot express.

NaN and infinity satisfy every numeric bound (each comparison is false), and a
control character or newline in a name, path or hub id would end up as a line
of launch.sh or slurm.sbatch.  So every number must be finite, and only the
free-text keys below may span lines; no string may hold a lone surrogate (it
cannot be written as UTF-8).  A secret-shaped string (FTC015) would be copied
into every bundle file, so it is refused, by key and never by value.  Map keys
are checked too: they are echoed in "unknown key" messages.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

from ftc.compiler.loader import Node
from ftc.diagnostics import ERROR, Diagnostic
from ftc.dotted import dotted_name
from ftc.secret_scan import find_secret, whole_value_secret

# Free text that may hold newlines and tabs (never shell-quoted into a script line).
MULTILINE_KEYS = frozenset({"description", "data.system_prompt", "model.chat_template"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Commit ids are 40 hex digits, like a W&B key: here only prefixed tokens count.
REVISION_KEYS = frozenset({"model.revision", "method.distill.teacher_revision"})
SECRET_HINT = ("remove it (and rotate it if this file left your machine): tokens reach the "
               "runtime only through the environment (HF_TOKEN, OPENAI_API_KEY, "
               "AZURE_OPENAI_API_KEY, AZURE_OPENAI_AD_TOKEN or Azure AD, WANDB_API_KEY, ...)")


def value_problems(tree: Node) -> list[Diagnostic]:
    """FTC014 for non-finite numbers, control characters and lone surrogates."""
    out: list[Diagnostic] = []
    for path, node, key in _walk(tree):
        name = dotted_name(path)
        if key is not None:
            reason = _text_problem(key, _CONTROL)
            if reason:
                where = node.key_pos or node.pos
                out.append(_diag(where, f"a key in {name if path else 'the recipe'} {reason}",
                                 "keys are plain names such as model or learning_rate"))
            continue
        value = node.value
        if isinstance(value, float) and not math.isfinite(value):
            shown = ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
            out.append(_diag(node.pos, f"{name} must be a finite number (got {shown})"))
        elif isinstance(value, str):
            dotted = ".".join(p for p in path if isinstance(p, str))
            allowed = _CONTROL_MULTILINE if dotted in MULTILINE_KEYS else _CONTROL
            reason = _text_problem(value, allowed)
            if reason:
                hint = None if dotted in MULTILINE_KEYS else (
                    "only description, data.system_prompt and model.chat_template may "
                    "span lines")
                out.append(_diag(node.pos, f"{name} {reason}", hint))
    return out


def secret_problems(tree: Node) -> list[Diagnostic]:
    """FTC015 for each key or value that looks like a token; the value is never shown."""
    return scan_tree(tree)[0]


def scan_tree(tree: Node) -> tuple[list[Diagnostic], list[str]]:
    """FTC015 per secret-shaped key or string value, and the secrets found.

    The secrets found are for `redact` (ftc.secret_scan): other diagnostics about
    the same key or value (e.g. an unknown key named like a token) must not echo it.
    """
    out: list[Diagnostic] = []
    found: list[str] = []
    for path, node, key in _walk(tree):
        name = dotted_name(path)
        if key is not None:
            text = key
            kind = whole_value_secret(key)
            where, what = node.key_pos or node.pos, f"a key in {name if path else 'the recipe'}"
        elif isinstance(node.value, str):
            text = node.value
            dotted = ".".join(p for p in path if isinstance(p, str))
            scan = find_secret if dotted in REVISION_KEYS else whole_value_secret
            kind, where, what = scan(node.value), node.pos, name
        else:
            continue
        if kind:
            found.append(text.strip())
            out.append(Diagnostic(where.path, where.line, where.col, ERROR, "FTC015",
                                  f"{what} holds a secret-shaped string ({kind}); ftc does "
                                  "not copy secrets into bundles", SECRET_HINT))
    return out, found


def _text_problem(text: str, control: re.Pattern[str]) -> str | None:
    if _SURROGATE.search(text):
        return "holds a lone surrogate (not valid Unicode text)"
    match = control.search(text)
    if match:
        return f"holds a control character (U+{ord(match.group()):04X})"
    return None


def _walk(tree: Node) -> Iterator[tuple[list, Node, str | None]]:
    """(path, node, None) for every scalar and (path, child, key) for every map key."""
    stack: list[tuple[list, Node]] = [([], tree)]
    while stack:
        path, node = stack.pop()
        if node.kind == "map":
            for key, child in node.value.items():
                yield path, child, key
                stack.append((path + [key], child))
        elif node.kind == "seq":
            stack.extend((path + [i], child) for i, child in enumerate(node.value))
        else:
            yield path, node, None


def _diag(pos, message: str, hint: str | None = None) -> Diagnostic:
    return Diagnostic(pos.path, pos.line, pos.col, ERROR, "FTC014", message, hint)
