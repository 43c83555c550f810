"""Prepared data cached by content: reused when nothing changed, never when anything did."""

from __future__ import annotations

import json
import os

import pytest

from ftc.dataprep.prepare import prepare_for_run
from ftc.diagnostics import FtcError

from .conftest import distinct_rows, make_lock, write_jsonl

_OUTPUTS = ("train.jsonl", "validation.jsonl", "test.jsonl", "rejected.jsonl", "report.json")


@pytest.fixture
def data_dir(tmp_path):
    rows = distinct_rows(60)
    write_jsonl(tmp_path / "train.jsonl", [*rows, rows[5]])  # one exact duplicate
    return tmp_path


def test_second_prepare_reuses_the_cache_with_the_same_bytes(data_dir, monkeypatch):
    cache = data_dir / "cache"
    lock = make_lock(["train.jsonl"])
    first = prepare_for_run(lock, data_dir, data_dir / "a", origin="r.yaml", cache_dir=cache)
    assert first.cached_from is None
    import ftc.dataprep.prepare as prepare_module

    def no_pipeline(*args, **kwargs):
        raise AssertionError("prepared again instead of reusing the cache")

    monkeypatch.setattr(prepare_module, "run_pipeline", no_pipeline)
    second = prepare_for_run(lock, data_dir, data_dir / "b", origin="r.yaml", cache_dir=cache)
    assert second.cached_from is not None and second.cached_from.parent == cache
    for name in _OUTPUTS:
        assert (data_dir / "a" / name).read_bytes() == (data_dir / "b" / name).read_bytes()
    assert second.report == first.report and second.format == first.format
    assert second.train == data_dir / "b" / "train.jsonl"
    assert [d.rule for d in second.diagnostics] == [d.rule for d in first.diagnostics]


def test_changed_input_or_settings_prepare_again(data_dir):
    cache = data_dir / "cache"
    lock = make_lock(["train.jsonl"])
    prepare_for_run(lock, data_dir, data_dir / "a", cache_dir=cache)
    other = make_lock(["train.jsonl"])
    other["training"]["seed"] = 7
    assert prepare_for_run(other, data_dir, data_dir / "b", cache_dir=cache).cached_from is None
    with (data_dir / "train.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(distinct_rows(1, start=500)[0]) + "\n")
    again = prepare_for_run(lock, data_dir, data_dir / "c", cache_dir=cache)
    assert again.cached_from is None and again.report["rows"]["in"] == 62
    assert len(list(p for p in cache.iterdir() if not p.name.startswith("."))) == 3


def test_recipe_cache_dir_is_used(data_dir):
    lock = make_lock(["train.jsonl"], cache_dir="mine")
    prepare_for_run(lock, data_dir, data_dir / "a")
    assert prepare_for_run(lock, data_dir, data_dir / "b").cached_from.parent == \
        data_dir / "mine"


@pytest.mark.parametrize("kind", ["file", "under-a-file", "read-only"])
def test_unusable_cache_dir_is_an_ftc_error(data_dir, kind):
    target = data_dir / "cache"
    setting = "cache"
    if kind == "file":
        target.write_text("not a folder")
    elif kind == "under-a-file":
        target.write_text("not a folder")
        setting = "cache/sub"
    else:
        if os.geteuid() == 0:
            pytest.skip("root writes into a read-only folder")
        target.mkdir()
        target.chmod(0o555)
    lock = make_lock(["train.jsonl"], cache_dir=setting)
    with pytest.raises(FtcError) as caught:
        prepare_for_run(lock, data_dir, data_dir / "out", origin="recipe.yaml")
    [diag] = caught.value.diagnostics
    assert (diag.rule, diag.path) == ("FTC329", "recipe.yaml")
    assert "data.cache_dir" in diag.message and "cache" in diag.message
    assert not (data_dir / "out").exists()


def test_unusable_default_cache_only_skips_caching(data_dir):
    (data_dir / "cache").write_text("a file where the default cache would go")
    prepared = prepare_for_run(make_lock(["train.jsonl"]), data_dir, data_dir / "out",
                               cache_dir=data_dir / "cache")
    assert prepared.cached_from is None and prepared.train.is_file()


def test_data_prepare_says_when_it_reused_the_cache(tmp_path, cli, monkeypatch):
    write_jsonl(tmp_path / "data" / "train.jsonl", distinct_rows(50))
    (tmp_path / "r.yaml").write_text(
        "name: demo\nmodel: {base: models/none}\nmethod: {kind: lora}\n"
        "data: {train: data/train.jsonl}\noutput_dir: runs\n")
    monkeypatch.chdir(tmp_path)
    code, _, err = cli("data", "prepare", "r.yaml")
    assert code == 0 and "reused" not in err
    code, out, err = cli("data", "prepare", "r.yaml")
    assert code == 0
    assert "reused the data prepared earlier (cache " in err
    assert str(tmp_path / "runs" / "demo" / ".cache" / "data") in err
    assert "train.jsonl 40" in out


def test_data_prepare_with_an_unusable_cache_dir_fails_with_the_rule(tmp_path, cli):
    write_jsonl(tmp_path / "train.jsonl", distinct_rows(30))
    (tmp_path / "taken").write_text("a file")
    recipe = tmp_path / "r.yaml"
    recipe.write_text("name: demo\nmodel: {base: models/none}\nmethod: {kind: lora}\n"
                      "data: {train: train.jsonl, cache_dir: taken}\n")
    code, _, err = cli("data", "prepare", recipe, "-o", tmp_path / "out")
    assert code == 1
    assert f"{recipe}:1:1: error: FTC329 data.cache_dir: {tmp_path / 'taken'} exists and " \
           "is not a directory" in err
    assert "Traceback" not in err and not (tmp_path / "out").exists()
