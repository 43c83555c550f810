"""--format json / --json: stdout holds one JSON document on success and failure alike;
rule ids given to --ignore or lint.ignore must name a rule."""

from __future__ import annotations

import json

import pytest

from ftc.cli import main

GOOD = """\
name: ok
model: {base: org/model}
method: {kind: lora}
data: {train: t.jsonl}
"""


@pytest.fixture
def recipe(tmp_path):
    def _write(text: str, name: str = "r.yaml"):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)
    return _write


def run(capsys, *argv: str):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def test_compile_json_success_is_one_object_on_stdout(capsys, recipe, tmp_path):
    code, body, err = run(capsys, "compile", "--format", "json", recipe(GOOD),
                          "-o", str(tmp_path / "b"))
    assert code == 0 and body["ok"] is True and body["bundle"] == str(tmp_path / "b")
    assert isinstance(body["diagnostics"], list) and err == ""


def test_compile_json_failure_carries_the_diagnostics(capsys, recipe):
    code, body, err = run(capsys, "compile", "--format", "json",
                          recipe(GOOD.replace("lora", "lorra")))
    assert code == 1 and body["ok"] is False and "no bundle" in body["error"]
    assert body["diagnostics"][0]["rule"] == "FTC012" and err == ""


def test_explain_and_estimate_json_failures(capsys, recipe):
    bad = recipe(GOOD.replace("lora", "lorra"))
    code, body, _ = run(capsys, "explain", "--json", bad)
    assert code == 1 and body["ok"] is False and body["diagnostics"]
    code, body, _ = run(capsys, "explain", "--json", recipe(GOOD, "g.yaml"), "no.such")
    assert code == 2 and "no resolved value" in body["error"]
    code, body, _ = run(capsys, "estimate", "--json", bad)
    assert code == 1 and body["ok"] is False
    code, body, _ = run(capsys, "estimate", "--json", "--gpu", "NOPE-GPU", bad)
    assert code == 2 and "FTC403" in body["error"]


def test_lint_json_usage_error_and_rule_list(capsys):
    code, body, _ = run(capsys, "lint", "--format", "json")
    assert code == 2 and body["ok"] is False
    code, rules, _ = run(capsys, "lint", "--list-rules", "--format", "json")
    ids = {r["id"]: r for r in rules}
    assert code == 0 and ids["FTC102"]["kind"] == "lint" and ids["FTC370"]["kind"] != "lint"
    assert {"id", "severity", "title", "kind"} <= set(ids["FTC101"])


@pytest.mark.parametrize("rule_id, hint", [("banana", "--list-rules"), ("FTC999", "--list-rules"),
                                           ("ftc102", "did you mean 'FTC102'")])
def test_unknown_ignore_ids_are_usage_errors(capsys, recipe, rule_id, hint):
    code, body, _ = run(capsys, "lint", "--format", "json", "--ignore", rule_id, recipe(GOOD))
    assert code == 2
    assert body[0]["rule"] == "FTC008" and rule_id in body[0]["message"]
    assert hint in body[0]["hint"]


def test_an_unknown_id_in_lint_ignore_is_an_error_at_its_line(capsys, recipe):
    path = recipe(GOOD + "lint:\n  ignore: [FTC102, FTC999]\n")
    code, body, _ = run(capsys, "lint", "--format", "json", path)
    assert code == 1
    (d,) = body
    assert (d["line"], d["col"], d["rule"]) == (6, 20, "FTC012") and "FTC999" in d["message"]


def test_known_ids_still_silence(capsys, recipe):
    path = recipe(GOOD.replace("method:", "training: {epochs: 9}\nmethod:"))
    code, body, _ = run(capsys, "lint", "--format", "json", path)
    assert "FTC102" in {d["rule"] for d in body}
    code, body, _ = run(capsys, "lint", "--format", "json", "--ignore", "FTC102", path)
    assert code == 0 and "FTC102" not in {d["rule"] for d in body}


@pytest.mark.parametrize("argv", [
    ["lint", "--format", "json", "--bogus", "r.yaml"],
    ["compile", "--format=json"],
    ["data", "export", "--json", "--to", "nowhere", "x.jsonl"],
])
def test_usage_errors_are_json_when_json_was_asked_for(capsys, argv):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    captured = capsys.readouterr()
    (problem,) = json.loads(captured.out)
    assert stop.value.code == 2 and problem["rule"] == "FTC008"
    assert problem["path"] == "<command line>" and "ftc: error:" in captured.err


def test_usage_errors_stay_text_without_json(capsys):
    with pytest.raises(SystemExit):
        main(["lint", "--bogus", "r.yaml"])
    captured = capsys.readouterr()
    assert captured.out == "" and "usage: ftc" in captured.err


def test_sarif_usage_error_is_a_sarif_log(capsys):
    with pytest.raises(SystemExit):
        main(["lint", "--format", "sarif", "--bogus"])
    (run_,) = json.loads(capsys.readouterr().out)["runs"]
    assert run_["results"][0]["ruleId"] == "FTC008"


def test_data_export_json_carries_the_diagnostics(capsys, tmp_path):
    src = tmp_path / "x.jsonl"
    src.write_text('{"bad": 1}\n', encoding="utf-8")
    code = main(["data", "export", "--json", "--to", "openai", "-o",
                 str(tmp_path / "o.jsonl"), str(src)])
    body = json.loads(capsys.readouterr().out)
    assert code == 1 and body["examples"] == 0
    assert [d["rule"] for d in body["diagnostics"]] == ["FTC306"]
    assert body["diagnostics"][0]["line"] == 1 and not (tmp_path / "o.jsonl").exists()
