"""`ftc lint --format sarif`: a SARIF 2.1.0 log GitHub code scanning can take."""

from __future__ import annotations

import json

from ftc.cli import main

RECIPE = """\
name: x
model: {base: org/model}
method: {kind: lorra}
data: {train: t.jsonl}
training:
  epochs: 9
"""


def test_sarif_has_rules_and_physical_locations(capsys, tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(RECIPE.replace("lorra", "lora"), encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(RECIPE, encoding="utf-8")
    code = main(["lint", "--format", "sarif", str(path), str(bad)])
    log = json.loads(capsys.readouterr().out)
    assert code == 1 and log["version"] == "2.1.0"
    (run,) = log["runs"]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert "epochs" in rules["FTC102"]["shortDescription"]["text"]
    assert "ftc: ignore[FTC102]" in rules["FTC102"]["help"]["text"]
    assert "cannot be silenced" in rules["FTC012"]["help"]["text"]
    by_rule = {r["ruleId"]: r for r in run["results"]}
    epochs = by_rule["FTC102"]
    loc = epochs["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == str(path)
    assert loc["region"] == {"startLine": 6, "startColumn": 11}
    assert epochs["level"] == "warning" and by_rule["FTC012"]["level"] == "error"
    assert run["tool"]["driver"]["rules"][epochs["ruleIndex"]]["id"] == "FTC102"
