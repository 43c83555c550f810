"""The curated provider recipes compile to typed job bodies and run against the local server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openai.types.fine_tuning.job_create_params import JobCreateParams

from tests.providers.sdk_types import mismatches

RECIPES = Path(__file__).resolve().parents[2] / "recipes"
PROVIDER_RECIPES = ["openai-gpt-4.1-mini-sft.yaml", "azure-openai-gpt-4.1-mini-sft.yaml"]


@pytest.mark.parametrize("name", PROVIDER_RECIPES)
def test_curated_provider_recipe_compiles_to_a_typed_job(ftc, tmp_path, name):
    code, out, err = ftc("compile", RECIPES / name, "-o", tmp_path / "b")
    assert code == 0, out + err
    body = json.loads((tmp_path / "b" / "job.json").read_text())
    assert mismatches(body, JobCreateParams) == []
    assert body["suffix"] == "support-desk" and body["validation_file"] == "validation.jsonl"
    lines = (tmp_path / "b" / "training.jsonl").read_bytes().decode("utf-8-sig").splitlines()
    assert len(lines) == 60 and any('"tool_calls"' in line for line in lines)


def test_ftc_run_on_the_openai_recipe_against_the_local_server(ftc, tmp_path, openai_server):
    code, out, err = ftc("run", RECIPES / "openai-gpt-4.1-mini-sft.yaml", "-o", tmp_path / "b",
                         "--poll-interval", "0.01", "--set", f"output_dir={tmp_path / 'runs'}")
    assert code == 0, out + err
    assert len(openai_server.calls("POST", "/files")) == 2
    assert len(openai_server.calls("POST", "/fine_tuning/jobs")) == 1
    assert "fine-tuned model: ft:gpt-4.1-mini-2025-04-14" in out
