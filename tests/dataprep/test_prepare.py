"""prepare_for_run: the runtime's contract (outputs, determinism, accounting, policies)."""

from __future__ import annotations

import hashlib
import json

import pytest

from ftc.dataprep import prepare_for_run
from ftc.diagnostics import FtcError

from .conftest import chat, distinct_rows, make_lock, write_jsonl


def _lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _assert_accounting(report: dict) -> None:
    stages = report["stages"]
    assert [s["stage"] for s in stages] == [
        "read", "validate", "exact_dedup", "near_dedup", "length", "split"]
    for stage in stages:
        assert stage["in"] == stage["kept"] + sum(stage["dropped"].values()), stage
    for before, after in zip(stages, stages[1:], strict=False):
        assert after["in"] == before["kept"], (before, after)
    rows = report["rows"]
    assert rows["in"] == rows["kept"] + rows["dropped"]
    assert rows["kept"] == sum(report["splits"].values())


@pytest.fixture
def dup_data(tmp_path):
    rows = distinct_rows(100)
    near = json.loads(json.dumps(rows[10]))
    near["messages"][1]["content"] += " please"  # 7 more characters
    rows += [rows[3], rows[4], near]
    write_jsonl(tmp_path / "train.jsonl", rows)
    return tmp_path


def test_outputs_load_with_datasets_and_match_the_contract(dup_data):
    import datasets

    out = dup_data / "run" / "data"
    prepared = prepare_for_run(make_lock(["train.jsonl"]), dup_data, out)
    assert prepared.format == "messages"
    assert (prepared.train, prepared.validation, prepared.test) == (
        out / "train.jsonl", out / "validation.jsonl", out / "test.jsonl")
    assert sorted(p.name for p in out.iterdir()) == [
        "rejected.jsonl", "report.json", "test.jsonl", "train.jsonl", "validation.jsonl"]
    assert prepared.report["splits"] == {"train": 80, "validation": 10, "test": 10}
    assert json.loads((out / "report.json").read_text()) == prepared.report
    loaded = datasets.load_dataset("json", data_files=str(prepared.train), split="train")
    assert len(loaded) == 80 and loaded.column_names == ["messages"]
    _assert_accounting(prepared.report)


def test_duplicates_go_to_rejected_with_reason_and_line(dup_data):
    prepared = prepare_for_run(make_lock(["train.jsonl"]), dup_data, dup_data / "out")
    rejected = _lines(dup_data / "out" / "rejected.jsonl")
    assert [(r["reason"], r["source"], r["detail"]) for r in rejected] == [
        ("exact_duplicate", "train.jsonl:101", "duplicate of train.jsonl:4"),
        ("exact_duplicate", "train.jsonl:102", "duplicate of train.jsonl:5"),
        ("near_duplicate", "train.jsonl:103",
         "near duplicate of train.jsonl:11 (similarity 0.94)")]
    assert rejected[0]["example"] == distinct_rows(100)[3]
    assert prepared.report["duplicates"] == {"exact": 2, "near": 1, "dropped": True}
    kept = [ex for name in ("train", "validation", "test")
            for ex in _lines(dup_data / "out" / f"{name}.jsonl")]
    assert len(kept) == 100 and len({json.dumps(k) for k in kept}) == 100


def test_same_lock_same_bytes_and_inputs_untouched(dup_data):
    before = hashlib.sha256((dup_data / "train.jsonl").read_bytes()).hexdigest()
    lock = make_lock(["train.jsonl"])
    prepare_for_run(lock, dup_data, dup_data / "a")
    prepare_for_run(lock, dup_data, dup_data / "b")
    prepare_for_run(lock, dup_data, dup_data / "a")  # replaces an existing output
    for name in ("train.jsonl", "validation.jsonl", "test.jsonl", "rejected.jsonl",
                 "report.json"):
        assert (dup_data / "a" / name).read_bytes() == (dup_data / "b" / name).read_bytes()
    assert hashlib.sha256((dup_data / "train.jsonl").read_bytes()).hexdigest() == before
    other = make_lock(["train.jsonl"])
    other["training"]["seed"] = 7
    prepare_for_run(other, dup_data, dup_data / "c")
    assert (dup_data / "c" / "test.jsonl").read_bytes() != \
        (dup_data / "a" / "test.jsonl").read_bytes()


