"""Schema problems: all reported at once, each at its own line:col, in plain words."""

from __future__ import annotations

import json

from ftc.compiler import compile_recipe

BAD = """\
name: support-bot-lora
model:
  base: models/tiny-llama
  max_seq_length: "long"
method:
  kind: lorra
  lora: {rr: 16, r: sixteen}
data:
  train: data/train.jsonl
training:
  scheduler: cosin
hardware:
  gpus: 0
"""


def by_rule(result):
    return {(d.rule, d.line, d.col): d for d in result.diagnostics}


def test_every_problem_is_reported_with_position(write):
    result = compile_recipe(write("r.yaml", BAD))
    got = by_rule(result)
    assert set(got) == {
        ("FTC011", 4, 19), ("FTC012", 6, 9), ("FTC010", 7, 10), ("FTC011", 7, 21),
        ("FTC012", 11, 14), ("FTC014", 13, 9)}
    assert got[("FTC011", 7, 21)].message == \
        'method.lora.r must be an integer >= 1 and <= 4096 (got "sixteen")'


def test_unknown_key_did_you_mean(write):
    result = compile_recipe(write("r.yaml", BAD))
    unknown = by_rule(result)[("FTC010", 7, 10)]
    assert unknown.message == "unknown key 'rr' in method.lora"
    assert unknown.hint == "did you mean 'r'?"


def test_bad_enum_lists_allowed_values(write):
    d = by_rule(compile_recipe(write("r.yaml", BAD)))[("FTC012", 6, 9)]
    for kind in ("full", "lora", "qlora", "prefix", "adapter", "distill", "dpo"):
        assert f'"{kind}"' in d.message
    assert d.hint == "did you mean 'lora'?"


def test_missing_required_keys(write):
    result = compile_recipe(write("r.yaml", "name: x\nmodel: {max_seq_length: 8}\n"))
    msgs = sorted(d.message for d in result.diagnostics if d.rule == "FTC013")
    assert msgs == ["model is missing required key 'base'",
                    "the recipe is missing required key 'data'",
                    "the recipe is missing required key 'method'"]


def test_unknown_top_level_section_suggests(write, recipe):
    text = recipe.read_text() + "trainig:\n  epochs: 2\n"
    d = next(d for d in compile_recipe(write("r2.yaml", text)).diagnostics)
    assert d.rule == "FTC010" and d.hint == "did you mean 'training'?"


def test_json_and_github_formats(write, ftc):
    path = write("r.yaml", BAD)
    code, out, _ = ftc("lint", "--format", "json", path)
    rows = json.loads(out)
    assert code == 1 and len(rows) == 6
    assert set(rows[0]) >= {"path", "line", "col", "severity", "rule", "message"}
    code, out, _ = ftc("lint", "--format", "github", path)
    first = out.splitlines()[0]
    assert first.startswith(f"::error file={path},line=4,col=19::FTC011")


def test_many_files_all_reported(write, recipe, ftc):
    bad1 = write("a.yaml", BAD)
    bad2 = write("b.yaml", "name: ok\n")
    code, out, err = ftc("lint", recipe, bad1, bad2)
    assert code == 1
    assert str(bad1) in out and str(bad2) in out
    assert "3 recipes checked" in err


def test_wrong_types_in_lists(write, recipe):
    text = recipe.read_text().replace("lora: {r: 16}", "lora: {r: 16, target_modules: [1, 2]}")
    result = compile_recipe(write("r.yaml", text))
    assert result.diagnostics and result.diagnostics[0].rule == "FTC011"
    assert "target_modules" in result.diagnostics[0].message
