"""The example GitHub workflows in docs/ci are valid workflows (GitHub's published schema,
vendored by check-jsonschema) and run the ftc commands the README describes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / "docs" / "ci").glob("*.yml"))
CHECK = shutil.which("check-jsonschema") or str(Path(sys.executable).parent / "check-jsonschema")


@pytest.mark.skipif(not Path(CHECK).exists(), reason="check-jsonschema not installed (dev extra)")
def test_example_workflows_match_githubs_schema():
    r = subprocess.run([CHECK, "--builtin-schema", "vendor.github-workflows",
                        *map(str, WORKFLOWS)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_examples_use_sarif_upload_and_annotations():
    text = {p.name: p.read_text(encoding="utf-8") for p in WORKFLOWS}
    assert "ftc lint --format sarif" in text["recipes-sarif.yml"]
    assert "upload-sarif" in text["recipes-sarif.yml"]
    assert "ftc lint --format github" in text["recipes-annotations.yml"]
