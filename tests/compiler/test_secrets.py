"""Key-shaped strings in a recipe are found by kind, and never echoed."""

from __future__ import annotations

import pytest

from ftc.secrets import find_secret, redact

KEYS = [
    ("sk-proj-" + "aB3" * 16, "an OpenAI API key"),
    ("sk-" + "Q" * 48, "an OpenAI API key"),
    ("sk-ant-api03-" + "x" * 40, "an Anthropic API key"),
    ("0123456789abcdef0123456789abcdef", "an Azure OpenAI key"),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
     "an access token (JWT, e.g. an Azure AD token)"),
    ("hf_" + "a" * 34, "a Hugging Face token"),
    ("ghp_" + "A" * 36, "a GitHub token"),
    ("AKIA" + "ABCDEFGHIJKLMNOP", "an AWS access key id"),
]


@pytest.mark.parametrize("key,kind", KEYS)
def test_key_shapes_are_recognised(key, kind):
    assert find_secret(f"prefix {key} suffix") == (kind, key)
    assert key not in redact(f"got {key}", [key])


@pytest.mark.parametrize("text", [
    "meta-llama/Llama-3.1-8B", "0123456789abcdef0123456789abcdef01234567",  # a commit sha
    "data/train.jsonl", "sk-short", "support-bot-lora", "gpt-4.1-mini-2025-04-14"])
def test_ordinary_values_are_not_secrets(text):
    assert find_secret(text) is None


def test_a_key_from_set_is_refused_without_echo(recipe, ftc):
    key = "sk-proj-" + "Zz9" * 15
    code, out, _ = ftc("lint", recipe, "--set", f"name={key}")
    assert code == 1 and key not in out
    assert "--set:1:6: error: FTC015 name looks like an OpenAI API key" in out
