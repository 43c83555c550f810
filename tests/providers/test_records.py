"""The provider's documented JSONL rules, one test (or case) per rule."""

from __future__ import annotations

import json

import pytest

from ftc.providers.records import check_chat, check_preference
from tests.providers.conftest import chat, write_jsonl

ROLES = ["system", "developer", "user", "assistant", "tool"]
TOOLS = [{"type": "function", "function": {"name": "lookup_order", "parameters": {
    "type": "object", "properties": {"order": {"type": "string"}}}}}]


def ids(findings) -> list[str]:
    return [f[0] for f in findings]


def call(args: str = '{"order": "1001"}', name: str = "lookup_order", cid: str = "call_1"):
    return {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}


def tool_chat(**changes) -> dict:
    messages = [{"role": "user", "content": "Where is order 1001?"},
                {"role": "assistant", "tool_calls": [call()]},
                {"role": "tool", "tool_call_id": "call_1", "content": '{"status": "shipped"}'},
                {"role": "assistant", "content": "It has shipped."}]
    record = {"messages": messages, "tools": TOOLS}
    record.update(changes)
    return record


def test_a_plain_chat_and_a_tool_call_chat_are_valid():
    assert check_chat(chat(1), ROLES, "OpenAI") == []
    assert check_chat(tool_chat(), ROLES, "OpenAI") == []
    assert check_chat(tool_chat(parallel_tool_calls=False), ROLES, "OpenAI") == []


@pytest.mark.parametrize("message,rule", [
    ({"role": "function", "content": "x"}, "FTC374"),  # role not taken
    ({"role": "bot", "content": "x"}, "FTC374"),
    ({"role": "user", "content": "x", "weight": 1}, "FTC374"),  # key not taken on user
    ({"role": "user", "content": ""}, "FTC374"),  # empty content
    ({"role": "user"}, "FTC374"),  # missing content
    ({"role": "user", "content": 5}, "FTC374"),
])
def test_roles_keys_and_content(message, rule):
    record = {"messages": [message, {"role": "assistant", "content": "ok"}]}
    assert rule in ids(check_chat(record, ROLES, "OpenAI"))


def test_unknown_top_level_key_and_deprecated_functions():
    found = check_chat({**chat(1), "functions": []}, ROLES, "OpenAI")
    assert ids(found) == ["FTC374"] and "deprecated" in found[0][2]


def test_at_most_one_system_message():
    record = chat(1)
    record["messages"].insert(1, {"role": "developer", "content": "Be brief."})
    found = check_chat(record, ROLES, "OpenAI")
    assert ids(found) == ["FTC375"] and "2 system/developer messages" in found[0][1]


@pytest.mark.parametrize("weight,ok", [(0, True), (1, True), (0.5, False), (2, False),
                                       (True, False), ("1", False)])
def test_assistant_weight_is_0_or_1(weight, ok):
    record = {"messages": [{"role": "user", "content": "q"},
                           {"role": "assistant", "content": "a", "weight": weight},
                           {"role": "user", "content": "q2"},
                           {"role": "assistant", "content": "b"}]}
    assert (ids(check_chat(record, ROLES, "OpenAI")) == []) is ok


def test_all_assistant_messages_weighted_out_leaves_nothing_to_learn():
    record = {"messages": [{"role": "user", "content": "q"},
                           {"role": "assistant", "content": "a", "weight": 0}]}
    assert ids(check_chat(record, ROLES, "OpenAI")) == ["FTC373"]


@pytest.mark.parametrize("change,fragment", [
    ({"tools": [{"type": "function", "function": {}}]}, "tools[0] must be"),
    ({"tools": {"lookup_order": {}}}, "'tools' must be a list"),
])
def test_tools_list_shape(change, fragment):
    found = check_chat(tool_chat(**change), ROLES, "OpenAI")
    assert "FTC377" in ids(found) and any(fragment in f[1] for f in found)


@pytest.mark.parametrize("assistant,fragment", [
    ({"role": "assistant", "tool_calls": [call(args="{not json")]},
     "arguments must be a JSON object encoded as a string"),
    ({"role": "assistant", "tool_calls": [call(args={"order": "1"})]}, "arguments must be"),
    ({"role": "assistant", "tool_calls": [call(name="refund")]}, "calls 'refund', which is not"),
    ({"role": "assistant", "tool_calls": [{"type": "function"}]}, "must be {\"id\""),
    ({"role": "assistant", "tool_calls": []}, "tool_calls must be a non-empty list"),
])
def test_tool_calls(assistant, fragment):
    record = tool_chat()
    record["messages"][1] = assistant
    found = check_chat(record, ROLES, "OpenAI")
    assert "FTC377" in ids(found) and any(fragment in f[1] for f in found), found


def test_a_tool_message_must_answer_an_earlier_call():
    record = tool_chat()
    record["messages"][2]["tool_call_id"] = "call_9"
    found = check_chat(record, ROLES, "OpenAI")
    assert ids(found) == ["FTC377"] and "no earlier assistant message made" in found[0][1]


def native_pair(**changes) -> dict:
    record = {"input": {"messages": [{"role": "user", "content": "Where is my order?"}]},
              "preferred_output": [{"role": "assistant", "content": "It ships today."}],
              "non_preferred_output": [{"role": "assistant", "content": "No idea."}]}
    record.update(changes)
    return record


def test_preference_format():
    assert check_preference(native_pair(), ROLES, "OpenAI") == []
    two = [{"role": "assistant", "content": "a"}, {"role": "assistant", "content": "b"}]
    cases = {
        "preferred_output": two,  # exactly one message
        "non_preferred_output": [{"role": "user", "content": "x"}],  # an assistant message
        "input": {"messages": []},
        "extra": 1,
    }
    for key, value in cases.items():
        assert "FTC378" in ids(check_preference(native_pair(**{key: value}), ROLES, "OpenAI")), key
    ends_with_answer = native_pair(input={"messages": [
        {"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]})
    assert ids(check_preference(ends_with_answer, ROLES, "OpenAI")) == ["FTC378"]


def test_preference_without_weights_and_with_different_outputs():
    weighted = native_pair(preferred_output=[{"role": "assistant", "content": "a",
                                              "weight": 1}])
    assert "FTC376" in ids(check_preference(weighted, ROLES, "OpenAI"))
    same = native_pair(non_preferred_output=[{"role": "assistant", "content": "It ships today."}])
    assert ids(check_preference(same, ROLES, "OpenAI")) == ["FTC379"]


def test_lint_points_at_the_file_line_and_key_column(tmp_path, write):
    from ftc.cli import main

    rows = [chat(i) for i in range(12)]
    rows[4] = {"messages": [{"role": "user", "content": "q"},
                            {"role": "assistant", "content": "a", "weight": 3}]}
    rows[7] = {"prompt": "q", "chosen": "a", "rejected": "b"}
    write_jsonl(tmp_path / "t.jsonl", rows)
    recipe = write("r.yaml", """\
        name: d
        model: {base: gpt-4.1-mini}
        method: {kind: lora}
        data: {train: t.jsonl, format: messages, split: {train: 1.0, validation: 0.0, test: 0.0}}
        backend: {kind: openai}
        """)
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["lint", str(recipe)]) == 1
    out = buf.getvalue()
    col = json.dumps(rows[4]).index('"weight"') + 1
    assert f"t.jsonl:5:{col}: error: FTC376" in out
    assert "t.jsonl:8:1: error: FTC381 a preference example cannot train a supervised job" in out