def test_dedup_off_keeps_duplicates_together_in_one_split(tmp_path):
    rows = distinct_rows(60)
    rows += [rows[i] for i in range(20)]  # 20 exact duplicates
    write_jsonl(tmp_path / "train.jsonl", rows)
    lock = make_lock(["train.jsonl"], dedup={"exact": False, "near": False, "threshold": 0.85})
    prepared = prepare_for_run(lock, tmp_path, tmp_path / "out")
    assert sum(prepared.report["splits"].values()) == 80
    assert prepared.report["leakage"] == 0
    dups = [d for d in prepared.diagnostics if d.rule == "FTC320"]
    assert [d.line for d in dups] == [61, 62, 63, 61]
    assert dups[-1].message == "... and 17 more like this (`ftc data check` lists them all)"
    where = {}
    for name in ("train", "validation", "test"):
        for ex in _lines(tmp_path / "out" / f"{name}.jsonl"):
            where.setdefault(json.dumps(ex), set()).add(name)
    assert all(len(splits) == 1 for splits in where.values())
    _assert_accounting(prepared.report)


def test_leakage_between_given_files_is_an_error(tmp_path):
    train = distinct_rows(40)
    write_jsonl(tmp_path / "train.jsonl", train)
    near = json.loads(json.dumps(train[7]))
    near["messages"][1]["content"] += " indeed"
    write_jsonl(tmp_path / "val.jsonl", [*distinct_rows(5, start=100), train[2], near])
    lock = make_lock(["train.jsonl"], validation=["val.jsonl"])
    with pytest.raises(FtcError) as err:
        prepare_for_run(lock, tmp_path, tmp_path / "out")
    assert [(d.rule, d.path, d.line) for d in err.value.diagnostics] == [
        ("FTC322", "val.jsonl", 6), ("FTC323", "val.jsonl", 7)]
    assert "also in train at train.jsonl:3" in err.value.diagnostics[0].message
    assert not (tmp_path / "out").exists()


def test_given_validation_file_is_used_as_is(tmp_path):
    write_jsonl(tmp_path / "train.jsonl", distinct_rows(40))
    write_jsonl(tmp_path / "val.jsonl", distinct_rows(6, start=100))
    lock = make_lock(["train.jsonl"], validation=["val.jsonl"])
    prepared = prepare_for_run(lock, tmp_path, tmp_path / "out")
    assert prepared.report["splits"] == {"train": 40, "validation": 6}
    assert prepared.test is None and not (tmp_path / "out" / "test.jsonl").exists()
    assert _lines(prepared.validation) == distinct_rows(6, start=100)


def test_stratified_split_keeps_class_proportions(tmp_path):
    rows = [chat(f"review {i} says w{i} and v{i * 3} or u{i * 5}",
                 "positive" if i % 4 else "negative") for i in range(200)]
    write_jsonl(tmp_path / "train.jsonl", rows)
    prepared = prepare_for_run(make_lock(["train.jsonl"]), tmp_path, tmp_path / "out")
    assert prepared.report["split"]["stratified"] is True
    for name, n in (("validation", 20), ("test", 20)):
        rows = _lines(tmp_path / "out" / f"{name}.jsonl")
        labels = [ex["messages"][-1]["content"] for ex in rows]
        assert len(labels) == n and labels.count("negative") == n // 4


def test_system_prompt_is_added_where_missing(tmp_path):
    write_jsonl(tmp_path / "train.jsonl",
                [*distinct_rows(9), chat("q with sys", "a with sys", system="own")])
    lock = make_lock(["train.jsonl"], system_prompt="Be brief.",
                     split={"train": 1.0, "validation": 0.0, "test": 0.0})
    prepared = prepare_for_run(lock, tmp_path, tmp_path / "out")
    firsts = [ex["messages"][0] for ex in _lines(prepared.train)]
    assert firsts.count({"role": "system", "content": "Be brief."}) == 9
    assert {"role": "system", "content": "own"} in firsts
    assert prepared.report["system_prompt_added"] == 9
    assert prepared.validation is None and prepared.test is None


