"""The ftc-lint pre-commit hook, run by the real pre-commit (`try-repo`, which pip-installs
this repository as `language: python` hooks are) on a repository with a good and a bad
recipe: the bad one fails the hook with its file:line:col."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRE_COMMIT = shutil.which("pre-commit") or str(Path(os.sys.executable).parent / "pre-commit")
pytestmark = pytest.mark.slow  # builds a hook venv: ~20-40 s

GOOD = "name: good\nmodel: {base: org/model}\nmethod: {kind: lora}\ndata: {train: t.jsonl}\n"


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.mark.skipif(not Path(PRE_COMMIT).exists(), reason="pre-commit not installed (dev extra)")
def test_the_hook_fails_on_the_bad_recipe_with_its_location(tmp_path):
    project = tmp_path / "project"
    (project / "recipes").mkdir(parents=True)
    (project / "recipes" / "t.jsonl").write_text('{"text": "hi"}\n', encoding="utf-8")
    (project / "recipes" / "good.yaml").write_text(GOOD, encoding="utf-8")
    (project / "recipes" / "bad.yaml").write_text(GOOD.replace("lora", "lorra"),
                                                  encoding="utf-8")
    git(project, "init", "-q")
    git(project, "add", ".")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PRE_COMMIT_HOME"] = str(tmp_path / "cache")
    r = subprocess.run([PRE_COMMIT, "try-repo", str(ROOT), "ftc-lint", "--all-files"],
                       cwd=project, env=env, capture_output=True, text=True, timeout=500)
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert re.search(r"recipes/bad\.yaml:3:\d+: error: FTC012 method\.kind", out), out
    assert "recipes/good.yaml:" not in out
