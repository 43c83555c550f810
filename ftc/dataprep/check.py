"""`ftc data check`: every problem with its location, then a summary of the data.

The check runs the same pipeline as `prepare`, in report-only mode: nothing is
dropped except rows that are not valid examples, and every duplicate and
over-long example is listed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ftc.dataprep.pipeline import PipelineResult, run_pipeline
from ftc.dataprep.rules import RULES
from ftc.dataprep.settings import DataSettings


def check_files(train: Sequence[str], settings: DataSettings, *,
                validation: Sequence[str] = (), test: Sequence[str] = ()) -> PipelineResult:
    """Check files as one training set (plus optional evaluation files, for leakage)."""
    inputs = {"train": [(Path(p), p) for p in train]}
    if validation:
        inputs["validation"] = [(Path(p), p) for p in validation]
    if test:
        inputs["test"] = [(Path(p), p) for p in test]
    origin = train[0] if train else "data"
    return run_pipeline(inputs, settings, prepare=False, origin=origin)


def check_lock(lock: dict, lock_dir: Path, origin: str) -> PipelineResult:
    """Check a resolved recipe's data sources (the lists `prepare` and `ftc run` read),
    with its settings, in report-only mode."""
    from ftc.dataprep.settings import data_paths

    settings = DataSettings.from_lock(lock, lock_dir)
    settings.split = None
    data = lock.get("data") or {}
    inputs = {name: data_paths(data.get(name), lock_dir)
              for name in ("train", "validation", "test") if data.get(name)}
    return run_pipeline(inputs, settings, prepare=False, origin=origin)


def summary_rows(report: dict) -> list[tuple[str, str]]:
    """(what, value) lines of the summary table, from a pipeline report."""
    rows = report.get("rows", {})
    out = [("rows read", f"{rows.get('in', 0):,}"),
           ("valid examples", f"{_stage(report, 'validate', 'kept'):,}")]
    formats = report.get("file_formats") or {}
    by_format: dict[str, int] = {}
    for fmt in formats.values():
        by_format[str(fmt)] = by_format.get(str(fmt), 0) + 1
    out.append(("format", report.get("format") or "unknown"))
    out.append(("files by format",
                ", ".join(f"{k}: {v}" for k, v in sorted(by_format.items())) or "-"))
    splits = report.get("splits") or {}
    if len(splits) > 1:
        out.append(("splits", ", ".join(f"{k} {v:,}" for k, v in splits.items())))
    tok = report.get("tokens") or {}
    if "skipped" in tok:
        out.append(("token lengths", f"skipped: {tok['skipped']}"))
    elif tok:
        out.append(("tokens p50 / p90 / p99 / max",
                    f"{tok.get('p50')} / {tok.get('p90')} / {tok.get('p99')} / {tok.get('max')}"))
        out.append(("tokens total", f"{tok.get('total', 0):,} ({tok.get('method')})"))
        if tok.get("max_seq_length"):
            out.append((f"over max_seq_length {tok['max_seq_length']}",
                        f"{tok.get('over_max_seq_length', 0):,}"))
    dups = report.get("duplicates") or {}
    out.append(("exact duplicates", f"{dups.get('exact', 0):,}"))
    threshold = (report.get("settings") or {}).get("dedup", {}).get("threshold")
    out.append((f"near duplicates (similarity >= {threshold})", f"{dups.get('near', 0):,}"))
    if "leakage" in report:
        out.append(("leaked across splits", f"{report['leakage']:,}"))
    labels = report.get("labels")
    if labels:
        shown = ", ".join(f"{k[:20]} {v:,}" for k, v in list(labels.items())[:8])
        more = f" (+{len(labels) - 8} more)" if len(labels) > 8 else ""
        out.append((f"label balance ({len(labels)} classes)", shown + more))
    else:
        out.append(("label balance", "not classification-like"))
    if "refusals" in report:
        out.append(("refusal examples", f"{report['refusals']:,}"))
    problems = report.get("problems") or {}
    for rule, count in problems.items():
        out.append((f"{rule} {RULES[rule][1]}", f"{count:,} ({RULES[rule][0]})"))
    if not problems:
        out.append(("problems", "none"))
    return out


def _stage(report: dict, name: str, key: str) -> int:
    for stage in report.get("stages", []):
        if stage["stage"] == name:
            return stage[key]
    return 0
