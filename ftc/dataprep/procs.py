"""The per-row stages on several processes: tasks are row ranges, results come back in order.

Workers are forked, so they share the parent's state (the row store, the
tokenizer) without pickling it: `ordered_map` sets it where the worker function
reads it (`state()`), and each task is only a (start, stop) range.  Results are
merged in task order, so the output does not depend on the number of processes.
The work is Python or numpy on one thread each: processes, not threads.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence

_state: object = None
WINDOW_PER_PROC = 2  # tasks in flight per process: results held by the parent stay bounded


def procs_available() -> int:
    """Processes for the per-row stages: FTC_DATA_PROCS, else the CPUs this process may use."""
    given = os.environ.get("FTC_DATA_PROCS", "")
    if given.isdigit() and int(given) > 0:
        return int(given)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1


def state() -> object:
    """What the running `ordered_map` shares with its workers."""
    return _state


def ranges(total: int, size: int) -> list[tuple[int, int]]:
    return [(start, min(start + size, total)) for start in range(0, total, size)]


def _windowed(pool, func: Callable, tasks: Sequence, window: int) -> Iterator:
    """`pool.imap` with at most `window` tasks in flight: imap queues every result the
    parent has not taken yet, so a parent slower than its workers (busy cores) could
    come to hold the whole dataset's results (a validated row is its JSON text)."""
    from collections import deque

    pending: deque = deque()
    queued = 0
    while queued < len(tasks) and len(pending) < window:
        pending.append(pool.apply_async(func, (tasks[queued],)))
        queued += 1
    while pending:
        result = pending.popleft().get()
        if queued < len(tasks):
            pending.append(pool.apply_async(func, (tasks[queued],)))
            queued += 1
        yield result


def ordered_map(func: Callable, tasks: Sequence, procs: int, shared: object) -> Iterator:
    """func(task) for each task, in task order; on `procs` forked processes when it helps."""
    global _state
    import gc
    import multiprocessing

    _state = shared
    try:
        if procs > 1 and len(tasks) > 1 and "fork" in multiprocessing.get_all_start_methods():
            gc.freeze()  # the workers' collector then leaves the parent's objects (shared pages)
            try:
                with multiprocessing.get_context("fork").Pool(min(procs, len(tasks))) as pool:
                    yield from _windowed(pool, func, tasks, WINDOW_PER_PROC * procs)
            finally:
                gc.unfreeze()
        else:
            for task in tasks:
                yield func(task)
    finally:
        _state = None
