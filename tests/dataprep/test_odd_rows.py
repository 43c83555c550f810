"""Regressions for issue 10's data findings: one odd row never stops the others being read.

Each odd row (a 5,000-digit integer, NaN, a lone surrogate, deep nesting,
bytes that are not UTF-8) is rejected with its line and a reason; the rows
around it are still checked; rows in = kept + dropped.  A row holding a
secret-shaped string is left out (FTC325) and redacted wherever it is written.
A chat template that fails is FTC342, never a traceback.
"""

from __future__ import annotations

import json
import os
import shutil
import threading

import pytest

from ftc.dataprep import prepare_for_run
from ftc.dataprep.check import check_files
from ftc.dataprep.settings import DataSettings
from ftc.diagnostics import FtcError

from .conftest import CHATML, chat, distinct_rows, make_lock, write_jsonl

ODD = {
    "bad_number": '{"messages": [], "n": ' + "9" * 5000 + "}",
    "nan": '{"messages": [{"role": "user", "content": NaN}]}',
    "overflow": '{"messages": [], "x": 1e999}',
    "lone_surrogate": '{"messages": [{"role": "user", "content": "\\ud800"}, '
                      '{"role": "assistant", "content": "x"}]}',
    "nested_too_deeply": '{"a": ' * 100000 + "1" + "}" * 100000,
    "deep_but_parsable": '{"messages": ' + "[" * 100 + "]" * 100 + "}",
}
REASONS = {"bad_number": "bad_number", "nan": "bad_number", "overflow": "bad_number",
           "lone_surrogate": "lone_surrogate", "nested_too_deeply": "nested_too_deeply",
           "deep_but_parsable": "nested_too_deeply"}
TOKEN = "hf_" + "aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3x"


@pytest.mark.parametrize("name", list(ODD))
def test_each_odd_row_is_rejected_with_its_line_and_the_run_goes_on(tmp_path, name):
    path = write_jsonl(tmp_path / "d.jsonl", [*distinct_rows(3), ODD[name], *distinct_rows(3, 3)])
    result = check_files([str(path)], DataSettings(split=None))
    rejected = [r for r in result.rejected if r["source"] == f"{path}:4"]
    assert [r["reason"] for r in rejected] == [REASONS[name]]
    assert [(d.line, d.is_error) for d in result.diagnostics if d.line == 4] == [(4, True)]
    rows = result.report["rows"]
    assert rows == {"in": 7, "kept": 6, "dropped": 1}


def test_non_utf8_and_odd_rows_in_json_and_csv(tmp_path):
    good = json.dumps(chat("hello there", "hi"))
    (tmp_path / "d.json").write_text(f'[{good},\n{ODD["lone_surrogate"]},\n{ODD["bad_number"]},'
                                     f'\n{good}]')
    result = check_files([str(tmp_path / "d.json")], DataSettings(split=None))
    assert [r["reason"] for r in result.rejected] == ["lone_surrogate", "bad_number"]
    assert result.report["rows"]["in"] == 4  # the array was read to its end
    (tmp_path / "d.csv").write_text('messages\n"[{""role"": ""user"", ""content"": NaN}]"\n')
    result = check_files([str(tmp_path / "d.csv")], DataSettings(split=None))
    assert [r["reason"] for r in result.rejected] == ["bad_number"]
    path = tmp_path / "bytes.jsonl"
    path.write_bytes(good.encode() + b"\n" + b'{"messages": "\xff\xfe"}\n' + good.encode() + b"\n")
    result = check_files([str(path)], DataSettings(split=None))
    assert [r["reason"] for r in result.rejected] == ["bad_encoding"]


def test_data_check_cli_lists_odd_rows_without_a_traceback(tmp_path, cli):
    path = write_jsonl(tmp_path / "d.jsonl", [*distinct_rows(2), *ODD.values()])
    code, out, err = cli("data", "check", path)
    assert code == 1 and "internal error" not in out + err
    for line in range(3, 3 + len(ODD)):
        assert f"{path}:{line}:" in out


def test_prepare_keeps_its_contract_on_odd_rows(tmp_path):
    """Odd rows are errors like any invalid row: nothing is written, every one is listed."""
    write_jsonl(tmp_path / "train.jsonl", [*distinct_rows(30), *ODD.values()])
    with pytest.raises(FtcError) as err:
        prepare_for_run(make_lock(["train.jsonl"]), tmp_path, tmp_path / "out")
    assert sorted(d.line for d in err.value.diagnostics) == list(range(31, 31 + len(ODD)))
    assert not (tmp_path / "out").exists()


def test_data_files_that_are_not_regular_files(tmp_path, cli):
    os.mkfifo(tmp_path / "fifo.jsonl")
    os.symlink("/dev/zero", tmp_path / "zero.jsonl")
    done = threading.Event()

    def unblock():  # if a reader ever opened the FIFO, this would let the test end
        if not done.wait(30):
            with open(tmp_path / "fifo.jsonl", "w"):
                pass
    threading.Thread(target=unblock, daemon=True).start()
    code, out, _ = cli("data", "check", tmp_path / "fifo.jsonl", tmp_path / "zero.jsonl")
    done.set()
    assert code == 1
    assert "FTC300 cannot read" in out and "FIFO (named pipe), not a regular file" in out
    assert "character device, not a regular file" in out


