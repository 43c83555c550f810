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
