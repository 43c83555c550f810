"""Secret-shaped strings: refused by key, never echoed, never written.

A token in a recipe or a --set is FTC015 (exit 1) naming the key; no output
format shows the value, and no bundle is written.  Tokens reach the runtime
only through the environment.  Detection is ftc/secret_scan.py (the one module).
"""

from __future__ import annotations

import pytest

from ftc.compiler import compile_recipe, write_bundle
from ftc.diagnostics import FtcError
from ftc.secret_scan import find_secret, redact, redact_data, whole_value_secret

TOKENS = {
    "a Hugging Face token": "hf_" + "aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3x",
    "an OpenAI key": "sk-proj-" + "Ab3De5Fg7Hi9Jk1Lm3No5Pq7Rs9Tu1Vw",
    "an AWS access key": "AKIA" + "IOSFODNN7EXAMPLE",
    "a GitHub token": "ghp_" + "aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5",
    "a W&B key": "local-" + "0123456789abcdef" * 2 + "01234567",
}
WHOLE_VALUE = {"an Azure OpenAI key": "0123456789abcdef" * 2,
               "a W&B API key": "0123456789abcdef" * 2 + "01234567"}
PLACES = ["name", "description", "model.base", "data.system_prompt",
          "hardware.slurm.partition", "hardware.slurm.account", "logging.project"]


@pytest.mark.parametrize("kind,token", list(TOKENS.items()))
def test_each_token_shape_is_found_and_redacted(kind, token):
    text = f"prefix {token} suffix"
    assert find_secret(text) == kind
    assert redact(text) == "prefix [REDACTED] suffix"


def test_bare_hex_counts_only_as_a_whole_value_or_when_named():
    commit = "0123456789abcdef" * 2 + "01234567"
    assert find_secret(f"trained at commit {commit}") is None
    assert whole_value_secret(commit) == "a W&B API key"
    assert find_secret(f"WANDB_API_KEY={commit}") == "a W&B API key"
    assert redact(f"api_key: {commit}") == "api_key: [REDACTED]"
    assert find_secret("sha256 " + "ab" * 32) is None and find_secret("task-1234") is None


def test_redact_data_walks_keys_and_values():
    token = TOKENS["a GitHub token"]
    assert redact_data({token: [token, 1, {"x": token}]}) == {
        "[REDACTED]": ["[REDACTED]", 1, {"x": "[REDACTED]"}]}


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("kind,token", list(TOKENS.items()) + list(WHOLE_VALUE.items()))
def test_a_token_anywhere_is_ftc015_and_never_echoed(recipe, ftc, tmp_path, place, kind, token):
    for fmt in ("text", "json", "github"):
        code, out, err = ftc("lint", "--format", fmt, recipe, "--set", f"{place}={token}")
        assert code == 1 and "FTC015" in out, (place, out)
        assert f"{place} holds a secret-shaped string ({kind})" in out.replace("\\u0026", "&")
        assert token not in out + err
    code, out, err = ftc("compile", recipe, "--set", f"{place}={token}", "-o", tmp_path / "b")
    assert code == 1 and token not in out + err and not (tmp_path / "b").exists()


def test_a_token_in_the_recipe_file_and_in_a_key(recipe, ftc):
    token = TOKENS["a Hugging Face token"]
    recipe.write_text(recipe.read_text() + f"description: use {token}\n{token}: 1\n")
    code, out, err = ftc("lint", recipe)
    assert code == 1 and out.count("FTC015") == 2 and "a key in the recipe holds" in out
    assert token not in out + err
    code, out, err = ftc("explain", recipe)
    assert code == 1 and token not in out + err


def test_commit_ids_are_not_secrets(recipe, ftc):
    commit = "0123456789abcdef" * 2 + "01234567"
    assert ftc("lint", recipe, "--set", f"model.revision={commit}")[0] == 0


def test_the_bundle_writer_refuses_what_slipped_through(recipe, tmp_path):
    result = compile_recipe(recipe)
    assert result.ok
    result.resolved.values["description"] = "key " + TOKENS["an OpenAI key"]
    with pytest.raises(FtcError) as err:
        write_bundle(result, tmp_path / "b")
    d = err.value.diagnostics[0]
    assert d.rule == "FTC015"
    assert d.message.startswith("recipe.lock.yaml would hold a secret-shaped string (an OpenAI")
    assert not (tmp_path / "b").exists()


# Kinds as the merged ftc/secret_scan.py names them (main's ftc/secrets.py said
# "an OpenAI API key", "an Anthropic API key", "an AWS access key id").
KEYS = [
    ("sk-proj-" + "aB3" * 16, "an OpenAI key"),
    ("sk-" + "Q" * 48, "an OpenAI key"),
    ("sk-ant-api03-" + "x" * 40, "an Anthropic key"),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
     "an access token (JWT, e.g. an Azure AD token)"),
    ("hf_" + "a" * 34, "a Hugging Face token"),
    ("ghp_" + "A" * 36, "a GitHub token"),
    ("AKIA" + "ABCDEFGHIJKLMNOP", "an AWS access key"),
]


@pytest.mark.parametrize("key,kind", KEYS)
def test_key_shapes_are_recognised(key, kind):
    assert find_secret(f"prefix {key} suffix") == kind
    assert key not in redact(f"got {key}", [key])
    assert key not in redact(f"got {key}")


def test_bare_azure_keys_count_as_whole_values():
    # main's ftc/secrets.py found a 32-hex Azure key anywhere in a text; merged, a
    # bare hex key counts only as a whole value (or named), as hashes look the same
    key = "0123456789abcdef0123456789abcdef"
    assert whole_value_secret(key) == "an Azure OpenAI key"
    assert find_secret(f"AZURE_OPENAI_API_KEY={key}") == "an Azure OpenAI key"
    assert key not in redact(f"got {key}", [key])
    assert whole_value_secret("aB3" * 28) == "an Azure OpenAI key"  # the 84-character form


@pytest.mark.parametrize("text", [
    "meta-llama/Llama-3.1-8B", "0123456789abcdef0123456789abcdef01234567",  # a commit sha
    "data/train.jsonl", "sk-short", "support-bot-lora", "gpt-4.1-mini-2025-04-14"])
def test_ordinary_values_are_not_secrets(text):
    assert find_secret(text) is None


def test_a_key_from_set_is_refused_without_echo(recipe, ftc):
    key = "sk-proj-" + "Zz9" * 15
    code, out, _ = ftc("lint", recipe, "--set", f"name={key}")
    assert code == 1 and key not in out
    assert "--set:1:6: error: FTC015 name holds a secret-shaped string (an OpenAI key)" in out
