"""One training example against the provider's documented JSONL rules.

OpenAI and Azure OpenAI take the same per-line formats:

- supervised (chat): {"messages": [...], "tools"?: [...], "parallel_tool_calls"?: bool}.
  Roles system/developer, user, assistant, tool; at most one system (or
  developer) message; assistant messages may carry `weight` 0 or 1 (1 is
  trained on) and `tool_calls` [{id, type: function, function: {name,
  arguments: JSON text}}]; a tool message answers an earlier call by
  `tool_call_id`; at least one assistant message with weight 1 to learn from.
- dpo (preference): {"input": {"messages": [...], "tools"?}, "preferred_output":
  [one assistant message], "non_preferred_output": [one assistant message]};
  the input ends with the turn the outputs answer (not an assistant message).

Each check returns (rule id, message, hint, key) findings; ftc.providers.data
turns them into diagnostics at the example's file:line (key: the JSON key whose
column to point at).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

Finding = tuple[str, str, str | None, str]

MESSAGE_KEYS = {
    "system": {"role", "content", "name"},
    "developer": {"role", "content", "name"},
    "user": {"role", "content", "name"},
    "assistant": {"role", "content", "name", "weight", "tool_calls", "refusal"},
    "tool": {"role", "content", "tool_call_id"},
}
CHAT_KEYS = {"messages", "tools", "parallel_tool_calls"}
PREFERENCE_KEYS = {"input", "preferred_output", "non_preferred_output"}
INSTRUCTION_ROLES = ("system", "developer")
PART_TYPES = {"text": "text", "image_url": "image_url"}


def check_chat(record: dict, roles: list[str], provider: str) -> list[Finding]:
    """Every rule a supervised (chat) example breaks."""
    found = list(_unknown_keys(record, CHAT_KEYS, f"{provider}'s chat format", "FTC374"))
    messages = record.get("messages")
    if not isinstance(messages, list) or not messages:
        return found + [("FTC374", "'messages' must be a non-empty list of messages", None,
                         "messages")]
    tools = _tool_names(record, found)
    found += _messages(messages, roles, tools, "messages", provider)
    trained = [m for m in messages if isinstance(m, dict) and m.get("role") == "assistant"
               and m.get("weight", 1) == 1]
    if not trained:
        found.append(("FTC373", "no assistant message with weight 1: nothing to learn from",
                      "end the conversation with the assistant's reply", "messages"))
    return found


def check_preference(record: dict, roles: list[str], provider: str) -> list[Finding]:
    """Every rule a DPO (preference) example breaks."""
    found = list(_unknown_keys(record, PREFERENCE_KEYS, f"{provider}'s preference format",
                               "FTC378"))
    given, tools = record.get("input"), None
    if not isinstance(given, dict) or not isinstance(given.get("messages"), list) \
            or not given["messages"]:
        found.append(("FTC378", "'input' must be an object with a non-empty 'messages' list",
                      None, "input"))
    else:
        found += _unknown_keys(given, CHAT_KEYS, "'input'", "FTC378")
        tools = _tool_names(given, found)
        found += _messages(given["messages"], roles, tools, "input.messages", provider)
        last = given["messages"][-1]
        if isinstance(last, dict) and last.get("role") == "assistant":
            found.append(("FTC378", "the input ends with an assistant message; the outputs "
                          "answer the last user (or tool) turn", None, "input"))
        found += _no_weights(given["messages"], "input.messages")
    outputs = []
    for key in ("preferred_output", "non_preferred_output"):
        value = record.get(key)
        if not (isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict)
                and value[0].get("role") == "assistant"):
            found.append(("FTC378", f"{key!r} must be a list of exactly one assistant "
                          "message", None, key))
            continue
        found += _messages(value, ["assistant"], tools, key, provider)
        found += _no_weights(value, key)
        outputs.append(value[0])
    if len(outputs) == 2 and _same(outputs[0], outputs[1]):
        found.append(("FTC379", "preferred and non-preferred outputs are identical: no "
                      "preference to learn", None, "non_preferred_output"))
    return found


def _same(a: dict, b: dict) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _unknown_keys(record: dict, allowed: set[str], where: str, rule: str) -> Iterator[Finding]:
    for key in record:
        if key not in allowed:
            hint = "'functions' is deprecated: describe them in 'tools'" \
                if key == "functions" else f"allowed: {', '.join(sorted(allowed))}"
            yield (rule, f"key {key!r} is not part of {where}", hint, str(key))


def _no_weights(messages: list, where: str) -> Iterator[Finding]:
    for i, m in enumerate(messages):
        if isinstance(m, dict) and "weight" in m:
            yield ("FTC376", f"{where}[{i}] has a weight: weights belong to supervised "
                   "examples, not preference pairs", None, "weight")


def _tool_names(record: dict, found: list[Finding]) -> set[str] | None:
    """Names of the functions in record['tools'] (None: no tools list); problems to found."""
    tools = record.get("tools")
    if tools is None:
        return None
    if not isinstance(tools, list):
        found.append(("FTC377", "'tools' must be a list", None, "tools"))
        return None
    names: set[str] = set()
    for i, tool in enumerate(tools):
        fn = tool.get("function") if isinstance(tool, dict) else None
        if not (isinstance(tool, dict) and tool.get("type") == "function"
                and isinstance(fn, dict) and isinstance(fn.get("name"), str) and fn["name"]):
            found.append(("FTC377", f"tools[{i}] must be {{\"type\": \"function\", "
                          "\"function\": {\"name\": ..., \"parameters\": {...}}}", None, "tools"))
            continue
        if "parameters" in fn and not isinstance(fn["parameters"], dict):
            found.append(("FTC377", f"tools[{i}].function.parameters must be a JSON Schema "
                          "object", None, "tools"))
        names.add(fn["name"])
    return names


def _messages(messages: list, roles: list[str], tools: set[str] | None, where: str,
              provider: str) -> list[Finding]:
    found: list[Finding] = []
    call_ids: set[str] = set()
    instructions = 0
    for i, message in enumerate(messages):
        at = f"{where}[{i}]"
        if not isinstance(message, dict):
            found.append(("FTC374", f"{at} must be an object", None, where.split(".")[0]))
            continue
        role = message.get("role")
        if role not in roles:
            found.append(("FTC374", f"{at} has role {role!r}; {provider} takes "
                          f"{', '.join(roles)}",
                          "'function' messages are deprecated: use tool" if role == "function"
                          else None, "role"))
            continue
        instructions += role in INSTRUCTION_ROLES
        for key in message:
            if key not in MESSAGE_KEYS[role]:
                hint = "use tool_calls" if key == "function_call" else None
                found.append(("FTC374", f"{at} ({role}) has key {key!r}, which {provider} "
                              "does not take there", hint, str(key)))
        found += _content(message, role, at)
        if "weight" in message and role == "assistant" and (
                isinstance(message["weight"], bool) or message["weight"] not in (0, 1)):
            found.append(("FTC376", f"{at}.weight must be 0 or 1 (got "
                          f"{json.dumps(message['weight'])})", "1 trains on the message, "
                          "0 keeps it as context only", "weight"))
        if role == "assistant" and "tool_calls" in message:
            found += _tool_calls(message["tool_calls"], at, tools, call_ids)
        if role == "tool" and message.get("tool_call_id") not in call_ids:
            found.append(("FTC377", f"{at} answers tool call "
                          f"{json.dumps(message.get('tool_call_id'))}, which no earlier "
                          "assistant message made", "set tool_call_id to the id of the call "
                          "it answers", "tool_call_id"))
    if instructions > 1:
        found.append(("FTC375", f"{where} has {instructions} system/developer messages; "
                      f"{provider} takes at most one", "merge them into one system message "
                      "at the start", "messages"))
    return found


def _content(message: dict, role: str, at: str) -> list[Finding]:
    content = message.get("content")
    if role == "assistant" and message.get("tool_calls") and content in (None, ""):
        return []
    if isinstance(content, str):
        return [] if content.strip() else [("FTC374", f"{at} has empty content", None,
                                            "content")]
    if isinstance(content, list) and content and role in ("user", "system", "developer"):
        for part in content:
            kind = part.get("type") if isinstance(part, dict) else None
            if kind not in PART_TYPES or not isinstance(part.get(PART_TYPES[kind]),
                                                        (str, dict)):
                return [("FTC374", f"{at}.content parts must be {{\"type\": \"text\", "
                         "\"text\": ...}} or {\"type\": \"image_url\", \"image_url\": {...}}",
                         None, "content")]
        return []
    what = "missing" if content is None else f"a JSON {type(content).__name__}"
    return [("FTC374", f"{at}.content must be a string (got {what})", None, "content")]


def _tool_calls(calls: object, at: str, tools: set[str] | None,
                call_ids: set[str]) -> list[Finding]:
    if not isinstance(calls, list) or not calls:
        return [("FTC377", f"{at}.tool_calls must be a non-empty list", None, "tool_calls")]
    found: list[Finding] = []
    for j, call in enumerate(calls):
        where = f"{at}.tool_calls[{j}]"
        fn = call.get("function") if isinstance(call, dict) else None
        if not (isinstance(call, dict) and isinstance(call.get("id"), str) and call["id"]
                and call.get("type") == "function" and isinstance(fn, dict)
                and isinstance(fn.get("name"), str)):
            found.append(("FTC377", f"{where} must be {{\"id\": ..., \"type\": \"function\", "
                          "\"function\": {\"name\": ..., \"arguments\": \"{...}\"}}",
                          None, "tool_calls"))
            continue
        call_ids.add(call["id"])
        arguments = fn.get("arguments")
        if not isinstance(arguments, str) or not _json_object(arguments):
            found.append(("FTC377", f"{where}.function.arguments must be a JSON object "
                          "encoded as a string", "e.g. \"{\\\"city\\\": \\\"Paris\\\"}\"",
                          "arguments"))
        if tools is not None and fn["name"] not in tools:
            found.append(("FTC377", f"{where} calls {fn['name']!r}, which is not in 'tools'",
                          None, "tool_calls"))
    return found


def _json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False
