"""`prepare_for_run`: the runtime's entry into the data pipeline.

Reads the lock's data section, runs the pipeline in prepare mode and writes
out_dir/{train,validation,test}.jsonl, report.json and rejected.jsonl (with any
secret-shaped string redacted: such rows never reach the splits).  The
files are written into a sibling temporary directory that replaces out_dir in
one rename, so a failure leaves the previous out_dir (or none), never half of
a new one.  Same lock and inputs, same bytes: output order follows input
order, JSON is written with fixed key order, and nothing time- or
machine-dependent goes into the files.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ftc.dataprep import cache
from ftc.dataprep.pipeline import PipelineResult, run_pipeline
from ftc.dataprep.progress import Progress
from ftc.dataprep.rules import problem
from ftc.dataprep.settings import DataSettings, data_paths
from ftc.dataprep.split import SPLITS
from ftc.diagnostics import FtcError
from ftc.secret_scan import redact_data

# Repeated warnings are shown this many times, then counted (check lists them all).
SHOWN_PER_RULE = 3


@dataclass
class PreparedSplits:
    train: Path
    validation: Path | None
    test: Path | None
    format: str
    report: dict
    diagnostics: list  # warnings that did not stop the preparation
    cached_from: Path | None = None  # the cache entry reused, when nothing was prepared


def prepare_for_run(lock: dict, lock_dir: Path, out_dir: Path,
                    origin: str | None = None, cache_dir: Path | None = None) -> PreparedSplits:
    """Check, clean, dedup and split the lock's data into out_dir.

    Raises FtcError (with every error diagnostic) when the data has errors;
    then nothing is written.  `origin` names the recipe or lock in findings
    that belong to no data line (default: lock_dir/recipe.lock.yaml).  The
    result is cached by content in data.cache_dir, else in `cache_dir` (the
    caller's default; None: no cache); a second call with the same inputs and
    settings copies the cached files (PreparedSplits.cached_from says so).
    """
    lock_dir = Path(lock_dir)
    out_dir = Path(out_dir)
    settings = DataSettings.from_lock(lock, lock_dir)
    data = lock.get("data") or {}
    inputs = {"train": data_paths(data.get("train"), lock_dir)}
    for name in ("validation", "test"):
        if data.get(name):
            inputs[name] = data_paths(data.get(name), lock_dir)
    origin = origin or str(lock_dir / "recipe.lock.yaml")
    folder = _cache_folder(data, lock_dir, cache_dir, origin)
    key = cache.content_key(inputs, settings) if folder else None
    hit = cache.load(folder, key, origin) if key else None
    if hit:
        entry, meta = hit
        _replace_dir(out_dir, lambda tmp: cache.fill(entry, meta, tmp))
        report = json.loads((out_dir / "report.json").read_text(encoding="utf-8"))
        return _prepared(out_dir, meta["files"], meta["format"], report, meta["warnings"],
                         entry)
    settings.work_dir = _work_dir(folder, out_dir)
    result = run_pipeline(inputs, settings, prepare=True, origin=origin)
    try:
        errors = [d for d in result.diagnostics if d.is_error]
        if errors:
            raise FtcError(errors)
        warnings = summarize(result.diagnostics)
        write_outputs(result, out_dir)
    finally:
        result.close()
    fmt = result.format or "auto"
    if key:
        cache.store(folder, key, out_dir, fmt, warnings, origin)
    return _prepared(out_dir, [f"{n}.jsonl" for n in result.splits], fmt, result.report,
                     warnings)


def _prepared(out_dir: Path, files: list[str], fmt: str, report: dict, warnings: list,
              cached_from: Path | None = None) -> PreparedSplits:
    paths = {name: (out_dir / f"{name}.jsonl" if f"{name}.jsonl" in files else None)
             for name in SPLITS}
    return PreparedSplits(paths["train"], paths["validation"], paths["test"], fmt, report,
                          warnings, cached_from)


def _work_dir(cache_folder: Path | None, out_dir: Path) -> Path | None:
    """Where the pipeline's row files go: the cache folder, else beside out_dir (the disk
    the outputs go to, not a RAM-backed /tmp), whichever exists; None: the system's temp."""
    for folder in (cache_folder, out_dir.parent):
        if folder is not None and folder.is_dir() and os.access(folder, os.W_OK | os.X_OK):
            return folder
    return None


