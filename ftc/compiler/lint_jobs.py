"""Lint many recipes on every available core, with the output of one process.

Each recipe is independent CPU work (YAML, schema, resolution, rules), so a
repository's worth of recipes is spread over forked workers.  The first recipe
is linted before the fork: the workers then inherit the loaded compiler and its
tables instead of starting again.  Results come back in the order given, so the
report is byte for byte what one process prints (tests/compiler/test_lint_jobs.py).
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator, Sequence

from ftc.compiler.pipeline import compile_recipe
from ftc.diagnostics import Diagnostic

# Fewer recipes per worker than this and starting the worker costs more than it saves.
RECIPES_PER_WORKER = 32

Result = tuple[list[Diagnostic], bool]  # (diagnostics, whether a --set was a usage error)


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def worker_count(recipes: int, jobs: int | None) -> int:
    """`jobs` when given (never more than the recipes), else one per core that has
    RECIPES_PER_WORKER recipes to do; 1 where processes cannot be forked safely."""
    if not sys.platform.startswith("linux"):  # fork is unsafe on macOS, absent on Windows
        return 1
    if jobs is not None:
        return max(1, min(jobs, recipes))
    return max(1, min(available_cores(), recipes // RECIPES_PER_WORKER))


def lint_one(path: str, overrides: Sequence[str], ignore: Sequence[str]) -> Result:
    result = compile_recipe(path, overrides, ignore)
    return result.diagnostics, result.usage_error


def lint_results(paths: Sequence[str], overrides: Sequence[str] = (),
                 ignore: Sequence[str] = (), jobs: int | None = None) -> Iterator[Result]:
    """Each recipe's result, in the order of `paths`."""
    tasks = [(path, tuple(overrides), tuple(ignore)) for path in paths]
    workers = worker_count(len(paths), jobs)
    if workers == 1:
        yield from map(_task, tasks)
        return
    yield _task(tasks[0])  # loads what linting needs once, before the fork
    rest = tasks[1:]
    import multiprocessing  # 9 ms that a lint of a few recipes does not pay

    sys.stdout.flush()  # a forked worker flushes its copy of any pending output on exit
    sys.stderr.flush()
    with multiprocessing.get_context("fork").Pool(workers, initializer=_leave_ctrl_c) as pool:
        yield from pool.imap(_task, rest, chunksize=max(1, len(rest) // (workers * 4)))


def _task(task: tuple) -> Result:
    return lint_one(*task)


def _leave_ctrl_c() -> None:
    """Ctrl-C is the parent's to handle (one 'interrupted' line, the pool torn down)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
