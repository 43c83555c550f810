"""Provider tests: recipes with small chat data, the CLI in-process, a fake provider server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.compiler import conftest as compiler_fixtures
from tests.providers.fake_provider import FakeProvider

# The compiler tests' fixtures: write(name, text) -> Path, ftc(*argv) -> (code, out, err).
write = compiler_fixtures.write
ftc = compiler_fixtures.ftc


def chat(i: int, **extra) -> dict:
    return {"messages": [{"role": "system", "content": "You sort support tickets."},
                         {"role": "user", "content": f"My order #{1000 + i} has not arrived."},
                         {"role": "assistant", "content": f"Category: shipping ({i})"}], **extra}


def pair(i: int) -> dict:
    return {"prompt": f"Where is order #{1000 + i}?", "chosen": f"It ships today ({i}).",
            "rejected": "No idea."}


def write_jsonl(path: Path, rows: list) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


RECIPE = """\
name: support-openai
model:
  base: gpt-4.1-mini
method:
  kind: lora
data:
  train: data/train.jsonl
  validation: data/validation.jsonl
backend:
  kind: openai
"""


@pytest.fixture
def recipe(write, tmp_path: Path) -> Path:
    """An OpenAI supervised recipe with 60 training and 10 validation chats."""
    write_jsonl(tmp_path / "data" / "train.jsonl", [chat(i) for i in range(60)])
    write_jsonl(tmp_path / "data" / "validation.jsonl", [chat(100 + i) for i in range(10)])
    return write("recipe.yaml", RECIPE)


@pytest.fixture
def openai_server(monkeypatch):
    """A fake OpenAI API; the SDK finds it through OPENAI_BASE_URL."""
    with FakeProvider() as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.url)
        monkeypatch.setenv("OPENAI_API_KEY", "test-key-not-secret")
        yield fake


@pytest.fixture
def azure_server(monkeypatch):
    """A fake Azure OpenAI resource; the SDK finds it through AZURE_OPENAI_ENDPOINT."""
    with FakeProvider(azure=True) as fake:
        monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", fake.url)
        monkeypatch.setenv("AZURE_OPENAI_API_KEY", "azure-test-key")
        for name in ("OPENAI_API_VERSION", "AZURE_OPENAI_AD_TOKEN", "OPENAI_BASE_URL"):
            monkeypatch.delenv(name, raising=False)
        yield fake
