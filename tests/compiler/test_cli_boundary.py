"""The CLI's one boundary: a bug is exit 3 with one line, a closed pipe ends quietly.

Exit status: 0 ok, 1 problems found, 2 usage error, 3 internal error.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import ftc.commands.lint as lint_verb
from ftc.cli import main

REPO = Path(__file__).parents[2]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


@pytest.fixture
def broken_lint(monkeypatch):
    def boom(args):
        raise RuntimeError("boom in lint\nsecond line hf_abcdefghijklmnopqrstuvwxyzABCDEFGH")
    monkeypatch.setattr(lint_verb, "run", boom)
    monkeypatch.delenv("FTC_DEBUG", raising=False)


def test_a_bug_is_exit_3_with_one_line_and_no_traceback(broken_lint, ftc, recipe):
    code, out, err = ftc("lint", recipe)
    assert code == 3
    assert err.splitlines()[0] == "ftc: internal error (please report): RuntimeError: boom in lint"
    assert "Traceback" not in err and "--debug" in err and out == ""


@pytest.mark.parametrize("argv_debug,env_debug", [(["--debug", "lint"], None),
                                                  (["lint", "--debug"], None),
                                                  (["lint"], "1")])
def test_debug_shows_the_traceback(broken_lint, ftc, recipe, monkeypatch, argv_debug, env_debug):
    if env_debug:
        monkeypatch.setenv("FTC_DEBUG", env_debug)
    code, _, err = ftc(*argv_debug, recipe)
    assert code == 3 and "Traceback (most recent call last)" in err and "boom in lint" in err
    assert "hf_abc" not in err and "[REDACTED]" in err


def test_exit_statuses_stay_distinct(ftc, recipe):
    assert ftc("lint", recipe)[0] == 0
    assert ftc("lint", recipe, "--set", "training.epochs=-1")[0] == 1
    assert ftc("lint", recipe, "--set", "nonsense")[0] == 2
    assert ftc("lint", "--no-such-flag")[0] == 2


def test_a_closed_pipe_ends_quietly(recipe):
    """`ftc explain recipe | true`: the reader is gone before ftc writes."""
    proc = subprocess.run(
        f"{sys.executable} -m ftc.cli explain {recipe} | true; echo ${{PIPESTATUS[0]}} >&2",
        shell=True, executable="/bin/bash", capture_output=True, text=True, env=ENV,
        timeout=60)
    assert proc.stderr.strip() == "141"  # 128 + SIGPIPE, as the shell reports `cat | true`


def test_broken_pipe_in_process(recipe, monkeypatch, capsys):
    class Closed:
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", Closed())
    assert main(["explain", str(recipe)]) == 141
    assert capsys.readouterr().err == ""


def test_init_tiny_model_usage_errors_are_not_tracebacks(ftc, tmp_path, recipe):
    code, _, err = ftc("init-tiny-model", tmp_path / "m", "--vocab-size", "-5")
    assert code == 2 and "--vocab-size: must be between 64 and 262144 (got -5)" in err
    code, _, err = ftc("init-tiny-model", recipe)
    assert code == 2 and "FTC520 exists and is not a directory" in err
