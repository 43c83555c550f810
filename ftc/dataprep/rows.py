"""One data row's JSON text -> a value every later stage can handle, or the reason it cannot.

`json.loads` alone accepts rows that break later stages or stop the reading:
NaN, Infinity and 1e999 (written back they make invalid JSON), integers over
Python's 4,300-digit limit (a ValueError that ends a .json array's reading),
nesting deep enough to exhaust the recursion limit in dedup or the tokenizer,
and `\\ud800` escapes (a lone surrogate cannot be written as UTF-8).  The
decoder marks the odd numbers instead of raising, so one odd row is rejected
with a reason code for rejected.jsonl and the reading goes on.
"""

from __future__ import annotations

import json
import math
import re

MAX_ROW_DEPTH = 64  # chat examples nest 4-6 deep; tool calls a few more
MAX_INT_DIGITS = 4300  # Python's int/str conversion limit
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class RowProblem(Exception):
    """Why a row is rejected: rule id, reason code (rejected.jsonl), message, column."""

    def __init__(self, rule: str, reason: str, message: str, col: int = 1):
        super().__init__(message)
        self.rule, self.reason, self.message, self.col = rule, reason, message, col


class _OddNumber:
    """Stands in for a number json would refuse, until check_value rejects the row."""

    def __init__(self, what: str):
        self.what = what


def _int(text: str) -> object:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        return _OddNumber(f"an integer with {digits:,} digits")
    return int(text)


def _float(text: str) -> object:
    value = float(text)
    return value if math.isfinite(value) else _OddNumber(f"{text[:20]}, too large for a float")


def _constant(name: str) -> object:
    return _OddNumber(f"{name}, which is not a JSON number")


DECODER = json.JSONDecoder(parse_int=_int, parse_float=_float, parse_constant=_constant)


def parse_row(text: str) -> object:
    """The row's value; RowProblem for invalid JSON and for the odd rows above."""
    try:
        value = DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise RowProblem("FTC301", "invalid_json", f"invalid JSON: {exc.msg}",
                         exc.colno) from None
    except RecursionError:
        raise RowProblem("FTC301", "nested_too_deeply",
                         f"invalid JSON: nested deeper than {MAX_ROW_DEPTH} levels") from None
    check_value(value)
    return value


def check_value(value: object) -> None:
    """Odd numbers, depth and lone surrogates, walked without recursion (rows may be deep)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_ROW_DEPTH:
            raise RowProblem("FTC301", "nested_too_deeply",
                             f"invalid JSON: nested deeper than {MAX_ROW_DEPTH} levels")
        if isinstance(item, _OddNumber):
            raise RowProblem("FTC301", "bad_number", f"invalid JSON: {item.what}")
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise RowProblem("FTC302", "lone_surrogate", "a string holds a lone surrogate "
                                 "(\\ud800-\\udfff): not valid Unicode text")
        elif isinstance(item, dict):
            stack.extend((k, depth + 1) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
