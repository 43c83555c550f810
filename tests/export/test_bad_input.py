"""Bad input: one FTC line per problem, exit 1, no traceback, and nothing written."""

from __future__ import annotations

import json
import shutil

import pytest

from .conftest import cli, fake_run


def refused(args, rule: str, *words: str) -> str:
    code, out, err = cli("export", *args)
    assert code == 1, (out, err)
    assert "Traceback" not in err and f"error: {rule} " in err, err
    for word in words:
        assert word in err, (word, err)
    return err


def test_missing_path(tmp_path):
    refused([tmp_path / "nope", "--gguf", "f16"], "FTC601", "does not exist")
    assert list(tmp_path.iterdir()) == []


def test_directory_that_is_not_a_model(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    refused([tmp_path], "FTC601", "not a run, model or adapter directory")


def test_unfinished_run(lora_adapter, tmp_path):
    run = fake_run(tmp_path / "run-1", lora_adapter, summary=False)
    refused([run, "--merge"], "FTC602", "has not finished", "--resume")
    assert not (run / "export").exists()


def test_half_written_adapter(lora_adapter, tmp_path):
    broken = tmp_path / "adapter"
    shutil.copytree(lora_adapter, broken)
    (broken / "adapter_model.safetensors").unlink()
    refused([broken, "--merge"], "FTC602", "half-written")


def test_half_written_model(tiny_model, tmp_path):
    broken = tmp_path / "model"
    broken.mkdir()
    shutil.copy(tiny_model / "config.json", broken)
    refused([broken, "--onnx"], "FTC602", "half-written")


@pytest.mark.parametrize("flag", [["--merge"], ["--gguf", "f16"], ["--onnx"]])
def test_prefix_tuning_cannot_merge(prefix_adapter, tmp_path, flag):
    refused([prefix_adapter, *flag, "-o", tmp_path / "o"], "FTC604",
            "prefix tuning cannot be merged", "virtual tokens")
    assert not (tmp_path / "o").exists()


def test_prefix_tuning_run_still_gets_card_and_serving(prefix_adapter, tmp_path):
    run = fake_run(tmp_path / "run-1", prefix_adapter, kind="prefix")
    code, _, err = cli("export", run)
    assert code == 0, err
    assert (run / "export" / "README.md").is_file() and (run / "export" / "SERVING.md").is_file()


def test_full_model_has_nothing_to_merge_but_exports(tiny_model, tmp_path):
    """A run with no adapter: --merge is refused; GGUF is written from model/ directly and
    (where llama.cpp is built) checked against it there."""
    run = fake_run(tmp_path / "run-1", tiny_model, kind="full")
    refused([run, "--merge"], "FTC603", "nothing to merge")
    code, out, err = cli("export", run, "--gguf", "f32")
    assert code == 0, err
    assert (run / "export" / "demo-f32.gguf").is_file()
    check = json.loads((run / "export" / "export.json").read_text())["checks"]["gguf f32"]
    assert "skipped" in check or (check["max_abs_diff"] < 1e-4 and check["greedy_match"])
    assert "library_name: transformers" in (run / "export" / "README.md").read_text()


def test_recipe_merge_on_full_run_is_a_note_not_an_error(tiny_model, tmp_path):
    run = fake_run(tmp_path / "run-1", tiny_model, kind="full")
    lock = json.loads((run / "recipe.lock.yaml").read_text())
    lock["export"].update(merge_adapters=True)
    (run / "recipe.lock.yaml").write_text(json.dumps(lock))
    code, out, err = cli("export", run)
    assert code == 0 and "warning: FTC603" in err
    assert not (run / "export" / "merged").exists()


def test_existing_output_needs_force(lora_adapter, tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / "old.txt").write_text("keep me")
    refused([lora_adapter, "--merge", "-o", out], "FTC606", "already exists", "--force")
    assert (out / "old.txt").read_text() == "keep me"
    code, _, err = cli("export", lora_adapter, "--merge", "-o", out, "--force")
    assert code == 0, err
    assert not (out / "old.txt").exists() and (out / "merged" / "model.safetensors").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]  # no temporary folders left
