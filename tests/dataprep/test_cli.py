"""`ftc data check|prepare|export` end to end, in-process."""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import chat, distinct_rows, write_jsonl


def test_check_prints_problems_then_a_summary(tmp_path, cli):
    rows = distinct_rows(30)
    path = write_jsonl(tmp_path / "d.jsonl", [*rows, rows[2], {"messages": "x"}])
    code, out, _ = cli("data", "check", path)
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == f"{path}:31:1: warning: FTC320 exact duplicate of {path}:3"
    assert lines[1].startswith(f"{path}:32:2: error: FTC310 'messages' must be a list")
    summary = out[out.index("data check"):]
    for what in ("rows read", "32", "valid examples", "31", "format", "messages",
                 "exact duplicates", "near duplicates (Jaccard >= 0.85)", "label balance",
                 "FTC310 missing or malformed messages list", "1 (error)"):
        assert what in summary


def test_check_json_is_machine_readable(tmp_path, cli, tiny_tokenizer_dir):
    path = write_jsonl(tmp_path / "d.jsonl", [*distinct_rows(12), chat("x", "y " * 300)])
    code, out, err = cli("data", "check", path, "--json", "--model", tiny_tokenizer_dir,
                         "--max-seq-length", "100")
    assert code == 0, err
    data = json.loads(out)
    assert [(d["rule"], d["line"]) for d in data["diagnostics"]] == [("FTC340", 13)]
    tokens = data["summary"]["tokens"]
    assert tokens["over_max_seq_length"] == 1 and tokens["max"] > 100 > tokens["p50"] > 10
    assert data["summary"]["rows"] == {"in": 13, "kept": 13, "dropped": 0}


def test_check_reports_leakage_against_validation_files(tmp_path, cli):
    train = write_jsonl(tmp_path / "t.jsonl", distinct_rows(20))
    val = write_jsonl(tmp_path / "v.jsonl", distinct_rows(3, start=5))
    code, out, _ = cli("data", "check", train, "--validation", val)
    assert code == 1
    assert out.count("error: FTC322 validation example is also in train") == 3


def test_check_usage_errors_exit_2(tmp_path, cli):
    path = write_jsonl(tmp_path / "d.jsonl", distinct_rows(3))
    assert cli("data", "check", path, "--max-seq-length", "10")[0] == 2  # needs --model
    assert cli("data", "check", path, "--threshold", "1.5")[0] == 2
    assert cli("data")[0] == 2
    assert cli("data", "check")[0] == 2


def test_prepare_writes_into_the_run_directory(tmp_path, cli, monkeypatch):
    write_jsonl(tmp_path / "data" / "train.jsonl", distinct_rows(50))
    recipe = tmp_path / "r.yaml"
    recipe.write_text("name: demo\nmodel: {base: models/none}\nmethod: {kind: lora}\n"
                      "data: {train: data/train.jsonl}\noutput_dir: runs\n")
    monkeypatch.chdir(tmp_path)
    code, out, err = cli("data", "prepare", "r.yaml", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["splits"] == {"train": 40, "validation": 5, "test": 5}
    assert report["inputs"][0]["path"] == "data/train.jsonl"
    data_dir = tmp_path / "runs" / "demo" / "data"
    assert sorted(p.name for p in data_dir.iterdir()) == [
        "rejected.jsonl", "report.json", "test.jsonl", "train.jsonl", "validation.jsonl"]
    code, _, _ = cli("data", "prepare", "r.yaml", "-o", "elsewhere")
    assert code == 0 and (tmp_path / "elsewhere" / "train.jsonl").exists()


def test_export_openai_chat_jsonl_with_billed_tokens(tmp_path, cli):
    src = write_jsonl(tmp_path / "c.jsonl",
                      [{"prompt": f"q{i} " * 4, "completion": f"a{i} " * 8} for i in range(12)])
    out = tmp_path / "o.jsonl"
    code, stdout, err = cli("data", "export", "--to", "openai", src, "-o", out,
                            "--epochs", "2", "--json")
    assert code == 0, err
    first = json.loads(out.read_text().splitlines()[0])
    assert first == {"messages": [{"role": "user", "content": "q0 q0 q0 q0 "},
                                  {"role": "assistant", "content": "a0 a0 a0 a0 a0 a0 a0 a0 "}]}
    summary = json.loads(stdout)
    assert summary["examples"] == 12
    assert summary["billed_tokens"] == 2 * summary["tokens"]["total"]
    # per example: ceil(12/4) + ceil(24/4 or 32/4) + 2 x 3 per message + 3 priming
    assert summary["tokens"]["min"] == 3 + 6 + 6 + 3
    # under 50 examples: advice, not an error; with --json it is in the JSON, not on stderr
    assert [d["rule"] for d in summary["diagnostics"]] == ["FTC361"] and "FTC361" not in err


def test_export_azure_writes_a_bom_and_preference_pairs(tmp_path, cli):
    rows = [{"prompt": f"question {i}", "chosen": f"good {i}", "rejected": f"bad {i}"}
            for i in range(10)]
    src = write_jsonl(tmp_path / "p.jsonl", rows)
    out = tmp_path / "o.jsonl"
    code, _, err = cli("data", "export", "--to", "azure-openai", src, "-o", out)
    assert code == 0, err
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert json.loads(raw[3:].decode().splitlines()[0]) == {
        "input": {"messages": [{"role": "user", "content": "question 0"}]},
        "preferred_output": [{"role": "assistant", "content": "good 0"}],
        "non_preferred_output": [{"role": "assistant", "content": "bad 0"}]}


def test_export_refuses_to_write_when_provider_rules_fail(tmp_path, cli):
    src = write_jsonl(tmp_path / "c.jsonl", distinct_rows(5))
    out = tmp_path / "o.jsonl"
    code, stdout, _ = cli("data", "export", "--to", "openai", src, "-o", out)
    assert code == 1 and not out.exists()
    assert "error: FTC360 OpenAI needs at least 10 examples, got 5" in stdout
    src = write_jsonl(tmp_path / "long.jsonl", distinct_rows(12))
    code, stdout, _ = cli("data", "export", "--to", "openai", src, "-o", out,
                          "--max-tokens", "20")
    assert code == 1 and not out.exists()
    assert stdout.count("error: FTC360 about") == 12


def test_importing_dataprep_and_the_verb_stays_light():
    code = ("import sys, ftc.dataprep, ftc.commands.data, ftc.dataprep.check, "
            "ftc.dataprep.export\n"
            "heavy = {'torch', 'transformers', 'datasets', 'datasketch', 'numpy', 'pyarrow', "
            "'trl', 'peft', 'accelerate', 'deepspeed', 'rich'}\n"
            "print(sorted(heavy & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
