"""The run's data: ftc.dataprep prepares it, this loads it as `datasets` splits.

The seam with ftc/dataprep is `prepare()`: one call to
`ftc.dataprep.prepare_for_run`, which checks, dedups, applies the length policy
and splits the lock's data into normalized JSONL files (or raises with every
problem as `file:line:col`). What is left here is the runtime's own concern:
whether the prepared format is one the method trains on, and turning the files
into `datasets.Dataset` objects for TRL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ftc.diagnostics import FtcError
from ftc.runtime.run_lock import RunFailure, RunLock
from ftc.source_spec import entry_path, with_path

SFT_FORMATS = ("messages", "completion")


@dataclass
class Splits:
    """Records per split (plain dicts), in the one format the method trains on."""

    format: str
    train: list[dict]
    validation: list[dict] = field(default_factory=list)
    test: list[dict] = field(default_factory=list)
    report: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)


def prepare(lock: RunLock, out_dir: Path):
    """The seam: dataprep's checks, dedup, length policy and split, written to out_dir."""
    from ftc.dataprep import prepare_for_run

    try:
        return prepare_for_run(_absolute_data(lock), lock.dir, out_dir, origin=str(lock.path))
    except FtcError as exc:
        raise RunFailure(exc.diagnostics) from None


def _absolute_data(lock: RunLock) -> dict:
    """The lock's values with local data paths absolute: problems then name real files,
    not paths relative to the bundle directory the user is not in."""
    values = json.loads(json.dumps(lock.values))
    data = values.get("data") or {}
    for split in ("train", "validation", "test"):
        entries = data.get(split)
        if isinstance(entries, (str, dict)):
            entries = [entries]
        if entries:
            data[split] = [e if _is_dataset_id(entry_path(e), lock) else
                           with_path(e, str(lock.local(entry_path(e)))) for e in entries]
    return values


def _is_dataset_id(entry: str, lock: RunLock) -> bool:
    from ftc.compiler import is_hub_id

    return (is_hub_id(entry) and not lock.local(entry).exists()
            and not entry.endswith((".jsonl", ".json", ".csv", ".parquet")))


def check_format(lock: RunLock, fmt: str) -> None:
    """Preference pairs (or any non-SFT format) cannot train an SFT method."""
    if fmt not in SFT_FORMATS:
        raise lock.fail("data.format", "FTC503",
                        f"the data is in {fmt!r} format, but method.kind "
                        f"{lock.get('method.kind')!r} trains on 'messages' or 'completion' "
                        "(prompt/completion) examples",
                        "preference pairs (prompt/chosen/rejected) train with method.kind dpo "
                        "or reward; for SFT keep only the chosen answer as the completion")


def load_prepared(lock: RunLock, prepared) -> Splits:
    """The prepared files as records, in a format the method trains on."""
    check_format(lock, prepared.format)
    columns = ("messages",) if prepared.format == "messages" else ("prompt", "completion")
    return Splits(
        format=prepared.format,
        train=_read(prepared.train, columns),
        validation=_read(prepared.validation, columns),
        test=_read(prepared.test, columns),
        report=prepared.report,
        warnings=list(prepared.diagnostics),
    )


def to_dataset(records: list[dict]):
    """A datasets.Dataset of the records (None for an empty split)."""
    if not records:
        return None
    from datasets import Dataset

    return Dataset.from_list(records)


def _read(path: Path | None, columns: tuple[str, ...]) -> list[dict]:
    if path is None or not Path(path).is_file():
        return []
    with open(path, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return [{c: row[c] for c in columns} for row in rows]
