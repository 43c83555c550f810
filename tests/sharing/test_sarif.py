"""`ftc lint --format sarif`: a SARIF 2.1.0 log GitHub code scanning can take."""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile

import jsonschema
import pytest

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


SARIF_NPM = "@microsoft/jest-sarif@1.0.0-beta.0"  # ships the SARIF 2.1.0 JSON schema
SARIF_SCHEMA = "package/lib/schemas/sarif-2.1.0-rtm.5.json"


@pytest.fixture(scope="session")
def sarif_schema(tmp_path_factory) -> dict:
    """The SARIF 2.1.0 JSON schema as Microsoft publishes it in its jest-sarif package,
    fetched from the npm registry (not copied into the repository); skipped offline."""
    npm = shutil.which("npm")
    if not npm:
        pytest.skip("npm is not installed: the SARIF 2.1.0 schema comes from the npm registry")
    where = tmp_path_factory.mktemp("sarif-schema")
    try:
        done = subprocess.run([npm, "pack", SARIF_NPM, "--silent"], cwd=where, text=True,
                              capture_output=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.skip(f"npm pack {SARIF_NPM} took over 120 s (registry unreachable?)")
    if done.returncode != 0:
        pytest.skip(f"npm pack {SARIF_NPM} failed (registry unreachable?): "
                    f"{done.stderr.strip()[-300:]}")
    with tarfile.open(where / done.stdout.strip().splitlines()[-1]) as archive:
        return json.load(archive.extractfile(SARIF_SCHEMA))


def test_sarif_validates_against_the_sarif_2_1_0_schema(capsys, tmp_path, sarif_schema):
    """Errors, warnings, an inline suppression and a file that does not parse: the whole
    log is valid SARIF 2.1.0 (the schema is draft-04; format checks on)."""
    good = tmp_path / "good.yaml"
    good.write_text(RECIPE.replace("lorra", "lora").replace(
        "epochs: 9", "epochs: 9  # ftc: ignore[FTC102]"), encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(RECIPE, encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n", encoding="utf-8")
    code = main(["lint", "--format", "sarif", str(good), str(bad), str(broken)])
    log = json.loads(capsys.readouterr().out)
    assert code == 1 and log["runs"][0]["results"]
    validator = jsonschema.Draft4Validator(sarif_schema,
                                           format_checker=jsonschema.FormatChecker())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)]
    assert errors == []
    broken_log = json.loads(json.dumps(log))
    broken_log["runs"][0]["results"][0]["level"] = "fatal"
    assert list(validator.iter_errors(broken_log))  # the check can fail