def _cache_folder(data: dict, lock_dir: Path, default: Path | None, origin: str) -> Path | None:
    """data.cache_dir (an unusable one is an error), else `default` (unusable: no cache)."""
    given = data.get("cache_dir")
    folder = Path(given) if given else default
    if folder is None:
        return None
    if not folder.is_absolute():
        folder = lock_dir / folder
    if not given:  # created when an entry is stored: a failed preparation leaves nothing
        return folder if folder.is_dir() or not folder.exists() else None
    try:
        cache.check_folder(folder)
    except cache.CacheUnusable as exc:
        raise FtcError([problem("FTC329", origin, 1, f"data.cache_dir: {exc}",
                                hint="point data.cache_dir at a writable folder, or remove "
                                     "it to cache beside the runs")]) from None
    return folder


def summarize(diagnostics: list, shown: int = SHOWN_PER_RULE) -> list:
    """Warnings grouped by rule: the first `shown` of each, then one counting the rest."""
    from ftc.diagnostics import Diagnostic, sort_key

    out, seen = [], {}
    for d in sorted(diagnostics, key=sort_key):
        seen[d.rule] = seen.get(d.rule, 0) + 1
        if seen[d.rule] <= shown:
            out.append(d)
    for rule, count in seen.items():
        if count > shown:
            first = next(d for d in out if d.rule == rule)
            out.append(Diagnostic(first.path, first.line, first.col, first.severity, rule,
                                  f"... and {count - shown} more like this "
                                  "(`ftc data check` lists them all)"))
    return out


def _dump(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False)


def write_outputs(result: PipelineResult, out_dir: Path) -> None:
    """Write the splits, report and rejected rows; replace out_dir atomically."""

    def fill(tmp: Path) -> None:
        with Progress("write", sum(len(items) for items in result.splits.values())) as shown:
            for name, items in result.splits.items():
                with (tmp / f"{name}.jsonl").open("w", encoding="utf-8", newline="\n") as fh:
                    for ex in items:  # the example's JSON text as held (same bytes as _dump)
                        fh.write((getattr(ex, "blob", None) or _dump(ex.data)) + "\n")
                        shown.advance()
        with (tmp / "rejected.jsonl").open("w", encoding="utf-8", newline="\n") as fh:
            for entry in result.rejected:
                fh.write(_dump(redact_data(entry)) + "\n")
        (tmp / "report.json").write_text(
            json.dumps(redact_data(result.report), indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8")

    _replace_dir(out_dir, fill)


def _replace_dir(out_dir: Path, fill) -> None:
    """Fill a sibling temporary folder, then put it in out_dir's place in one rename.

    Only an empty directory or an earlier output (it has report.json) is
    replaced: `-o ~` must never move a home directory aside and delete it.
    """
    _check_replaceable(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        fill(tmp)
        os.chmod(tmp, 0o755)
        old = None
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
            os.replace(out_dir, old)
        os.replace(tmp, out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _check_replaceable(out_dir: Path) -> None:
    if not (out_dir.exists() or out_dir.is_symlink()):
        return
    if out_dir.is_symlink() or not out_dir.is_dir():
        raise OSError(errno.EEXIST, f"{out_dir} exists and is not a directory ftc wrote; "
                      "not replacing it")
    if any(out_dir.iterdir()) and not (out_dir / "report.json").is_file():
        raise OSError(errno.EEXIST, f"{out_dir} holds other files (no report.json from an "
                      "earlier prepare); not replacing it")
