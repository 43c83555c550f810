"""`ftc run` (compile + launch) on the shipped quickstart, and the verbs' usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import REPO, ftc


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_ftc_run_trains_the_quickstart(tmp_path, tiny_model):
    done = ftc("run", str(REPO / "recipes/quickstart.yaml"), "-o", str(tmp_path / "bundle"),
               "--set", f"model.base={tiny_model}", "--set", "training.max_steps=4",
               "--set", f"output_dir={tmp_path / 'runs'}", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "bundle" / "launch.sh").is_file()
    (run_dir,) = (tmp_path / "runs" / "quickstart").glob("run-*")
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["steps"] == 4 and summary["eval_loss"]["last"] < summary["eval_loss"]["first"]
    assert "ftc: run 'quickstart' finished" in done.stdout
    assert done.stdout.count("validation loss:") == 1  # printed once, by ftc, not twice
    assert "reused the prepared data" not in done.stdout + done.stderr
    again = ftc("run", str(REPO / "recipes/quickstart.yaml"), "-o", str(tmp_path / "bundle"),
                "--set", f"model.base={tiny_model}", "--set", "training.max_steps=4",
                "--set", f"output_dir={tmp_path / 'runs'}", cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "ftc: data: reused the prepared data cached in" in again.stdout + again.stderr
    second = next(d for d in (tmp_path / "runs" / "quickstart").glob("run-*") if d != run_dir)
    for name in ("train.jsonl", "validation.jsonl", "rejected.jsonl", "report.json"):
        assert (second / "data" / name).read_bytes() == (run_dir / "data" / name).read_bytes()


def test_ftc_run_launches_nothing_for_a_broken_recipe(tmp_path):
    recipe = tmp_path / "broken.yaml"
    recipe.write_text("name: broken\nmodel: {base: x}\nmethod: {kind: lora, lora: {r: 0}}\n"
                      "data: {train: t.jsonl}\n")
    done = ftc("run", str(recipe), "-o", str(tmp_path / "bundle"), cwd=tmp_path)
    assert done.returncode == 1
    assert "broken.yaml:3:" in done.stderr and "nothing was launched" in done.stderr
    assert not (tmp_path / "bundle").exists()


def test_ftc_launch_needs_a_bundle(tmp_path):
    done = ftc("launch", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 2
    assert "FTC511 not a bundle" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("kind", ["prefix", "dpo"])
def test_ftc_run_dispatches_other_methods(kind, tmp_path, tiny_model):
    """Methods beyond SFT go through the same `ftc run` path (ftc.runtime.methods)."""
    done = ftc("run", str(REPO / f"recipes/{kind}-tiny.yaml"), "-o", str(tmp_path / "bundle"),
               "--set", f"model.base={tiny_model}", "--set", "training.max_steps=2",
               "--set", f"output_dir={tmp_path / 'runs'}", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    (run_dir,) = (tmp_path / "runs" / f"{kind}-tiny").glob("run-*")
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["method"] == kind and summary["steps"] == 2
    assert all(Path(p).exists() for p in summary["outputs"].values())
