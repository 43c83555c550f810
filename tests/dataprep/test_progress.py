"""Progress lines: on a terminal one line per stage with rows, rows/s and ETA; else nothing."""

from __future__ import annotations

from ftc.dataprep import progress
from ftc.dataprep.prepare import prepare_for_run

from .conftest import distinct_rows, make_lock, write_jsonl


def test_progress_line_counts_rate_and_eta(monkeypatch, capsys):
    clock = iter([0.0, 1.0, 2.0, 4.0])  # start, two advances, close
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock))
    shown = progress.Progress("validate", 400, on=True)
    shown.advance(100)  # t=1: 100 rows/s, 300 left
    shown.advance(100)  # t=2
    shown.close()  # t=4
    err = capsys.readouterr().err
    assert "validate: 100/400 rows, 100 rows/s, ETA 3 s\r" in err
    assert "validate: 200/400 rows, 100 rows/s, ETA 2 s\r" in err
    assert err.endswith("validate: 200 rows in 4.0 s, 50 rows/s\n")


def test_prepare_prints_a_line_per_stage_when_asked_and_nothing_otherwise(
        tmp_path, monkeypatch, capsys):
    write_jsonl(tmp_path / "train.jsonl", distinct_rows(40))
    monkeypatch.setenv("FTC_PROGRESS", "1")
    prepare_for_run(make_lock(["train.jsonl"]), tmp_path, tmp_path / "a")
    err = capsys.readouterr().err
    for stage in ("validate: 40 rows in", "exact dedup (train): 40 rows in",
                  "near dedup (train): signatures: 40 rows in",
                  "near dedup (train): confirm: 40 rows in", "write: 40 rows in"):
        assert stage in err
    monkeypatch.delenv("FTC_PROGRESS")  # pytest's stderr is not a terminal: quiet
    prepare_for_run(make_lock(["train.jsonl"]), tmp_path, tmp_path / "b")
    assert capsys.readouterr().err == ""
