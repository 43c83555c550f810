"""The three example formats: detection, validation and normalization.

- messages:   {"messages": [{"role": "system"|"user"|"assistant", "content": str}, ...]}
- completion: {"prompt": str, "completion": str}
- preference: {"prompt": str, "chosen": str, "rejected": str}

Validation returns every problem of a row (not just the first), each with the
column of the offending key when the row came from a JSONL line.  A valid row
normalizes to exactly the keys above, in that order, so that the prepared
files load into one `datasets` schema.
"""

from __future__ import annotations

import difflib
import json

from ftc.dataprep.readers import Row
from ftc.dataprep.rules import problem
from ftc.diagnostics import Diagnostic

MESSAGES, COMPLETION, PREFERENCE = "messages", "completion", "preference"
FORMATS = (MESSAGES, COMPLETION, PREFERENCE)
FORMAT_KEYS = {
    MESSAGES: ("messages",),
    COMPLETION: ("prompt", "completion"),
    PREFERENCE: ("prompt", "chosen", "rejected"),
}
ROLES = ("system", "user", "assistant")
MESSAGE_KEYS = ("role", "content")
# Roles other tools use, with the name ftc expects.
ROLE_ALIASES = {"human": "user", "gpt": "assistant", "bot": "assistant", "model": "assistant",
                "ai": "assistant", "developer": "system"}


def detect(value: object) -> str | None:
    """The format a row looks like, from its keys; None when it looks like none."""
    if not isinstance(value, dict):
        return None
    if "messages" in value:
        return MESSAGES
    if "chosen" in value or "rejected" in value:
        return PREFERENCE
    if "prompt" in value or "completion" in value:
        return COMPLETION
    return None


def describe_keys(value: object) -> str:
    if isinstance(value, dict):
        return "keys " + (", ".join(sorted(map(str, value))) or "(none)")
    return f"a JSON {_type(value)[2:].lstrip()}"


def _type(value: object) -> str:
    """The JSON type of a value, with its article ("an array")."""
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
            int: "a number", float: "a number", type(None): "a null"}.get(
        type(value), f"a {type(value).__name__}")


def _col(row: Row, key: str) -> int:
    """Column of `"key"` in the row's JSONL source line, else the row's own column."""
    if row.raw:
        found = row.raw.find(json.dumps(key))
        if found >= 0:
            return found + 1
    return row.col


def validate(row: Row, fmt: str) -> list[Diagnostic]:
    """Every problem that keeps `row` from being a valid `fmt` example."""
    value = row.value
    if not isinstance(value, dict):
        return [problem("FTC305", row.path, row.line,
                        f"example must be a JSON object, got {_type(value)}", col=row.col)]
    found: list[Diagnostic] = []
    missing = [k for k in FORMAT_KEYS[fmt] if k not in value]
    if missing:
        found.append(problem(
            "FTC310" if fmt == MESSAGES else "FTC306", row.path, row.line,
            f"{fmt} example needs {' and '.join(repr(k) for k in FORMAT_KEYS[fmt])}; "
            f"missing {', '.join(repr(k) for k in missing)} (has {describe_keys(value)})",
            col=row.col))
    for key in value:
        if key not in FORMAT_KEYS[fmt]:
            close = difflib.get_close_matches(str(key), FORMAT_KEYS[fmt], n=1)
            found.append(problem(
                "FTC308", row.path, row.line, f"unrecognized key {key!r} is ignored",
                col=_col(row, str(key)), hint=f"did you mean {close[0]!r}?" if close else None))
    if fmt == MESSAGES and "messages" in value:
        found += _validate_messages(row, value["messages"], "messages", need_assistant=True)
    elif fmt in (COMPLETION, PREFERENCE):
        for key in FORMAT_KEYS[fmt]:
            if key in value:
                found += _validate_text(row, value, key, fmt)
        if fmt == PREFERENCE and value.get("chosen") == value.get("rejected") and "chosen" in value:
            found.append(problem("FTC319", row.path, row.line,
                                 "'chosen' and 'rejected' are identical: no preference to learn",
                                 col=_col(row, "rejected")))
    return found


