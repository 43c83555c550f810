"""Data sources: each type's conversion, slices, shuffle and weights, the loaders
(hub-style folders with subsets, save_to_disk, .arrow, CSV with any columns), and
bad input, each with its FTC message naming the source and row."""

from __future__ import annotations

import json

import pytest

from ftc.dataprep.convert import ConvertProblem, convert
from ftc.dataprep.settings import DataSettings
from ftc.dataprep.sources import Source, read_sources, sources_of
from ftc.source_spec import SliceError, kept_counts, parse_split

from .conftest import write_jsonl


def _run(sources: list[Source]):
    return check_files_of({"train": sources})


def check_files_of(inputs):
    from ftc.dataprep.pipeline import run_pipeline

    return run_pipeline(inputs, DataSettings(split=None), prepare=False, origin="recipe.yaml")


# ------------------------------------------------------------------ conversions


def test_messages_with_field_and_role_mapping():
    row = {"chat": [{"who": "human", "said": "hi there"}, {"who": "bot", "said": "hello"}]}
    spec = {"type": "messages", "fields": {"messages": "chat", "role": "who", "content": "said"},
            "roles": {"human": "user", "bot": "assistant"}}
    assert convert(row, spec) == {"messages": [{"role": "user", "content": "hi there"},
                                               {"role": "assistant", "content": "hello"}]}


