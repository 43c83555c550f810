"""Other sources (Parquet, JSON, CSV, hub ids) and row accounting in check mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from ftc.dataprep.check import check_files
from ftc.dataprep.settings import DataSettings

from .conftest import distinct_rows, write_jsonl


def test_parquet_rows_are_checked_with_row_numbers(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"prompt": f"p{i} text", "completion": f"c{i} text"} for i in range(5)]
    rows[3]["completion"] = ""
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "d.parquet")
    result = check_files([str(tmp_path / "d.parquet")], DataSettings(split=None))
    assert result.format == "completion"
    assert [(d.rule, d.line) for d in result.diagnostics] == [("FTC316", 4)]
    assert len(result.splits["train"]) == 4


def test_every_stage_accounts_for_every_row_in_check_mode(tmp_path):
    rows = distinct_rows(20)
    bad = ["{broken", json.dumps({"messages": []}), json.dumps(["x"])]
    a = write_jsonl(tmp_path / "a.jsonl", [*rows[:10], *bad, rows[0]])
    b = tmp_path / "b.csv"
    b.write_text("messages\n" + "\n".join(
        '"' + json.dumps(r["messages"]).replace('"', '""') + '"' for r in rows[10:]) + "\n")
    result = check_files([str(a), str(b)], DataSettings(split=None))
    report = result.report
    for stage in report["stages"]:
        assert stage["in"] == stage["kept"] + sum(stage["dropped"].values()), stage
    by_name = {s["stage"]: s for s in report["stages"]}
    assert by_name["read"] == {"stage": "read", "in": 24, "kept": 23,
                               "dropped": {"invalid_json": 1}}
    assert by_name["validate"]["dropped"] == {"invalid_example": 2}
    assert report["rows"] == {"in": 24, "kept": 21, "dropped": 3}
    assert report["duplicates"]["exact"] == 1
    assert report["file_formats"] == {str(a): "messages", str(b): "messages"}
    assert [r["reason"] for r in result.rejected] == [
        "invalid_json", "invalid_example", "invalid_example"]


def test_hub_id_that_cannot_be_loaded_is_a_clear_error(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    run = subprocess.run([sys.executable, "-m", "ftc.cli", "data", "check", "someorg/somedata"],
                         capture_output=True, text=True, env=env, cwd=tmp_path, check=False)
    assert run.returncode == 1
    assert run.stdout.startswith(
        "someorg/somedata:1:1: error: FTC327 hub dataset 'someorg/somedata' could not be "
        "loaded: it is not in the local Hugging Face cache and offline mode is set")
    assert "hf download --repo-type dataset someorg/somedata" in run.stdout
    assert "Traceback" not in run.stderr