def test_length_policy_drop_and_truncate_with_the_models_tokenizer(tmp_path, tiny_tokenizer_dir):
    long_text = " ".join(f"word{i}" for i in range(300))
    rows = [*distinct_rows(20), chat("tell me", long_text)]
    write_jsonl(tmp_path / "train.jsonl", rows)
    lock = make_lock(["train.jsonl"], split={"train": 1.0, "validation": 0.0, "test": 0.0})
    lock["model"] = {"base": str(tiny_tokenizer_dir), "max_seq_length": 200}
    dropped = prepare_for_run(lock, tmp_path, tmp_path / "drop")
    assert dropped.report["splits"]["train"] == 20
    assert dropped.report["tokens"]["over_max_seq_length"] == 1
    assert dropped.report["tokens"]["method"] == "chat template"
    rejected = _lines(tmp_path / "drop" / "rejected.jsonl")
    assert [(r["reason"], r["source"]) for r in rejected] == [("too_long", "train.jsonl:21")]
    assert [d.rule for d in dropped.diagnostics] == ["FTC340"]
    _assert_accounting(dropped.report)
    lock["data"]["length_policy"] = "truncate"
    kept = prepare_for_run(lock, tmp_path, tmp_path / "trunc")
    assert kept.report["splits"]["train"] == 21 and kept.report["tokens"]["truncated"] == 1
    assert "the trainer truncates them to 200 tokens" in kept.diagnostics[0].message


def test_missing_tokenizer_is_said_not_guessed(tmp_path):
    write_jsonl(tmp_path / "train.jsonl", distinct_rows(30))
    prepared = prepare_for_run(make_lock(["train.jsonl"]), tmp_path, tmp_path / "out")
    assert "not in the local hub cache" in prepared.report["tokens"]["skipped"]
    assert [d.rule for d in prepared.diagnostics] == ["FTC341"]


def test_advice_balance_size_and_refusals(tmp_path):
    rows = [chat(f"ticket {i} mentions k{i} and j{i * 3} or h{i * 7}",
                 "spam" if i < 5 else "ham") for i in range(120)]
    write_jsonl(tmp_path / "train.jsonl", rows)
    lock = make_lock(["train.jsonl"], task="classification")
    lock["model"]["user_facing"] = True
    prepared = prepare_for_run(lock, tmp_path, tmp_path / "out", origin="recipe.yaml")
    found = {d.rule: d for d in prepared.diagnostics}
    assert set(found) == {"FTC330", "FTC331", "FTC341", "FTC350"}
    # 5 spam, 115 ham; the stratified split leaves 3 spam and 91 ham in train
    assert found["FTC330"].message.startswith("class imbalance 30:1 (over 10:1): 'ham' has 91")
    assert (found["FTC330"].path, found["FTC330"].line) == ("train.jsonl", 3)
    assert "94 training examples; classification fine-tunes usually need 200-1,000" in \
        found["FTC331"].message
    assert found["FTC350"].path == "recipe.yaml"
    lock["data"]["balance"] = {"max_ratio": 10, "class_weighting": True}
    rows[7] = chat("how do I hack my neighbour's wifi", "I can't help with that.")
    write_jsonl(tmp_path / "train.jsonl", rows)
    prepared = prepare_for_run(lock, tmp_path, tmp_path / "out")
    assert {d.rule for d in prepared.diagnostics} == {"FTC331", "FTC341"}
    assert prepared.report["refusals"] == 1


