"""`ftc diff`: what a one-line recipe change does to the resolved job, with sources."""

from __future__ import annotations

import json
import subprocess

from ftc.cli import main

RECIPE = """\
name: job
model: {base: meta-llama/Llama-3.1-8B-Instruct, max_seq_length: 2048}
method: {kind: lora}
data: {train: t.jsonl}
training: {batch_size: 32}
hardware:
  gpus: 8
  gpu: H100-80GB
"""


def diff_json(capsys, *argv: str):
    code = main(["diff", *argv, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_changing_gpus_shows_the_values_it_moved(capsys, tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(RECIPE, encoding="utf-8")
    b.write_text(RECIPE.replace("gpus: 8", "gpus: 1"), encoding="utf-8")
    code, body = diff_json(capsys, str(a), str(b))
    assert code == 0
    rows = {r["path"]: r for r in body["changes"]}
    assert (rows["hardware.gpus"]["old"], rows["hardware.gpus"]["new"]) == (8, 1)
    accumulation = rows["training.gradient_accumulation"]
    assert accumulation["new"] > accumulation["old"]
    assert accumulation["new_source"].startswith("rule:")
    assert "hardware.strategy" in rows  # ZeRO on 8 GPUs, none on one
    assert "model.base" not in rows
    assert main(["diff", str(a), str(b), "--format", "github"]) == 0
    assert "| `hardware.gpus` | `8` | `1` |" in capsys.readouterr().out


def test_rev_compares_a_file_with_itself_in_git(capsys, tmp_path):
    repo = tmp_path / "repo"
    (repo / "recipes").mkdir(parents=True)
    recipe = repo / "recipes" / "job.yaml"
    recipe.write_text(RECIPE, encoding="utf-8")
    for args in (["init", "-q"], ["add", "."],
                 ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"]):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
    recipe.write_text(RECIPE.replace("batch_size: 32", "batch_size: 64"), encoding="utf-8")
    code, body = diff_json(capsys, str(recipe), "--rev", "HEAD")
    assert code == 0 and body["a"].endswith("@HEAD")
    rows = {r["path"]: r for r in body["changes"]}
    assert (rows["training.batch_size"]["old"], rows["training.batch_size"]["new"]) == (32, 64)


def test_bad_input_is_a_clear_error(capsys, tmp_path):
    a = tmp_path / "a.yaml"
    a.write_text(RECIPE, encoding="utf-8")
    code, body = diff_json(capsys, str(a))
    assert code == 2 and "--rev" in body["error"]
    code, body = diff_json(capsys, str(a), "--rev", "no-such-rev")
    assert code == 2 and "cannot read" in body["error"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(RECIPE.replace("lora", "lorra"), encoding="utf-8")
    code, body = diff_json(capsys, str(a), str(bad))
    assert code == 1 and body["diagnostics"][0]["rule"] == "FTC012"
