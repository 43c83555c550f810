"""Format detection and validation: each problem has its rule id, line and column."""

from __future__ import annotations

import json

import pytest

from ftc.dataprep import formats
from ftc.dataprep.readers import Row


def _check(value, fmt=None):
    raw = json.dumps(value)
    row = Row("d.jsonl", 7, value, raw=raw)
    found = formats.validate(row, fmt or formats.detect(value) or "messages")
    return [(d.rule, d.severity, d.col, d.message) for d in found]


def test_detection():
    assert formats.detect({"messages": []}) == "messages"
    assert formats.detect({"prompt": "p", "completion": "c"}) == "completion"
    assert formats.detect({"prompt": "p", "chosen": "a", "rejected": "b"}) == "preference"
    assert formats.detect({"text": "t"}) is None
    assert formats.detect(["a"]) is None


def test_valid_examples_have_no_problems_and_normalize_in_key_order():
    ex = {"messages": [{"content": "hi", "role": "user"}, {"content": "yo", "role": "assistant"}]}
    assert _check(ex) == []
    assert json.dumps(formats.normalize(ex, "messages")) == (
        '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}')
    assert _check({"completion": "c", "prompt": "p"}) == []
    assert list(formats.normalize({"completion": "c", "prompt": "p"}, "completion")) == [
        "prompt", "completion"]
    assert _check({"prompt": "p", "chosen": "a", "rejected": "b"}) == []


@pytest.mark.parametrize("value, expected", [
    (["not", "an", "object"],
     [("FTC305", "error", 1, "example must be a JSON object, got an array")]),
    ({"messages": "hello"},
     [("FTC310", "error", 2, "'messages' must be a list of {role, content} objects, "
                             "got a string")]),
    ({"messages": []}, [("FTC310", "error", 2, "'messages' is an empty list")]),
    ({"messages": ["hi"]}, [("FTC311", "error", 2, "messages[0] must be an object, got a string")]),
    ({"messages": [{"role": "human", "content": "hi"}, {"role": "assistant", "content": "x"}]},
     [("FTC312", "error", 2, "messages[0] has unknown role 'human' (expected system, user or "
                             "assistant)")]),
    ({"messages": [{"content": "hi"}]}, [("FTC312", "error", 2, "messages[0] has no 'role'")]),
    ({"messages": [{"role": "user"}, {"role": "assistant", "content": "x"}]},
     [("FTC313", "error", 2, "messages[0] has no 'content'")]),
    ({"messages": [{"role": "user", "content": "  "}, {"role": "assistant", "content": "x"}]},
     [("FTC313", "error", 2, "messages[0] has empty content")]),
    ({"messages": [{"role": "user", "content": ["parts"]}, {"role": "assistant", "content": "x"}]},
     [("FTC315", "error", 2, "messages[0].content must be a string, got an array")]),
    ({"messages": [{"role": "user", "content": "hi"}]},
     [("FTC314", "error", 2, "'messages' has no assistant message: nothing to learn")]),
    ({"messages": [{"role": "assistant", "content": "a"}, {"role": "user", "content": "q"}]},
     [("FTC317", "warning", 2, "the last message is from 'user'; it is not trained on")]),
    ({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}],
      "id": 3}, [("FTC308", "warning", 89, "unrecognized key 'id' is ignored")]),
    ({"prompt": "p"},
     [("FTC306", "error", 1, "completion example needs 'prompt' and 'completion'; "
                             "missing 'completion' (has keys prompt)")]),
    ({"prompt": "p", "completion": 3}, [("FTC315", "error", 17,
                                         "'completion' must be a string, got a number")]),
    ({"prompt": "p", "completion": ""}, [("FTC316", "error", 17, "'completion' is empty")]),
    ({"prompt": "p", "chosen": "a", "rejected": "a"},
     [("FTC319", "warning", 32, "'chosen' and 'rejected' are identical: no preference to learn")]),
])
def test_each_problem(value, expected):
    assert _check(value) == expected


def test_unknown_role_hints_the_expected_name():
    row = Row("d.jsonl", 1, {"messages": [{"role": "gpt", "content": "x"}]})
    (found,) = [d for d in formats.validate(row, "messages") if d.rule == "FTC312"]
    assert found.hint == "use 'assistant'"


def test_conversational_preference_pairs():
    value = {"prompt": [{"role": "user", "content": "q"}],
             "chosen": [{"role": "assistant", "content": "good"}],
             "rejected": [{"role": "assistant", "content": "bad"}]}
    assert _check(value) == []
    assert formats.response(formats.normalize(value, "preference"), "preference") == "good"