def test_rows_with_a_secret_are_left_out_and_redacted(tmp_path, cli):
    rows = [*distinct_rows(30), chat("my key", f"use {TOKEN}"), chat("x", "y"),
            {"messages": [{"role": "user", "content": TOKEN}]}]
    write_jsonl(tmp_path / "train.jsonl", rows)
    result = check_files([str(tmp_path / "train.jsonl")], DataSettings(split=None))
    assert [d.line for d in result.diagnostics if d.rule == "FTC325"] == [31]
    code, out, err = cli("data", "check", tmp_path / "train.jsonl", "--json")
    assert TOKEN not in out + err
    lock = make_lock(["train.jsonl"])
    with pytest.raises(FtcError):  # line 33 is invalid (no assistant), and shows redacted
        prepare_for_run(lock, tmp_path, tmp_path / "out")
    write_jsonl(tmp_path / "train.jsonl", rows[:-1])
    prepared = prepare_for_run(lock, tmp_path, tmp_path / "out")
    written = {p.name: p.read_text() for p in (tmp_path / "out").iterdir()}
    assert not any(TOKEN in text for text in written.values())
    rejected = [json.loads(line) for line in written["rejected.jsonl"].splitlines()]
    secret = next(r for r in rejected if r["reason"] == "secret")
    assert secret["example"]["messages"][1]["content"] == "use [REDACTED]"
    assert prepared.report["rows"]["in"] == 32


BROKEN = "{% for m in messages %}{{ m.content }{% endfor %}"
STRICT = ("{% for m in messages %}{% if m.role == 'user' and 'forbidden' in m.content %}"
          "{{ raise_exception('no forbidden words') }}{% endif %}{{ m.content }}{% endfor %}")


def test_a_broken_chat_template_is_one_error_not_a_crash(tmp_path, tiny_tokenizer_dir):
    write_jsonl(tmp_path / "train.jsonl", distinct_rows(30))
    lock = make_lock(["train.jsonl"])
    lock["model"].update(base=str(tiny_tokenizer_dir), chat_template=BROKEN)
    with pytest.raises(FtcError) as err:
        prepare_for_run(lock, tmp_path, tmp_path / "out")
    [d] = [d for d in err.value.diagnostics if d.rule == "FTC342"]
    assert "does not compile: template line 1: unexpected '}'" in d.message


def test_examples_a_template_refuses_are_each_an_error(tmp_path, tiny_tokenizer_dir):
    rows = [*distinct_rows(10), chat("a forbidden question", "no")]
    settings = DataSettings(split=None, tokenizer=str(tiny_tokenizer_dir), chat_template=STRICT)
    result = check_files([str(write_jsonl(tmp_path / "d.jsonl", rows))], settings)
    [d] = [d for d in result.diagnostics if d.rule == "FTC342"]
    assert d.line == 11 and "refuses this example: no forbidden words" in d.message
    assert result.report["rows"] == {"in": 11, "kept": 10, "dropped": 1}
    settings.chat_template = CHATML
    assert not [d for d in check_files([str(tmp_path / "d.jsonl")], settings).diagnostics
                if d.rule == "FTC342"]


def test_labels_that_look_like_rich_markup_are_shown_as_text(tmp_path, cli):
    rows = [chat(f"ticket {i} text t{i}", label) for i, label in
            enumerate(["[/red]", "[bold]x", "[/red]", "[bold]x", "[link=x]y"] * 4)]
    code, out, err = cli("data", "check", write_jsonl(tmp_path / "d.jsonl", rows),
                         "--task", "classification")
    assert code in (0, 1) and "internal error" not in out + err
    assert "[/red]" in out and "[bold]x" in out


def test_prepare_never_replaces_a_directory_it_did_not_write(tmp_path, cli):
    """`-o ~` once meant: move the home directory aside, write the splits, delete it."""
    write_jsonl(tmp_path / "train.jsonl", distinct_rows(30))
    recipe = tmp_path / "r.yaml"
    recipe.write_text("name: r\nmodel: {base: m}\nmethod: {kind: lora}\n"
                      "data: {train: train.jsonl}\n")
    home = tmp_path / "home"
    home.mkdir()
    (home / "thesis.tex").write_text("years of work")
    (tmp_path / "a-file").write_text("keep")
    for target in (home, tmp_path / "a-file"):
        code, _, err = cli("data", "prepare", recipe, "-o", target)
        assert code == 1 and "not replacing it" in err and "internal error" not in err
    assert (home / "thesis.tex").read_text() == "years of work"
    assert (tmp_path / "a-file").read_text() == "keep"
    out = tmp_path / "out"
    assert cli("data", "prepare", recipe, "-o", out)[0] == 0
    assert cli("data", "prepare", recipe, "-o", out)[0] == 0  # its own output is replaced


def test_a_tokenizer_directory_holding_a_fifo_is_refused_not_opened(tmp_path, cli,
                                                                     tiny_tokenizer_dir):
    model = tmp_path / "model"
    shutil.copytree(tiny_tokenizer_dir, model)
    (model / "tokenizer.json").unlink()
    os.mkfifo(model / "tokenizer.json")
    path = write_jsonl(tmp_path / "d.jsonl", distinct_rows(3))
    code, out, err = cli("data", "check", path, "--model", model, "--max-seq-length", "64")
    assert code == 0 and "FTC341" in out
    assert "tokenizer.json is a FIFO (named pipe), not a regular file" in out
