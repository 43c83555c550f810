"""The curated recipes lint clean (even --strict) and explain themselves."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RECIPES = sorted((ROOT / "recipes").glob("*.yaml"))


def test_there_are_curated_recipes():
    names = {p.name for p in RECIPES}
    assert {"llama-3.1-8b-lora.yaml", "llama-3.1-8b-qlora.yaml",
            "llama-3.1-8b-full.yaml"} <= names


@pytest.mark.parametrize("path", RECIPES, ids=[p.name for p in RECIPES])
def test_recipe_lints_clean_and_strict(path, ftc):
    # FTC120: the tiny models under models/ are built by `make demo`, not committed
    code, out, err = ftc("lint", "--strict", "--ignore", "FTC120", path)
    assert code == 0, out + err


@pytest.mark.parametrize("path", RECIPES, ids=[p.name for p in RECIPES])
def test_recipe_opens_with_a_comment_block(path):
    head = path.read_text().splitlines()[:6]
    comments = [line for line in head if line.startswith("#")]
    assert len(comments) >= 4, f"{path.name} should explain what, hardware, how to run"


@pytest.mark.parametrize("name,strategy", [("llama-3.1-8b-lora", "zero2"),
                                           ("llama-3.1-8b-qlora", "zero2"),
                                           ("llama-3.1-8b-full", "zero3")])
def test_8b_recipes_compile_for_8_gpus_with_zero(name, strategy, ftc, tmp_path):
    from ftc.compiler.lockfile import read_lock

    code, _, err = ftc("compile", ROOT / "recipes" / f"{name}.yaml", "-o", tmp_path / name)
    assert code == 0, err
    lock = read_lock(tmp_path / name / "recipe.lock.yaml")
    assert lock["hardware"]["world_size"] == 8 and lock["hardware"]["strategy"] == strategy
    assert (tmp_path / name / "deepspeed.json").exists()