def _validate_text(row: Row, value: dict, key: str, fmt: str) -> list[Diagnostic]:
    text = value[key]
    col = _col(row, key)
    if isinstance(text, list) and fmt == PREFERENCE:
        # conversational preference data (TRL): lists of messages
        return _validate_messages(row, text, key, need_assistant=key != "prompt")
    if not isinstance(text, str):
        return [problem("FTC315", row.path, row.line,
                        f"{key!r} must be a string, got {_type(text)}", col=col)]
    if not text.strip():
        if key == "prompt" and fmt == COMPLETION:
            return []  # plain continuation data has no prompt
        return [problem("FTC316", row.path, row.line, f"{key!r} is empty", col=col)]
    return []


def _validate_messages(row: Row, messages: object, key: str, *,
                       need_assistant: bool) -> list[Diagnostic]:
    col = _col(row, key)
    where = f"{key}[%d]"
    if not isinstance(messages, list):
        return [problem("FTC310", row.path, row.line,
                        f"{key!r} must be a list of {{role, content}} objects, "
                        f"got {_type(messages)}", col=col)]
    if not messages:
        return [problem("FTC310", row.path, row.line, f"{key!r} is an empty list", col=col)]
    found: list[Diagnostic] = []
    roles: list[str] = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            found.append(problem("FTC311", row.path, row.line,
                                 f"{where % i} must be an object, got {_type(message)}",
                                 col=col))
            continue
        role = message.get("role")
        if role is None:
            found.append(problem("FTC312", row.path, row.line,
                                 f"{where % i} has no 'role'", col=col))
        elif role not in ROLES:
            alias = ROLE_ALIASES.get(str(role).lower())
            close = alias or next(iter(difflib.get_close_matches(str(role), ROLES, n=1)), None)
            found.append(problem(
                "FTC312", row.path, row.line,
                f"{where % i} has unknown role {role!r} (expected system, user or assistant)",
                col=col, hint=f"use {close!r}" if close else None))
        else:
            roles.append(role)
        content = message.get("content")
        if content is None:
            found.append(problem("FTC313", row.path, row.line,
                                 f"{where % i} has no 'content'", col=col))
        elif not isinstance(content, str):
            found.append(problem("FTC315", row.path, row.line,
                                 f"{where % i}.content must be a string, got {_type(content)}",
                                 col=col))
        elif not content.strip():
            found.append(problem("FTC313", row.path, row.line,
                                 f"{where % i} has empty content", col=col))
        for extra in message:
            if extra not in MESSAGE_KEYS:
                found.append(problem("FTC308", row.path, row.line,
                                     f"unrecognized key {extra!r} in {where % i} is ignored",
                                     col=col))
    if need_assistant and len(roles) == len(messages):
        if "assistant" not in roles:
            found.append(problem("FTC314", row.path, row.line,
                                 f"{key!r} has no assistant message: nothing to learn", col=col))
        elif key == "messages" and roles[-1] != "assistant":
            found.append(problem(
                "FTC317", row.path, row.line,
                f"the last message is from {roles[-1]!r}; it is not trained on", col=col))
    return found


def normalize(value: dict, fmt: str) -> dict:
    """A valid row reduced to its format's keys, in a fixed order."""
    if fmt == MESSAGES:
        return {"messages": [{"role": m["role"], "content": m["content"]}
                             for m in value["messages"]]}
    out = {}
    for key in FORMAT_KEYS[fmt]:
        item = value[key]
        if isinstance(item, list):
            item = [{"role": m["role"], "content": m["content"]} for m in item]
        out[key] = item
    return out


def texts(example: dict, fmt: str) -> list[tuple[str, str]]:
    """(role or field, text) pairs of a normalized example, in order."""
    if fmt == MESSAGES:
        return [(m["role"], m["content"]) for m in example["messages"]]
    pairs: list[tuple[str, str]] = []
    for key in FORMAT_KEYS[fmt]:
        item = example[key]
        if isinstance(item, list):
            pairs += [(f"{key}.{m['role']}", m["content"]) for m in item]
        else:
            pairs.append((key, item))
    return pairs


def response(example: dict, fmt: str) -> str | None:
    """What the model is taught to answer: last assistant message, completion or chosen."""
    if fmt == MESSAGES:
        answers = [m["content"] for m in example["messages"] if m["role"] == "assistant"]
        return answers[-1] if answers else None
    item = example["completion" if fmt == COMPLETION else "chosen"]
    if isinstance(item, list):
        answers = [m["content"] for m in item if m["role"] == "assistant"]
        return answers[-1] if answers else None
    return item
