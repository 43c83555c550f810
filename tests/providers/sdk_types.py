"""Check a request body against the openai SDK's own TypedDict parameter definitions.

`mismatches(value, JobCreateParams)` walks the SDK's type hints (Required,
Optional, Union, Literal, nested TypedDicts, lists, dicts) and returns every
place where the body does not fit: an unknown key, a missing required key, a
wrong type.  A field that the SDK renames or drops makes a test fail here.
"""

from __future__ import annotations

import collections.abc as cabc
import types
import typing
from typing import Any, get_args, get_origin, get_type_hints

from typing_extensions import NotRequired, Required, is_typeddict


def _unwrap(tp: Any) -> tuple[Any, bool]:
    """(the inner type, whether it was marked Required)."""
    required = False
    while get_origin(tp) in (Required, NotRequired, typing.Annotated):
        required |= get_origin(tp) is Required
        tp = get_args(tp)[0]
    return tp, required


def mismatches(value: Any, tp: Any, path: str = "body") -> list[str]:
    tp, _ = _unwrap(tp)
    if tp is Any or tp is object:
        return []
    if is_typeddict(tp):
        return _typeddict(value, tp, path)
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = [mismatches(value, arm, path) for arm in get_args(tp)]
        return [] if any(not o for o in options) else [f"{path}: {value!r} fits no arm of {tp}"]
    if origin is typing.Literal:
        return [] if value in get_args(tp) else [f"{path}: {value!r} not in {get_args(tp)}"]
    if tp is type(None):
        return [] if value is None else [f"{path}: expected null"]
    if origin in (list, cabc.Iterable, cabc.Sequence) or (
            origin is not None and getattr(origin, "__name__", "") == "SequenceNotStr"):
        if not isinstance(value, list):
            return [f"{path}: expected a list"]
        (item,) = get_args(tp) or (Any,)
        return [m for i, v in enumerate(value) for m in mismatches(v, item, f"{path}[{i}]")]
    if origin in (dict, cabc.Mapping):
        if not isinstance(value, dict):
            return [f"{path}: expected an object"]
        _, item = get_args(tp) or (Any, Any)
        return [m for k, v in value.items() for m in mismatches(v, item, f"{path}.{k}")]
    if tp is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        try:
            ok = isinstance(value, origin or tp)
        except TypeError:  # a generic alias such as IO[bytes]: not a JSON value
            ok = False
    return [] if ok else [f"{path}: {value!r} is not {tp.__name__}"]


def _typeddict(value: Any, tp: Any, path: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path}: expected an object ({tp.__name__})"]
    hints = get_type_hints(tp, include_extras=True)
    out = [f"{path}.{key}: not a field of {tp.__name__}" for key in value if key not in hints]
    for key, hint in hints.items():
        inner, required = _unwrap(hint)
        if key not in value:
            if required:
                out.append(f"{path}.{key}: required by {tp.__name__}, missing")
            continue
        out += mismatches(value[key], inner, f"{path}.{key}")
    return out