def test_sharegpt_defaults_and_system_prompt():
    row = {"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]}
    out = convert(row, {"type": "sharegpt", "system_prompt": "Be brief."})
    assert out == {"messages": [{"role": "system", "content": "Be brief."},
                                {"role": "user", "content": "q"},
                                {"role": "assistant", "content": "a"}]}


def test_alpaca_with_and_without_input():
    spec = {"type": "alpaca"}
    with_input = convert({"instruction": "Sum", "input": "1 and 2", "output": "3"}, spec)
    assert with_input["messages"][0] == {"role": "user", "content": "Sum\n\n1 and 2"}
    plain = convert({"instruction": "Greet", "input": "", "output": "Hi"}, spec)
    assert plain == {"messages": [{"role": "user", "content": "Greet"},
                                  {"role": "assistant", "content": "Hi"}]}
    mapped = convert({"q": "Greet", "a": "Hi", "sys": "Polite."},
                     {"type": "alpaca", "fields": {"instruction": "q", "output": "a",
                                                    "system": "sys"}})
    assert [m["role"] for m in mapped["messages"]] == ["system", "user", "assistant"]


def test_completion_with_field_names_and_plain_text():
    assert convert({"src": "2+2=", "tgt": "4"},
                   {"type": "completion", "fields": {"prompt": "src", "completion": "tgt"}}) \
        == {"prompt": "2+2=", "completion": "4"}
    assert convert({"text": "Once upon a time"},
                   {"type": "completion", "fields": {"completion": "text"}}) \
        == {"prompt": "", "completion": "Once upon a time"}


def test_preference_strings_and_message_lists():
    spec = {"type": "preference", "fields": {"prompt": "question", "chosen": "good",
                                              "rejected": "bad"}}
    assert convert({"question": "q", "good": "yes", "bad": "no"}, spec) == {
        "prompt": "q", "chosen": "yes", "rejected": "no"}
    chat = convert({"chosen": [{"role": "user", "content": "q"},
                               {"role": "assistant", "content": "yes"}],
                    "rejected": [{"role": "user", "content": "q"},
                                 {"role": "assistant", "content": "no"}]},
                   {"type": "preference"})
    assert chat["prompt"] == "" and chat["chosen"][1] == {"role": "assistant", "content": "yes"}


def test_template_formats_columns():
    spec = {"type": "template", "fields": {"prompt": "Q: {question}\nContext: {ctx}\nA:",
                                           "completion": " {answer}"}}
    assert convert({"question": "why", "ctx": "sky", "answer": "blue"}, spec) == {
        "prompt": "Q: why\nContext: sky\nA:", "completion": " blue"}


@pytest.mark.parametrize("row,spec,message", [
    ({"instruction": "x"}, {"type": "alpaca"}, "alpaca row has no column 'output'"),
    ({"conversations": [{"from": "human"}]}, {"type": "sharegpt"},
     "sharegpt message conversations[0] has no key 'value'"),
    ({"q": "x"}, {"type": "template", "fields": {"prompt": "{q} {r}", "completion": "q"}},
     "template row has no column 'r'"),
    ({"q": "x"}, {"type": "template", "fields": {"prompt": "{q.__class__}", "completion": "q"}},
     "must name a column"),
    ({"conversations": "text"}, {"type": "sharegpt"}, "must be a list of messages"),
])
def test_rows_that_cannot_convert_say_why(row, spec, message):
    with pytest.raises(ConvertProblem) as exc:
        convert(row, spec)
    assert message in exc.value.message


# ------------------------------------------------------------------ slices and weights


@pytest.mark.parametrize("spec,rows", [
    ("train[:1%]", 150), ("train[10:20]", 50), ("train[-10%:]", 33), ("train[25%:75%]", 7),
    ("train[:-5]", 12), ("train[33%:]", 3), ("train", 9),
])
def test_slices_keep_the_rows_datasets_keeps(spec, rows):
    from datasets import ReadInstruction

    ours = parse_split(spec).bounds(rows)
    theirs = ReadInstruction.from_spec(spec).to_absolute({"train": rows})[0]
    assert ours == (theirs.from_, theirs.to)


@pytest.mark.parametrize("spec,message", [
    ("train[5:2]", "is empty"), ("train[:150%]", "between -100% and 100%"),
    ("train[1%:20]", "mixes rows and percents"), ("train[:%]", "needs a number"),
    ("train[::2]", "is not NAME"),
])
def test_bad_slices_are_refused(spec, message):
    with pytest.raises(SliceError, match=message):
        parse_split(spec)


def test_weights_are_fractions_or_mixing_ratios():
    assert kept_counts([100, 40], [0.5, None]) == [50, 40]  # a fraction of each
    assert kept_counts([100, 100], [0.7, 0.3]) == [100, 43]  # 70/30 of the largest mix
    assert kept_counts([50, 1000], [0.5, 0.5]) == [50, 50]


def test_weight_and_shuffle_are_deterministic(tmp_path):
    rows = [{"prompt": f"p{i}", "completion": f"c{i}"} for i in range(20)]
    path = write_jsonl(tmp_path / "d.jsonl", rows)
    spec = [{"path": str(path), "weight": 0.25, "shuffle": True}]
    first = read_sources(sources_of(spec, tmp_path), seed=3)[0]
    again = read_sources(sources_of(spec, tmp_path), seed=3)[0]
    assert [r.line for r in first.rows] == [r.line for r in again.rows]
    assert len(first.rows) == 5 and first.sampled_out == 15 and first.seen == 5
    ordered = read_sources(sources_of([{"path": str(path), "weight": 0.25}], tmp_path), 3)[0]
    lines = [r.line for r in ordered.rows]
    assert lines == sorted(lines) and len(lines) == 5  # a sample, in file order


# ------------------------------------------------------------------ loaders


def test_hub_style_folder_with_subsets_and_a_slice(tmp_path):
    repo = tmp_path / "repo"
    write_jsonl(repo / "main" / "part-0.jsonl",
                [{"instruction": f"i{i}", "output": f"o{i}"} for i in range(10)])
    write_jsonl(repo / "extra" / "train.jsonl", [{"instruction": "x", "output": "y"}])
    (repo / "README.md").write_text(
        "---\nconfigs:\n- config_name: default\n  data_files:\n  - split: train\n"
        "    path: main/*.jsonl\n- config_name: extra\n  data_files:\n  - split: train\n"
        "    path: extra/train.jsonl\n---\n")
    spec = [{"path": "repo", "type": "alpaca", "split": "train[2:5]"},
            {"path": "repo", "name": "extra", "type": "alpaca"}]
    main, extra = read_sources(sources_of(spec, tmp_path))
    assert [r.value["messages"][0]["content"] for r in main.rows] == ["i2", "i3", "i4"]
    assert main.rows[0].path == "repo (train[2:5])" and main.rows[0].line == 3
    assert [r.value["messages"][0]["content"] for r in extra.rows] == ["x"]


def test_save_to_disk_folder_and_arrow_file(tmp_path):
    from datasets import Dataset, DatasetDict

    data = Dataset.from_list([{"prompt": f"p{i}", "completion": f"c{i}"} for i in range(6)])
    DatasetDict({"train": data, "test": data.select(range(2))}).save_to_disk(tmp_path / "saved")
    data.save_to_disk(tmp_path / "single")
    arrow = next((tmp_path / "single").glob("*.arrow"))
    spec = [{"path": "saved", "split": "test"}, {"path": "saved", "split": "train[:50%]"},
            {"path": str(arrow)}]
    test, half, whole = read_sources(sources_of(spec, tmp_path))
    assert (len(test.rows), len(half.rows), len(whole.rows)) == (2, 3, 6)
    missing = read_sources(sources_of([{"path": "saved", "split": "validation"}], tmp_path))[0]
    assert [(d.rule, d.message) for d in missing.diagnostics] == [
        ("FTC328", "saved (validation) has no split 'validation' (has train, test)")]


def test_csv_and_parquet_with_their_own_column_names(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "a.csv").write_text("instruction,input,output\nSay hi,,hi\nAdd,1 2,3\n")
    pq.write_table(pa.Table.from_pylist([{"src": "2+2", "tgt": "4"}]), tmp_path / "b.parquet")
    result = _run(sources_of([
        {"path": "a.csv", "type": "alpaca"},
        {"path": "b.parquet", "type": "alpaca", "fields": {"instruction": "src", "output": "tgt"}},
    ], tmp_path))
    assert not [d for d in result.diagnostics if d.is_error]
    assert len(result.splits["train"]) == 3 and result.format == "messages"


# ------------------------------------------------------------------ bad input


def test_a_row_missing_its_field_names_the_source_and_row(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [{"instruction": "ok", "output": "fine"},
                                       {"instruction": "no output here"},
                                       {"instruction": "ok 2", "output": "fine 2"}])
    result = _run(sources_of([{"path": "a.jsonl", "type": "alpaca"}], tmp_path))
    errors = [d for d in result.diagnostics if d.is_error]
    assert [(d.rule, d.path, d.line) for d in errors] == [("FTC326", "a.jsonl", 2)]
    assert "alpaca row has no column 'output'" in errors[0].message
    assert errors[0].hint == "map it: fields: {output: <column>}"
    assert [(r["reason"], r["source"]) for r in result.rejected] == [("missing_field",
                                                                      "a.jsonl:2")]
    read = result.report["stages"][0]
    assert read["in"] == 3 and read["kept"] == 2 and read["dropped"] == {"missing_field": 1}


def test_a_single_file_has_only_a_train_split(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [{"prompt": "p", "completion": "c"}])
    result = _run(sources_of([{"path": "a.jsonl", "split": "test"}], tmp_path))
    assert [(d.rule, d.message) for d in result.diagnostics] == [
        ("FTC328", "a.jsonl (test) is one file: its only split is 'train', not 'test'")]


def test_hub_id_not_cached_says_how_to_fetch_it(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = _run(sources_of([{"path": "someorg/alpaca-like", "type": "alpaca",
                               "split": "train[:1%]"}], tmp_path))
    [diag] = result.diagnostics
    assert (diag.rule, diag.path) == ("FTC327", "someorg/alpaca-like (train[:1%])")
    assert "not in the local Hugging Face cache" in diag.message
    assert "hf download --repo-type dataset someorg/alpaca-like" in diag.hint


def test_data_prepare_reads_the_recipes_sources(tmp_path, ftc_cli):
    write_jsonl(tmp_path / "chats.jsonl", [
        {"conversations": [{"from": "human", "value": f"question number {i} here"},
                           {"from": "gpt", "value": f"answer number {i} there"}]}
        for i in range(12)] + [{"conversations": "broken"}])
    (tmp_path / "recipe.yaml").write_text(
        "name: src\nmodel: {base: org/model}\nmethod: {kind: lora}\n"
        "data:\n  train:\n    - {path: chats.jsonl, type: sharegpt}\n")
    code, out, err = ftc_cli("data", "prepare", str(tmp_path / "recipe.yaml"),
                             "-o", str(tmp_path / "out"))
    assert code == 1
    assert "chats.jsonl:13:1: error: FTC326 sharegpt column 'conversations' " \
           "must be a list of messages, got str" in out + err


@pytest.fixture
def ftc_cli(capsys):
    from ftc.cli import main

    def _run(*argv):
        try:
            code = main(list(argv))
        except SystemExit as exc:
            code = exc.code
        captured = capsys.readouterr()
        return code, captured.out, captured.err
    return _run


def test_source_display_in_report(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [{"prompt": f"p{i}", "completion": f"c{i}"}
                                       for i in range(4)])
    result = _run(sources_of([{"path": "a.jsonl", "split": "train[:2]"}], tmp_path))
    assert result.report["inputs"][0]["path"] == "a.jsonl (train[:2])"
    assert result.report["inputs"][0]["rows"] == 2
    assert json.dumps(result.report)  # report.json stays JSON


def test_data_check_reads_a_recipes_sources(tmp_path, ftc_cli):
    write_jsonl(tmp_path / "alpaca.jsonl", [{"instruction": f"task {i} to do now",
                                             "output": f"done {i} well"} for i in range(6)]
                + [{"instruction": "no output"}])
    (tmp_path / "recipe.yaml").write_text(
        "name: src\nmodel: {base: org/model}\nmethod: {kind: lora}\n"
        "data:\n  train:\n    - {path: alpaca.jsonl, type: alpaca, split: 'train[:5]'}\n"
        "    - {path: alpaca.jsonl, type: alpaca, split: 'train[5:]'}\n")
    code, out, _ = ftc_cli("data", "check", str(tmp_path / "recipe.yaml"))
    assert code == 1
    assert out.startswith("alpaca.jsonl (train[5:]):7:1: error: FTC326 alpaca row has no "
                          "column 'output' (has instruction)")
    assert "valid examples" in out and "│ 6 " in out.split("valid examples")[1][:60]


def test_a_cached_hub_dataset_loads_offline_without_the_network(tmp_path):
    """A hub id that `datasets` has cached (HF_HOME/datasets/ORG___NAME/...) is read from the
    cache with offline mode on for the call: no network attempt (a retry loop would take
    ~25 s here), the slice applied."""
    import glob
    import os
    import shutil
    import subprocess
    import sys

    import datasets

    home = tmp_path / "hf"
    write_jsonl(tmp_path / "rows.jsonl", [{"instruction": f"task {i} now", "output": f"done {i}"}
                                          for i in range(4)])
    datasets.load_dataset("json", data_files=str(tmp_path / "rows.jsonl"), split="train",
                          cache_dir=str(tmp_path / "build"))
    [built] = [p for p in glob.glob(str(tmp_path / "build/json/*/0.0.0/*")) if os.path.isdir(p)]
    cached = home / "datasets/someorg___tiny-alpaca/default/0.0.0" / os.path.basename(built)
    shutil.copytree(built, cached)  # as load_dataset('someorg/tiny-alpaca') leaves it
    (cached / "json-train.arrow").rename(cached / "tiny-alpaca-train.arrow")
    (tmp_path / "recipe.yaml").write_text(
        "name: hub\nmodel: {base: org/model}\nmethod: {kind: lora}\ndata:\n  train:\n"
        "    - {path: someorg/tiny-alpaca, type: alpaca, split: 'train[:75%]'}\n")
    env = {**os.environ, "HF_HOME": str(home)}
    env.pop("HF_HUB_OFFLINE", None)
    env.pop("HF_DATASETS_OFFLINE", None)
    done = subprocess.run([sys.executable, "-m", "ftc.cli", "data", "check", "--json",
                           str(tmp_path / "recipe.yaml")], capture_output=True, text=True,
                          env=env, timeout=20, check=False)
    report = json.loads(done.stdout)
    assert [d["rule"] for d in report["diagnostics"] if d["severity"] == "error"] == []
    assert report["summary"]["inputs"] == [{"split": "train", "path": "someorg/tiny-alpaca "
                                            "(train[:75%])", "sha256": None, "rows": 3}]


def test_fields_without_a_type_say_which_type_they_are():
    from ftc.source_spec import source_type

    assert source_type({"fields": {"instruction": "q", "output": "a"}}) == "alpaca"
    assert source_type({"fields": {"prompt": "q", "completion": "a"}}) == "completion"
    assert source_type({"fields": {"chosen": "good"}}) == "preference"
    assert source_type({"roles": {"human": "user"}}) == "messages"
    assert source_type({"path": "a.jsonl"}) == "auto"
    assert convert({"q": "x", "a": "y"}, {"fields": {"prompt": "q", "completion": "a"}}) == {
        "prompt": "x", "completion": "y"}
