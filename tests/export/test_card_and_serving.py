"""The model card (README.md) and serving files written beside an export."""

from __future__ import annotations

import json

import pytest
import yaml

from .conftest import cli, fake_run


def front_matter(text: str) -> dict:
    assert text.startswith("---\n")
    head, _ = text[4:].split("\n---\n", 1)
    return yaml.safe_load(head)


@pytest.fixture(scope="module")
def run_with_card(lora_adapter, tmp_path_factory):
    """A finished run whose recipe gives card metadata; exported as its lock says."""
    run = fake_run(tmp_path_factory.mktemp("card") / "run-1", lora_adapter)
    lock = json.loads((run / "recipe.lock.yaml").read_text())
    lock["export"]["model_card"] = {"license": "apache-2.0", "language": "en",
                                    "tags": ["support"], "base_model": "org/tiny-llama",
                                    "datasets": ["org/tickets"],
                                    "intended_use": "Routing support tickets."}
    (run / "recipe.lock.yaml").write_text(json.dumps(lock))
    code, out, err = cli("export", run)
    assert code == 0, err
    return run


def test_card_front_matter_has_the_keys_the_hub_reads(run_with_card):
    from huggingface_hub import ModelCard

    text = (run_with_card / "export" / "README.md").read_text()
    meta = front_matter(text)
    assert meta["base_model"] == "org/tiny-llama"
    assert meta["library_name"] == "peft"  # not merged: the card is for the adapter
    assert meta["license"] == "apache-2.0" and meta["language"] == ["en"]
    assert meta["datasets"] == ["org/tickets"] and meta["pipeline_tag"] == "text-generation"
    assert {"ftc", "lora", "support"} <= set(meta["tags"])
    card = ModelCard(text)  # huggingface_hub's own parser: metadata and eval results
    assert card.data.license == "apache-2.0" and card.data.base_model == "org/tiny-llama"
    results = {r.metric_name: r.metric_value for r in card.data.eval_results}
    assert results == {"validation loss": 3.3, "validation perplexity": pytest.approx(27.1126),
                       "test loss": 3.4}


def test_card_body_has_training_evaluation_and_intended_use(run_with_card):
    text = (run_with_card / "export" / "README.md").read_text()
    for piece in ("# demo", "Sorts support tickets.", "## Training", "| steps | 12 |",
                  "| learning rate | 0.002 |", "## Evaluation",
                  "| validation loss | 6.8000 | 3.3000 |", "| test loss | | 3.4000 |",
                  "## Intended use", "Routing support tickets.", "SERVING.md"):
        assert piece in text, piece


def test_adapter_serving_uses_the_base_with_lora(run_with_card, lora_adapter):
    text = (run_with_card / "export" / "SERVING.md").read_text()
    assert "--enable-lora" in text and "--lora-modules demo=../adapter" in text
    assert str(json.loads((lora_adapter / "adapter_config.json").read_text())[
        "base_model_name_or_path"]) in text
    assert "--lora-adapters demo=/adapter" in text  # TGI
    assert not (run_with_card / "export" / "Modelfile").exists()  # no GGUF, no Modelfile


def test_gguf_export_writes_modelfile_with_the_chat_template(lora_adapter, tmp_path):
    code, _, err = cli("export", lora_adapter, "--gguf", "q8_0", "--no-check", "-o",
                       tmp_path / "o")
    assert code == 0, err
    modelfile = (tmp_path / "o" / "Modelfile").read_text()
    assert modelfile.startswith("FROM ./adapter-q8_0.gguf\n")
    assert "<|im_start|>{{ .Role }}" in modelfile  # the tiny model's template is ChatML
    assert 'PARAMETER stop "<|im_end|>"' in modelfile
    serving = (tmp_path / "o" / "SERVING.md").read_text()
    assert "llama-server -m adapter-q8_0.gguf" in serving
    assert "ollama create adapter -f Modelfile" in serving
    meta = front_matter((tmp_path / "o" / "README.md").read_text())
    assert "gguf" in meta["tags"] and "base_model" not in meta  # a local base: named in text


def test_no_card_when_the_recipe_says_so(lora_adapter, tmp_path):
    code, _, err = cli("export", lora_adapter, "--no-card", "-o", tmp_path / "o")
    assert code == 0, err
    assert not (tmp_path / "o" / "README.md").exists()
    assert (tmp_path / "o" / "SERVING.md").exists()
