"""The compiler side never imports the training stack (it must start in ~0.2 s)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ["torch", "transformers", "peft", "trl", "deepspeed", "accelerate", "datasets",
         "bitsandbytes"]

PROBE = """
import json, sys
from ftc.cli import main
code = main(sys.argv[1:])
print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {heavy})))
"""


def run_probe(*argv: str) -> list[str]:
    script = PROBE.format(heavy=set(HEAVY))
    proc = subprocess.run([sys.executable, "-c", script, *argv], capture_output=True,
                          text=True, check=False)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_lint_imports_no_training_library(recipe):
    assert run_probe("lint", str(recipe)) == []


def test_compile_and_explain_import_no_training_library(recipe, tmp_path):
    assert run_probe("compile", str(recipe), "-o", str(tmp_path / "b")) == []
    assert run_probe("explain", str(recipe)) == []


def test_a_valid_recipe_is_linted_without_loading_jsonschema(recipe):
    """jsonschema was most of a cold lint: the generated check passes valid recipes, and
    jsonschema is loaded only to find and place the problems of an invalid one."""
    script = ("import json, sys\nfrom ftc.cli import main\ncode = main(sys.argv[1:])\n"
              "print(json.dumps([code, 'jsonschema' in sys.modules]))")

    def lint(*argv):
        proc = subprocess.run([sys.executable, "-c", script, "lint", str(recipe), *argv],
                              capture_output=True, text=True, check=False)
        return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stdout

    assert lint()[0] == [0, False]
    (code, loaded), out = lint("--set", "training.max_steps=2.0")
    assert (code, loaded) == (1, True)
    assert "FTC011 training.max_steps must be an integer" in out


def test_lint_imports_only_its_own_verb(recipe):
    """Verbs load lazily: a cold `ftc lint` pays for no other verb's imports."""
    from ftc.cli import COMMANDS

    verbs = {f"ftc.commands.{c}" for c in COMMANDS}
    script = ("import json, sys\nfrom ftc.cli import main\nmain(sys.argv[1:])\n"
              f"print(json.dumps(sorted(m for m in sys.modules if m in {verbs})))")
    for argv in (["lint", str(recipe)], ["--debug", "lint", str(recipe)]):
        proc = subprocess.run([sys.executable, "-c", script, *argv], capture_output=True,
                              text=True, check=False)
        assert json.loads(proc.stdout.strip().splitlines()[-1]) == ["ftc.commands.lint"]


def test_help_and_a_mistyped_verb_still_name_every_verb():
    import importlib

    from ftc.cli import COMMANDS, verbs_for

    names = [importlib.import_module(f"ftc.commands.{c}").NAME for c in COMMANDS]
    assert [verbs_for([n, "x"]) for n in names] == [[c] for c in COMMANDS]  # each verb alone
    helped = subprocess.run([sys.executable, "-m", "ftc.cli", "--help"], capture_output=True,
                            text=True, check=False)
    assert helped.returncode == 0 and all(f"\n    {n}" in helped.stdout for n in names)
    typo = subprocess.run([sys.executable, "-m", "ftc.cli", "lnt", "x.yaml"],
                          capture_output=True, text=True, check=False)
    assert typo.returncode == 2 and all(f"'{n}'" in typo.stderr for n in names)


def test_tables_are_parsed_once_and_then_read_from_the_cache(tmp_path, monkeypatch):
    """The JSON copy in the cache gives the same data; a damaged or unwritable cache is
    ignored, and no half-written file is left behind."""
    from ruamel.yaml import YAML

    from ftc.tables import HERE, load_data_file

    monkeypatch.setenv("FTC_CACHE_DIR", str(tmp_path / "cache"))
    table = HERE / "hyperparameters.yaml"
    parsed = YAML(typ="safe", pure=True).load(table.read_text(encoding="utf-8"))
    assert load_data_file(table) == parsed
    (copy,) = (tmp_path / "cache" / "tables").iterdir()
    copy.write_text(copy.read_text()[:-40])  # damaged: read from YAML again, and rewritten
    assert load_data_file(table) == parsed
    assert json.loads(copy.read_text()) == parsed
    copy.write_text(json.dumps({"stale": True}))  # the name is the content's hash, so a
    assert load_data_file(table) != parsed  # file there is trusted: this proves it is read
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("FTC_CACHE_DIR", str(blocker / "cache"))  # cannot be created
    assert load_data_file(table) == parsed
    assert [p.name for p in tmp_path.iterdir()] == ["cache", "not-a-dir"]


def test_tables_read_the_same_with_the_c_parser_as_with_the_pure_one():
    """Tables load with ruamel's C parser (fast); it must read them exactly as the pure one."""
    from pathlib import Path

    from ruamel.yaml import YAML

    import ftc
    from ftc.tables import load_data_file

    tables = sorted(Path(ftc.__file__).parent.glob("*/*.yaml"))
    assert len(tables) >= 8
    for path in tables:
        pure = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
        assert load_data_file(path) == pure, path
