"""What the curated recipes' comments say about memory holds for the estimator, and what
`ftc recommend` / `ftc new` pick fits the named GPU (no FTC401, no FTC406)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ftc.compiler import compile_recipe

RECIPES = Path(__file__).resolve().parents[2] / "recipes"
CLAIM = re.compile(r"^# Hardware:\s+(\d+) x (\S+?)[,;. ]", re.M)
FIT_RULES = {"FTC401", "FTC402", "FTC406"}


def claims() -> list[tuple[Path, int, str]]:
    out = []
    for path in sorted(RECIPES.glob("*.yaml")):
        match = CLAIM.search(path.read_text(encoding="utf-8"))
        if match:
            out.append((path, int(match.group(1)), match.group(2)))
    return out


def fit_problems(path: Path, overrides: list[str]) -> list[str]:
    result = compile_recipe(path, [*overrides, "hardware.fit=check"])
    assert result.resolved is not None, result.diagnostics
    return [d.text() for d in result.diagnostics if d.rule in FIT_RULES]


def test_there_are_claims_to_check():
    assert len(claims()) >= 8


@pytest.mark.parametrize("path,gpus,gpu", claims(), ids=lambda v: getattr(v, "name", str(v)))
def test_each_recipe_fits_the_hardware_its_comment_names(path, gpus, gpu):
    overrides = [f"hardware.gpu={gpu}"]
    assert fit_problems(path, overrides) == []


def test_the_qlora_recipe_fits_one_24gb_gpu_as_it_says():
    path = RECIPES / "llama-3.1-8b-qlora.yaml"
    assert "fits one 24 GB GPU" in path.read_text()
    said = re.search(r"((?:--set \S+\s+(?:#\s+)?)+)fits one 24 GB GPU", path.read_text())
    overrides = re.findall(r"--set (\S+)", said.group(1))
    assert overrides[:2] == ["hardware.gpus=1", "hardware.strategy=none"]
    assert fit_problems(path, [*overrides, "hardware.gpu_memory=24GB"]) == []


def test_recommend_falls_back_until_the_approach_fits(capsys):
    from ftc.memory.gpus import lookup_gpu
    from ftc.memory.recommend import Inputs, recommend

    t4 = lookup_gpu("T4").memory_bytes
    rec = recommend(Inputs(examples=100_000, gpu_memory=t4, gpu_label="T4",
                           base_model="meta-llama/Llama-3.1-70B"))
    assert rec.approach == "qlora"  # not 16-bit LoRA of a 70B model on a 15 GiB card
    assert "no single-GPU approach fits" in rec.steps[-1].reason
    rec = recommend(Inputs(examples=100_000, gpu_memory=t4, gpu_label="T4",
                           base_model="meta-llama/Llama-3.1-8B"))
    assert rec.approach == "qlora" and rec.steps[-1].question == "does lora fit the GPU?"


def test_new_for_an_l4_writes_a_recipe_without_a_tight_fit(tmp_path, capsys):
    from ftc.cli import main

    out = tmp_path / "r.yaml"
    code = main(["new", "--approach", "auto", "--examples", "5000", "--base-model",
                 "meta-llama/Llama-3.1-8B", "--gpu", "L4", "-o", str(out)])
    assert code == 0
    assert fit_problems(out, []) == []
