"""One data row's JSON text -> a value every later stage can handle, or the reason it cannot.

`json.loads` alone accepts rows that break later stages or the whole run: NaN
and Infinity (not JSON; written back they make invalid JSON), integers over
Python's 4,300-digit limit (a ValueError, not a JSONDecodeError), nesting deep
enough to exhaust the recursion limit in dedup or the tokenizer, and `\\ud800`
escapes (a lone surrogate cannot be written as UTF-8).  Each becomes a
RowProblem with a reason code for rejected.jsonl, and the run goes on.
"""

from __future__ import annotations

import json
import re

MAX_ROW_DEPTH = 64  # chat examples nest 4-6 deep; tool calls a few more
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class RowProblem(Exception):
    """Why a row is rejected: rule id, reason code (rejected.jsonl), message, column."""

    def __init__(self, rule: str, reason: str, message: str, col: int = 1):
        super().__init__(message)
        self.rule, self.reason, self.message, self.col = rule, reason, message, col


def parse_row(text: str) -> object:
    """The row's value; RowProblem for invalid JSON and for the odd rows above."""
    try:
        value = json.loads(text, parse_constant=_not_json)
    except json.JSONDecodeError as exc:
        raise RowProblem("FTC301", "invalid_json", f"invalid JSON: {exc.msg}",
                         exc.colno) from None
    except RecursionError:
        raise RowProblem("FTC301", "nested_too_deeply",
                         f"invalid JSON: nested deeper than {MAX_ROW_DEPTH} levels") from None
    except ValueError as exc:  # a number json refuses: NaN/Infinity, or too many digits
        what = "an integer with more than 4,300 digits" if "digits" in str(exc) else str(exc)
        raise RowProblem("FTC301", "bad_number", f"invalid JSON: {what[:120]}") from None
    _check_value(value)
    return value


def _not_json(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _check_value(value: object) -> None:
    """Depth and lone surrogates, walked without recursion (the value may be deep)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_ROW_DEPTH:
            raise RowProblem("FTC301", "nested_too_deeply",
                             f"invalid JSON: nested deeper than {MAX_ROW_DEPTH} levels")
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise RowProblem("FTC302", "lone_surrogate", "a string holds a lone surrogate "
                                 "(\\ud800-\\udfff): not valid Unicode text")
        elif isinstance(item, dict):
            stack.extend((k, depth + 1) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
