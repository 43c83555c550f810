"""`ftc recipes ls|show|cp`: the shipped catalog, a team's folder, copies that still lint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftc.cli import main
from ftc.compiler import SCHEMA_FILE


@pytest.fixture(autouse=True)
def _elsewhere(tmp_path, monkeypatch):
    """Run from an empty folder, so ./recipes of the checkout is not the project's."""
    monkeypatch.chdir(tmp_path)


def run_json(capsys, *argv: str):
    code = main(list(argv))
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_ls_lists_the_shipped_recipes_with_what_they_train(capsys):
    code, rows = run_json(capsys, "recipes", "ls", "--format", "json")
    assert code == 0
    by_name = {r["name"]: r for r in rows}
    q = by_name["llama-3.1-8b-qlora"]
    assert (q["method"], q["model"], q["source"]) == (
        "qlora", "meta-llama/Llama-3.1-8B-Instruct", "package")
    assert q["hardware"] == "8 x H100-80GB" and "QLoRA" in q["description"]
    assert by_name["quickstart"]["hardware"] == "cpu"
    assert by_name["openai-gpt-4.1-mini-sft"]["hardware"] == "openai"


def test_a_path_folder_shadows_the_shipped_recipe(capsys, tmp_path):
    team = tmp_path / "team"
    team.mkdir()
    (team / "quickstart.yaml").write_text(
        "name: quickstart\ndescription: our own\nmodel: {base: org/model}\n"
        "method: {kind: lora}\ndata: {train: t.jsonl}\n", encoding="utf-8")
    code, rows = run_json(capsys, "recipes", "ls", "--path", str(team), "--format", "json")
    assert code == 0
    mine = [r for r in rows if r["name"] == "quickstart"]
    assert len(mine) == 1 and mine[0]["description"] == "our own"


def test_cp_copies_the_extends_chain_and_data_and_the_copy_lints_clean(capsys, tmp_path):
    assert main(["recipes", "cp", "llama-3.1-8b-lora", "team"]) == 0
    assert main(["recipes", "cp", "llama-3.1-8b-qlora", "team"]) == 0  # same base: shared
    team = tmp_path / "team"
    assert (team / "llama-3.1-8b-base.yaml").is_file()
    assert (team / "data" / "tickets" / "train.jsonl").is_file()
    first = (team / "llama-3.1-8b-qlora.yaml").read_text().splitlines()[0]
    assert first == f"# yaml-language-server: $schema={SCHEMA_FILE}"
    capsys.readouterr()
    copy = str(team / "llama-3.1-8b-qlora.yaml")
    code, diags = run_json(capsys, "lint", "--format", "json", copy)
    assert code == 0 and not [d for d in diags if d["severity"] == "error"]


def test_cp_to_a_file_name_and_never_over_existing_files(capsys, tmp_path):
    assert main(["recipes", "cp", "quickstart", "mine.yaml"]) == 0
    assert (tmp_path / "mine.yaml").is_file() and (tmp_path / "data/tickets/train.jsonl").is_file()
    capsys.readouterr()
    assert main(["recipes", "cp", "quickstart", "mine.yaml"]) == 0  # same content: kept
    (tmp_path / "mine.yaml").write_text("name: edited\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["recipes", "cp", "quickstart", "mine.yaml"]) == 1
    assert "would overwrite" in capsys.readouterr().err
    assert (tmp_path / "mine.yaml").read_text() == "name: edited\n"
    assert main(["recipes", "cp", "quickstart", "mine.yaml", "--force"]) == 0


def test_unknown_name_is_an_error_with_did_you_mean(capsys):
    assert main(["recipes", "show", "quickstar"]) == 1
    err = capsys.readouterr().err
    assert "no recipe named 'quickstar'" in err and "did you mean 'quickstart'" in err
    code, body = run_json(capsys, "recipes", "cp", "nope-nothing", "--format", "json")
    assert code == 1 and "no recipe named" in body["error"]


def test_show_prints_the_file_then_resolved_values(capsys):
    code, body = run_json(capsys, "recipes", "show", "llama-3.1-8b-lora", "--format", "json")
    assert code == 0 and "extends: llama-3.1-8b-base.yaml" in body["text"]
    resolved = {r["path"]: r for r in body["resolved"]}
    assert resolved["model.base"]["source"].startswith("extends:")
    assert main(["recipes", "show", "quickstart"]) == 0
    assert "[table:" in capsys.readouterr().out


def test_no_subcommand_is_a_usage_error(capsys):
    assert main(["recipes"]) == 2
    assert Path(SCHEMA_FILE).is_file()
