from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ftc.cli import main

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"


@pytest.fixture
def corpus() -> Path:
    if not (CORPUS / "axolotl-examples").is_dir():
        pytest.skip(f"axolotl corpus not present: {CORPUS}")
    return CORPUS


@pytest.fixture
def config(tmp_path: Path):
    """config(text, name='axolotl.yml') -> the path of an axolotl config file."""
    def _write(text: str, name: str = "axolotl.yml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path
    return _write


@pytest.fixture
def cli(capsys):
    """cli(*argv) -> (exit code, stdout, stderr), running `ftc` in-process."""
    def _run(*argv) -> tuple[int, str, str]:
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:
            code = exc.code
        out = capsys.readouterr()
        return code, out.out, out.err
    return _run


def top_keys(entries) -> set[str]:
    """The config's top-level keys that entries account for (axolotl defaults left out)."""
    return {e.key.split(".")[0].split("[")[0] for e in entries if e.status != "default"}
