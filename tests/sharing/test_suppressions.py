"""`# ftc: ignore[FTCnnn]` silences one rule on one value; bad or unused comments are reported."""

from __future__ import annotations

import json

from ftc.cli import main

HEAD = """\
name: x
model: {base: org/model}
method: {kind: lora}
data: {train: t.jsonl}
training:
"""


def lint(capsys, tmp_path, body: str, *flags: str):
    path = tmp_path / "r.yaml"
    path.write_text(HEAD + body, encoding="utf-8")
    code = main(["lint", "--format", "json", "--ignore", "FTC120", *flags, str(path)])
    return code, json.loads(capsys.readouterr().out)


def rules(diags) -> list[tuple[str, int]]:
    return sorted((d["rule"], d["line"]) for d in diags)


def test_a_comment_on_the_line_silences_that_rule_there(capsys, tmp_path):
    code, diags = lint(capsys, tmp_path, "  epochs: 9   # ftc: ignore[FTC102]\n")
    assert code == 0 and diags == []


def test_a_comment_line_above_silences_the_next_line_only(capsys, tmp_path):
    body = ("  # a tiny data set needs them, ftc: ignore[FTC102]\n  epochs: 9\n"
            "  learning_rate: 0.1\n")
    code, diags = lint(capsys, tmp_path, body)
    assert rules(diags) == [("FTC101", 8)]


def test_a_different_rule_on_the_line_is_not_silenced(capsys, tmp_path):
    code, diags = lint(capsys, tmp_path, "  epochs: 9   # ftc: ignore[FTC101]\n")
    assert rules(diags) == [("FTC016", 6), ("FTC102", 6)]
    unused = next(d for d in diags if d["rule"] == "FTC016")
    assert unused["severity"] == "warning" and "FTC101" in unused["message"]


def test_unused_suppression_fails_under_strict(capsys, tmp_path):
    body = "  epochs: 3   # ftc: ignore[FTC102]\n"
    assert lint(capsys, tmp_path, body)[0] == 0
    assert lint(capsys, tmp_path, body, "--strict")[0] == 1


def test_unknown_ids_in_a_comment_are_errors_with_did_you_mean(capsys, tmp_path):
    code, diags = lint(capsys, tmp_path, "  epochs: 9   # ftc: ignore[FTC102, ftc101, FTC999]\n")
    assert code == 1
    errors = {d["message"].split(":")[1].strip(): d for d in diags if d["severity"] == "error"}
    assert set(errors) == {"ignore[ftc101]", "ignore[FTC999]"}
    assert errors["ignore[ftc101]"]["hint"] == "did you mean 'FTC101'?"
    assert all(d["line"] == 6 and d["rule"] == "FTC012" for d in errors.values())
