"""Bad input: each gives a clear error with its location, exit 1, and nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftc.dataprep import prepare_for_run
from ftc.dataprep.readers import MAX_LINE_BYTES, read_any
from ftc.diagnostics import FtcError

from .conftest import chat, distinct_rows, make_lock, write_jsonl


def _rules(result) -> list[tuple[str, int, str]]:
    return [(d.rule, d.line, d.severity) for d in result.diagnostics]


def test_invalid_json_line_is_reported_and_the_rest_still_checked(tmp_path, cli):
    path = write_jsonl(tmp_path / "d.jsonl", [
        chat("hi there", "hello"), '{"messages": [oops', chat("x", ""),
        chat("fine", "yes")])
    code, out, _ = cli("data", "check", path)
    assert code == 1
    assert f"{path}:2:15: error: FTC301 invalid JSON" in out
    # line 4 was still read and line 3 still validated after the bad line
    assert f"{path}:3:2: error: FTC313 messages[1] has empty content" in out
    assert "│ valid examples" in out and "│ 2 " in out.split("valid examples")[1][:40]


def test_wrong_encoding_points_at_the_byte(tmp_path, cli):
    path = tmp_path / "latin1.jsonl"
    good = json.dumps(chat("fine", "ok")).encode()
    bad = json.dumps(chat("café", "ok"), ensure_ascii=False).encode("latin-1")
    path.write_bytes(good + b"\n" + bad + b"\n")
    code, out, _ = cli("data", "check", path)
    assert code == 1
    col = bad.index(b"\xe9") + 1
    assert f"{path}:2:{col}: error: FTC302 invalid UTF-8 byte 0xe9" in out


def test_utf16_file_is_named_as_such(tmp_path):
    path = tmp_path / "u16.jsonl"
    path.write_bytes(json.dumps(chat("a", "b")).encode("utf-16"))
    result = read_any(path, "u16.jsonl")
    assert _rules(result) == [("FTC302", 1, "error")]
    assert "UTF-16" in result.diagnostics[0].message


@pytest.mark.parametrize("content", ["", "\n\n  \n"])
def test_empty_file(tmp_path, cli, content):
    path = tmp_path / "empty.jsonl"
    path.write_text(content)
    code, out, _ = cli("data", "check", path)
    assert code == 1
    assert f"{path}:1:1: error: FTC303 file has no examples" in out


def test_single_huge_line_is_refused_without_reading_it_whole(tmp_path):
    path = tmp_path / "huge.jsonl"
    with path.open("wb") as fh:
        fh.write(json.dumps(chat("a", "b")).encode() + b"\n")
        fh.write(b'{"prompt": "' + b"x" * (MAX_LINE_BYTES + 10) + b'", "completion": "y"}\n')
        fh.write(json.dumps(chat("c", "d")).encode() + b"\n")
    result = read_any(path, "huge.jsonl")
    assert _rules(result) == [("FTC318", 2, "error")]
    assert [r.line for r in result.rows] == [1, 3]
    assert result.rejected[0]["reason"] == "line_too_long"


def test_mixed_formats_in_one_split(tmp_path, cli):
    a = write_jsonl(tmp_path / "a.jsonl", distinct_rows(3))
    b = write_jsonl(tmp_path / "b.jsonl", [{"prompt": "p", "completion": "c"}])
    code, out, _ = cli("data", "check", a, b)
    assert code == 1
    assert f"{b}:1:1: error: FTC307 train split mixes formats: {b} is completion" in out
    c = write_jsonl(tmp_path / "c.jsonl", [*distinct_rows(3), {"prompt": "p", "completion": "c"}])
    code, out, _ = cli("data", "check", c)
    assert code == 1
    assert f"{c}:4:1: error: FTC307 completion example in a messages file" in out


def test_missing_file(tmp_path, cli):
    code, out, _ = cli("data", "check", tmp_path / "nope.jsonl")
    assert code == 1
    assert f"{tmp_path / 'nope.jsonl'}:1:1: error: FTC300 file not found" in out


def test_csv_without_the_needed_columns(tmp_path, cli):
    path = tmp_path / "d.csv"
    path.write_text("question,answer\nwhat,that\n")
    code, out, _ = cli("data", "check", path)
    assert code == 1
    assert f"{path}:1:1: error: FTC304 CSV columns ['question', 'answer'] hold no known format" \
        in out


def test_csv_rows_keep_their_line_numbers(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text('prompt,completion\n"multi\nline",ok\n,\nsecond,\n', encoding="utf-8")
    result = read_any(path, "d.csv")
    assert [(r.line, r.value) for r in result.rows] == [
        (2, {"prompt": "multi\nline", "completion": "ok"}),
        (5, {"prompt": "second", "completion": ""})]


def test_json_array_rows_have_lines_and_a_syntax_error_has_its_position(tmp_path):
    path = tmp_path / "d.json"
    path.write_text('[\n  {"prompt": "a", "completion": "b"},\n  {"prompt": "c",\n'
                    '   "completion": "d"}\n]\n')
    result = read_any(path, "d.json")
    assert [(r.line, r.col) for r in result.rows] == [(2, 3), (3, 3)]
    path.write_text('[\n  {"prompt": "a", "completion": "b"}\n  {"prompt": "c"}\n]')
    result = read_any(path, "d.json")
    assert _rules(result) == [("FTC301", 3, "error")]
    assert result.diagnostics[0].col == 3


def test_unsupported_file_type(tmp_path):
    path = tmp_path / "d.txt"
    path.write_text("hello")
    assert _rules(read_any(path, "d.txt")) == [("FTC304", 1, "error")]


def test_prepare_with_bad_input_writes_nothing_and_keeps_the_old_output(tmp_path):
    write_jsonl(tmp_path / "train.jsonl", distinct_rows(30))
    out = tmp_path / "out"
    prepare_for_run(make_lock(["train.jsonl"]), tmp_path, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    write_jsonl(tmp_path / "bad.jsonl", [*distinct_rows(30), "{not json"])
    with pytest.raises(FtcError) as err:
        prepare_for_run(make_lock(["bad.jsonl"]), tmp_path, out)
    assert [(d.rule, d.path, d.line) for d in err.value.diagnostics] == [
        ("FTC301", "bad.jsonl", 31)]
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jsonl", "out", "train.jsonl"]
    with pytest.raises(FtcError):
        prepare_for_run(make_lock(["bad.jsonl"]), tmp_path, tmp_path / "fresh")
    assert not (tmp_path / "fresh").exists()


def test_prepare_cli_reports_recipe_errors_without_writing(tmp_path: Path, cli):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("name: r\nmodel: {base: m}\nmethod: {kind: lora}\n"
                      "data: {train: nope.jsonl}\noutput_dir: out\n")
    code, _, err = cli("data", "prepare", recipe)
    assert code == 1
    assert "FTC300 file not found: nope.jsonl" in err
    assert not (tmp_path / "out").exists()