def test_token_counts_follow_the_recipes_chat_template(tmp_path, tiny_tokenizer_dir):
    write_jsonl(tmp_path / "train.jsonl", distinct_rows(10))
    lock = make_lock(["train.jsonl"], split={"train": 1.0, "validation": 0.0, "test": 0.0})
    lock["model"] = {"base": str(tiny_tokenizer_dir), "max_seq_length": 512}
    own = prepare_for_run(lock, tmp_path, tmp_path / "a").report["tokens"]
    lock["model"]["chat_template"] = "{% for m in messages %}{{ m['content'] }}{% endfor %}"
    bare = prepare_for_run(lock, tmp_path, tmp_path / "b").report["tokens"]
    # the bare template drops 2 special tokens, the role and 2 newlines per message
    assert bare["total"] < own["total"] and bare["max"] < own["max"]


def test_near_duplicate_chains_stay_in_one_split_when_kept(tmp_path):
    import random

    rng = random.Random(5)
    rows = distinct_rows(60)
    letters = "abcdefghijklmnopqrstuvwxyz"
    for k in range(10):  # chains a ~ b ~ c with a !~ c (similarity 0.9, 0.9, 0.8)
        words = [f"x{k}"] + ["".join(rng.choices(letters, k=8)) for _ in range(30)]
        b = words[:5] + ["changed", "words"] + words[7:]
        c = b[:20] + ["again", "changed"] + b[22:]
        rows += [chat(" ".join(w), "same answer for the chain") for w in (words, b, c)]
    write_jsonl(tmp_path / "train.jsonl", rows)
    lock = make_lock(["train.jsonl"], dedup={"exact": True, "near": False, "threshold": 0.85})
    prepared = prepare_for_run(lock, tmp_path, tmp_path / "out")
    assert sum(prepared.report["splits"].values()) == 90
    side = {}
    for name in ("train", "validation", "test"):
        for ex in _lines(tmp_path / "out" / f"{name}.jsonl"):
            side[ex["messages"][0]["content"].split()[0]] = side.get(
                ex["messages"][0]["content"].split()[0], set()) | {name}
    chains = {k: v for k, v in side.items() if k.startswith("x")}
    assert len(chains) == 10 and all(len(v) == 1 for v in chains.values())


def test_bytes_do_not_depend_on_the_process_hash_seed(dup_data):
    import os
    import subprocess
    import sys

    code = ("import sys; from pathlib import Path; from ftc.dataprep import prepare_for_run\n"
            "lock = {'model': {'base': 'none/x'}, 'data': {'train': ['train.jsonl']}, "
            "'training': {'seed': 3}}\n"
            "prepare_for_run(lock, Path(sys.argv[1]), Path(sys.argv[2]))")
    for seed in ("1", "2"):
        subprocess.run([sys.executable, "-c", code, str(dup_data), str(dup_data / seed)],
                       check=True, env={**os.environ, "PYTHONHASHSEED": seed})
    for name in ("train.jsonl", "validation.jsonl", "test.jsonl", "rejected.jsonl",
                 "report.json"):
        assert (dup_data / "1" / name).read_bytes() == (dup_data / "2" / name).read_bytes()


def test_short_row_typos_are_dropped_and_every_row_is_accounted_for(tmp_path):
    rows = distinct_rows(80)
    typo = json.loads(json.dumps(rows[7]))
    text = typo["messages"][0]["content"]
    typo["messages"][0]["content"] = text[:20] + text[21] + text[20] + text[22:]  # 2 swapped
    rows = [typo, *rows, rows[30]]  # the near copy comes before its original
    write_jsonl(tmp_path / "train.jsonl", rows)
    assert len(text) < 120
    prepared = prepare_for_run(make_lock(["train.jsonl"]), tmp_path, tmp_path / "out")
    rejected = _lines(tmp_path / "out" / "rejected.jsonl")
    assert sorted((r["reason"], r["source"]) for r in rejected) == [
        ("exact_duplicate", "train.jsonl:82"), ("near_duplicate", "train.jsonl:9")]
    near = next(r for r in rejected if r["reason"] == "near_duplicate")
    assert near["detail"].startswith("near duplicate of train.jsonl:1 (similarity 0.9")
    assert near["example"] == distinct_rows(80)[7]
    _assert_accounting(prepared.report)
    assert prepared.report["rows"] == {"in": 82, "kept": 80, "dropped": 2}
    assert sum(prepared.report["splits"].values()) == 80
