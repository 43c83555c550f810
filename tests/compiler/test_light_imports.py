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
