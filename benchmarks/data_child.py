"""One timed data preparation, in its own process: `python -m benchmarks.data_child
{new,old,cached} DIR [TOKENIZER|-]` (FTC_DATA_PROCS sets the processes of `new`).
Prints one JSON line: seconds, peak RSS (MiB), splits, rows, and the load
average before and after.

`new` is `prepare_for_run`, what `ftc run` does first.  `old` is the pipeline as
it was before issue 18 (benchmarks/legacy_dataprep, a verbatim copy) with the
same writer, so both sides read the same file and write the same outputs.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path


def _lock(tokenizer: str | None) -> dict:
    data = {"format": "auto", "train": ["train.jsonl"],
            "split": {"train": 0.8, "validation": 0.1, "test": 0.1},
            "dedup": {"exact": True, "near": True, "threshold": 0.85}}
    model = {"base": tokenizer or "no-such/model"}
    if tokenizer:
        model["max_seq_length"] = 2048
    return {"model": model, "data": data, "training": {"seed": 42}}


def _old(lock: dict, tmp: Path) -> dict:
    from benchmarks.legacy_dataprep.pipeline import run_pipeline
    from ftc.dataprep.prepare import write_outputs
    from ftc.dataprep.settings import DataSettings, data_paths

    settings = DataSettings.from_lock(lock, tmp)
    files = [(src.path, src.display) for src in data_paths(lock["data"]["train"], tmp)]
    result = run_pipeline({"train": files}, settings, prepare=True, origin="recipe")
    write_outputs(result, tmp / "out")
    return result.report


def _new(lock: dict, tmp: Path) -> dict:
    from ftc.dataprep import prepare_for_run

    return prepare_for_run(lock, tmp, tmp / "out").report


def _cached(lock: dict, tmp: Path) -> dict:
    """`new` with the content cache in DIR/cache: the second call reuses the first's."""
    from ftc.dataprep import prepare_for_run

    prepared = prepare_for_run(lock, tmp, tmp / "out", cache_dir=tmp / "cache")
    return {**prepared.report, "reused": prepared.cached_from is not None}


def _peak_mib() -> float:
    """This process's peak RSS.  Linux's ru_maxrss keeps the pre-exec high-water mark of
    the process that forked it (the benchmark, holding a million rows' truth: ~1 GB), so
    /proc's VmHWM, which the exec resets, is read where there is one."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    side, tmp = sys.argv[1], Path(sys.argv[2])
    tokenizer = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] != "-" else None
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    lock = _lock(tokenizer)
    report = {"old": _old, "new": _new, "cached": _cached}[side](lock, tmp)
    seconds = time.perf_counter() - t0
    rss = _peak_mib()
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rss_mib": rss, "child_rss_mib": children,
                      "splits": report["splits"], "rows": report["rows"],
                      "reused": report.get("reused", False),
                      "load_before": load, "load_after": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
