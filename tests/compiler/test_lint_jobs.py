"""`ftc lint` over many recipes in forked workers prints what one process prints."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.bench_compiler import write_variants
from ftc.compiler import lint_jobs

BROKEN = {  # what a repository of recipes also holds: each kind of problem once
    "syntax.yaml": "name: x\nmodel: [unclosed\n",
    "types.yaml": "name: t\nmodel: {base: org/m}\nmethod: {kind: lora, lora: {r: two}}\n"
                  "data: {train: data/tickets/train.jsonl}\n",
    "missing-extends.yaml": "extends: nowhere.yaml\nname: y\n",
}


def _recipes(root: Path, count: int) -> list[str]:
    """`count` variants of the curated recipes (every 17th with an unknown key), with the
    broken ones in the middle."""
    paths = write_variants(root, count)
    for path in paths[5::17]:
        path.write_text(path.read_text() + "\ntraining_typo: 1\n")
    middle = len(paths) // 2
    for name, text in BROKEN.items():
        (root / name).write_text(text)
        paths.insert(middle, root / name)
    return [str(p) for p in paths]


def _ftc(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ftc.cli", "lint", *argv],
                          capture_output=True, text=True, cwd=cwd, check=False, timeout=300)


def test_workers_report_exactly_what_one_process_reports(tmp_path):
    paths = _recipes(tmp_path, 2 * lint_jobs.RECIPES_PER_WORKER)
    for fmt in ("text", "json"):
        one = _ftc("--format", fmt, "--jobs", "1", *paths, cwd=tmp_path)
        two = _ftc("--format", fmt, "--jobs", "2", *paths, cwd=tmp_path)
        assert one.returncode == two.returncode == 1
        assert one.stdout == two.stdout and one.stderr == two.stderr
        assert all(rule in one.stdout for rule in ("FTC001", "FTC007", "FTC010", "FTC011"))


def test_the_work_is_shared_by_forked_workers(tmp_path, monkeypatch):
    """The results come from more than one process, in the order given."""
    if not sys.platform.startswith("linux"):
        pytest.skip("workers are forked on Linux only")
    paths = _recipes(tmp_path, 40)
    real = lint_jobs.lint_one
    monkeypatch.setattr(lint_jobs, "lint_one",
                        lambda path, overrides, ignore: (real(path, overrides, ignore), path,
                                                         os.getpid()))
    results = list(lint_jobs.lint_results(paths, jobs=3))
    assert [path for _, path, _ in results] == paths
    assert len({pid for _, _, pid in results}) == 4  # this process (the first) and 3 workers
    monkeypatch.setattr(lint_jobs, "lint_one", real)
    assert [r for r, _, _ in results] == list(lint_jobs.lint_results(paths, jobs=1))


def test_how_many_workers():
    cores = lint_jobs.available_cores()
    assert lint_jobs.worker_count(10, None) == 1  # too few recipes to be worth a fork
    assert lint_jobs.worker_count(10_000, None) == (cores if sys.platform.startswith("linux")
                                                    else 1)
    assert lint_jobs.worker_count(3, 8) == (3 if sys.platform.startswith("linux") else 1)


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5", "99999"])
def test_a_bad_jobs_value_is_a_usage_error(tmp_path, value):
    done = _ftc("--jobs", value, "x.yaml", cwd=tmp_path)
    assert done.returncode == 2
    assert "--jobs: must be a whole number from 1 to 1024" in done.stderr
    assert "Traceback" not in done.stderr


def test_ctrl_c_stops_every_worker_with_one_line(tmp_path):
    paths = _recipes(tmp_path, 2000)  # seconds of work, even on a fast machine
    proc = subprocess.Popen([sys.executable, "-m", "ftc.cli", "lint", "--jobs", "2", *paths],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=tmp_path)
    time.sleep(1.5)  # past start-up, inside the pool
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-2000:]
    assert err.strip().splitlines()[-1] == "ftc: interrupted"
    assert "Traceback" not in err and out == ""
