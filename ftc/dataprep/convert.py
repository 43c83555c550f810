"""A source's rows in the shape they have -> ftc's canonical formats.

Each source type (messages with field and role mappings, sharegpt, alpaca,
completion, preference, template) turns one row into a messages, completion or
preference example before any check runs, so the checks that follow (formats,
dedup, leakage, split, rejected.jsonl) see every source alike.  A row that cannot
be converted raises ConvertProblem, which the reader turns into a diagnostic at the
row and a rejected row with its reason.
"""

from __future__ import annotations

from ftc.source_spec import SHAREGPT_ROLES, TYPE_FIELDS, source_type, template_columns


class ConvertProblem(Exception):
    """Why one row cannot be converted: message, hint, reason code for rejected.jsonl."""

    def __init__(self, message: str, hint: str | None = None, reason: str = "missing_field"):
        super().__init__(message)
        self.message, self.hint, self.reason = message, hint, reason


def needs_conversion(spec: dict) -> bool:
    return source_type(spec) != "auto" or bool(spec.get("system_prompt"))


def convert(value: object, spec: dict) -> object:
    """The row in ftc's format for the spec's type (auto rows pass unchanged)."""
    kind = source_type(spec)
    if kind == "auto":
        return _with_system(value, spec) if isinstance(value, dict) else value
    if not isinstance(value, dict):
        raise ConvertProblem(f"a {kind} row must be an object", reason="not_an_object")
    return CONVERTERS[kind](value, spec)


def _fields(spec: dict, kind: str) -> dict[str, str]:
    return {**TYPE_FIELDS[kind], **(spec.get("fields") or {})}


def _column(value: dict, column: str, kind: str, key: str) -> object:
    if column not in value:
        has = ", ".join(sorted(map(str, value))) or "(none)"
        raise ConvertProblem(
            f"{kind} row has no column {column!r} (has {has})",
            hint=f"map it: fields: {{{key}: <column>}}")
    return value[column]


def _text(value: dict, column: str, kind: str, key: str, *, optional: bool = False) -> str:
    if optional and column not in value:
        return ""
    item = _column(value, column, kind, key)
    if item is None and optional:
        return ""
    if not isinstance(item, str):
        raise ConvertProblem(f"{kind} column {column!r} must be text, got "
                             f"{type(item).__name__}", reason="wrong_type")
    return item


def _messages_list(items: object, spec: dict, kind: str, fields: dict[str, str],
                   column: str) -> list:
    if not isinstance(items, list):
        raise ConvertProblem(f"{kind} column {column!r} must be a list of messages, got "
                             f"{type(items).__name__}", reason="wrong_type")
    roles = {**(SHAREGPT_ROLES if kind == "sharegpt" else {}), **(spec.get("roles") or {})}
    out = []
    for index, message in enumerate(items):
        if not isinstance(message, dict):
            out.append(message)  # the messages check names it
            continue
        if fields["role"] not in message or fields["content"] not in message:
            missing = fields["role"] if fields["role"] not in message else fields["content"]
            key = "role" if missing == fields["role"] else "content"
            raise ConvertProblem(
                f"{kind} message {column}[{index}] has no key {missing!r} (has "
                f"{', '.join(sorted(map(str, message)))})",
                hint=f"map it: fields: {{{key}: <key>}}")
        role = message[fields["role"]]
        out.append({"role": roles.get(role, role) if isinstance(role, str) else role,
                    "content": message[fields["content"]]})
    return out


def _system_of(value: dict, spec: dict, fields: dict[str, str]) -> str | None:
    column = fields.get("system")
    if column and isinstance(value.get(column), str) and value[column].strip():
        return value[column]
    return spec.get("system_prompt")


def _messages(value: dict, spec: dict, kind: str = "messages") -> dict:
    fields = _fields(spec, kind)
    column = fields["messages"]
    messages = _messages_list(_column(value, column, kind, "messages"), spec, kind, fields,
                              column)
    system = _system_of(value, spec, fields)
    if system and not any(isinstance(m, dict) and m.get("role") == "system"
                          for m in messages):
        messages = [{"role": "system", "content": system}, *messages]
    return {"messages": messages}


def _sharegpt(value: dict, spec: dict) -> dict:
    return _messages(value, spec, "sharegpt")


def _alpaca(value: dict, spec: dict) -> dict:
    fields = _fields(spec, "alpaca")
    instruction = _text(value, fields["instruction"], "alpaca", "instruction")
    extra = _text(value, fields["input"], "alpaca", "input", optional=True)
    output = _text(value, fields["output"], "alpaca", "output")
    user = f"{instruction}\n\n{extra}" if extra.strip() else instruction
    messages = [{"role": "user", "content": user}, {"role": "assistant", "content": output}]
    system = _system_of(value, spec, fields)
    if system:
        messages.insert(0, {"role": "system", "content": system})
    return {"messages": messages}


def _completion(value: dict, spec: dict) -> dict:
    fields = _fields(spec, "completion")
    given = spec.get("fields") or {}
    prompt_optional = "prompt" not in given  # plain text data has no prompt column
    return {"prompt": _text(value, fields["prompt"], "completion", "prompt",
                            optional=prompt_optional),
            "completion": _text(value, fields["completion"], "completion", "completion")}


def _preference(value: dict, spec: dict) -> dict:
    fields = {**_fields(spec, "preference"), "role": "role", "content": "content",
              **(spec.get("fields") or {})}
    out: dict = {"prompt": _text(value, fields["prompt"], "preference", "prompt",
                                 optional="prompt" not in (spec.get("fields") or {}))}
    for key in ("chosen", "rejected"):
        item = _column(value, fields[key], "preference", key)
        out[key] = _messages_list(item, spec, "preference", fields, fields[key]) \
            if isinstance(item, list) else item
    return out


def _template(value: dict, spec: dict) -> dict:
    fields = spec.get("fields") or {}
    if "prompt" not in fields or "completion" not in fields:
        raise ConvertProblem("a template source needs fields.prompt (a format string such "
                             "as 'Q: {question}') and fields.completion", reason="bad_template")
    out = {}
    for key in ("prompt", "completion"):
        text = fields[key]
        try:
            columns = template_columns(text)
        except ValueError as exc:
            raise ConvertProblem(str(exc), reason="bad_template") from None
        if not columns:  # a bare column name
            out[key] = _text(value, text, "template", key)
            continue
        for column in columns:
            _column(value, column, "template", key)
        out[key] = text.format_map({c: "" if value[c] is None else value[c] for c in columns})
    return out


def _with_system(value: dict, spec: dict) -> dict:
    system = spec.get("system_prompt")
    messages = value.get("messages")
    if not system or not isinstance(messages, list) or any(
            isinstance(m, dict) and m.get("role") == "system" for m in messages):
        return value
    return {**value, "messages": [{"role": "system", "content": system}, *messages]}


CONVERTERS = {"messages": _messages, "sharegpt": _sharegpt, "alpaca": _alpaca,
              "completion": _completion, "preference": _preference, "template": _template}
