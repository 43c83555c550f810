"""`ftc run` (compile + launch) on the shipped quickstart, and the verbs' usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import QUICKSTART_STEPS

from .conftest import REPO, ftc


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_ftc_run_trains_the_quickstart(quickstart_run):
    """The suite's quickstart run (tests/conftest.py, also read by the export tests), then
    a second `ftc run` of the same recipe under the same output_dir: it reuses the prepared
    data. The second run trains 1 step and exports nothing: the cache is keyed on the
    inputs, data settings and tokenizer, so those overrides must not (and do not) matter."""
    tmp, done, run_dir = quickstart_run["tmp"], quickstart_run["done"], quickstart_run["dir"]
    summary = quickstart_run["summary"]
    assert (tmp / "bundle" / "launch.sh").is_file()
    assert summary["steps"] == QUICKSTART_STEPS
    assert summary["eval_loss"]["last"] < summary["eval_loss"]["first"]
    assert "ftc: run 'quickstart' finished" in done.stdout
    assert done.stdout.count("validation loss:") == 1  # printed once, by ftc, not twice
    assert "reused the prepared data" not in done.stdout + done.stderr
    args = _overridden(quickstart_run["args"], {"training.max_steps": "1",
                                                "export.formats": "[]"})
    again = ftc("run", str(REPO / "recipes/quickstart.yaml"), *args, cwd=tmp)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "ftc: data: reused the prepared data cached in" in again.stdout + again.stderr
    second = next(d for d in (tmp / "runs" / "quickstart").glob("run-*") if d != run_dir)
    assert json.loads((second / "summary.json").read_text())["steps"] == 1
    for name in ("train.jsonl", "validation.jsonl", "rejected.jsonl", "report.json"):
        assert (second / "data" / name).read_bytes() == (run_dir / "data" / name).read_bytes()


def _overridden(args: list[str], values: dict[str, str]) -> list[str]:
    """args with the `--set KEY=...` of each key in values set to values[KEY] instead."""
    out = [f"{a.split('=', 1)[0]}={values[a.split('=', 1)[0]]}"
           if a.split("=", 1)[0] in values else a for a in args]
    assert sum(a != b for a, b in zip(args, out, strict=True)) == len(values), out
    return out


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
    """Methods beyond SFT go through the same `ftc run` path (ftc.runtime.methods).

    The evaluation still runs (base and tuned, answers generated for prefix tuning's
    chat task) but on 8 of the 150 validation examples: nothing here reads its numbers,
    and answering all 150 (up to 128 tokens each, before and after) is not needed."""
    done = ftc("run", str(REPO / f"recipes/{kind}-tiny.yaml"), "-o", str(tmp_path / "bundle"),
               "--set", f"model.base={tiny_model}", "--set", "training.max_steps=2",
               "--set", "evaluation.max_samples=8",
               "--set", f"output_dir={tmp_path / 'runs'}", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    (run_dir,) = (tmp_path / "runs" / f"{kind}-tiny").glob("run-*")
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["method"] == kind and summary["steps"] == 2
    assert all(Path(p).exists() for p in summary["outputs"].values())
