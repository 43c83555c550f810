"""Data sources -> rows in ftc's formats, each row naming its source and row number.

A plain local .jsonl/.json/.csv/.parquet file goes through ftc's own readers
(line numbers, one bad line never hides the rest); folders (data files, a
hub-style dataset repo with configs, a `save_to_disk` folder), .arrow files and hub
dataset ids go through `datasets.load_dataset` / `load_from_disk`, as users load
them.  Hub ids are read from the local Hugging Face cache when they are there
(offline); otherwise online, unless offline mode is set, and failing that an FTC327
names the dataset and how to fetch it.  Then, per source: the split's slice, the
shuffle, the weight (across the split's sources), and the type conversion
(ftc.dataprep.convert); the rows leave here in the canonical formats.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from pathlib import Path

from ftc.dataprep.convert import ConvertProblem, convert, needs_conversion
from ftc.dataprep.readers import SUFFIXES, ReadResult, Row, read_any
from ftc.dataprep.rules import problem
from ftc.secret_scan import redact
from ftc.source_spec import SliceError, entries, entry_path, kept_counts, parse_split

HF_FETCH_HINT = ("fetch it where the hub is reachable (`hf download --repo-type dataset "
                 "{id}`, or `datasets.load_dataset('{id}')`) and copy the Hugging Face cache "
                 "(HF_HOME) here, or save it with `save_to_disk` and name that folder as path")
_TRUE = {"1", "true", "yes", "on"}


@dataclass
class Source:
    """One entry of data.train/validation/test: where it is, how it is shown, its options."""

    path: Path
    display: str
    spec: dict = field(default_factory=dict)


def sources_of(value: object, base: Path) -> list[Source]:
    """The sources of a data key; relative paths are against `base`."""
    out = []
    for entry in entries(value):
        text = entry_path(entry) or ""
        spec = dict(entry) if isinstance(entry, dict) else {}
        path = Path(text)
        out.append(Source(path if path.is_absolute() else base / path,
                          _display(text, spec), spec))
    return out


def as_sources(items: list) -> list[Source]:
    """Sources from Source objects or (path, display) pairs (plain file lists)."""
    return [item if isinstance(item, Source) else Source(Path(item[0]), str(item[1]))
            for item in items]


def sampled(result: ReadResult) -> dict:
    """report.json's note for a source whose weight left rows out."""
    return {"sampled_out": result.sampled_out} if result.sampled_out else {}


def _display(text: str, spec: dict) -> str:
    extra = [spec[k] for k in ("name", "split") if spec.get(k)]
    return f"{text} ({', '.join(extra)})" if extra else text


def read_sources(sources: list[Source], seed: int = 42) -> list[ReadResult]:
    """Each source's rows (sliced, shuffled, weighted, converted), in the sources' order."""
    results = [_read_one(src, seed) for src in sources]
    weights = [src.spec.get("weight") for src in sources]
    if any(w is not None for w in weights):
        counts = kept_counts([len(r.rows) for r in results], weights)
        for src, result, keep in zip(sources, results, counts, strict=True):
            _subsample(result, keep, seed, bool(src.spec.get("shuffle")))
    for src, result in zip(sources, results, strict=True):
        if needs_conversion(src.spec):
            _convert(src, result)
    return results


def _read_one(src: Source, seed: int) -> ReadResult:
    spec = src.spec
    try:
        wanted = parse_split(spec.get("split") or "train")
    except SliceError as exc:
        return _fail("FTC328", src.display, str(exc))
    try:
        result, rows_total = _load(src, wanted.name)
    except _LoadProblem as exc:
        return _fail(exc.rule, src.display, exc.message, exc.hint)
    if wanted.sliced:
        lo, hi = wanted.bounds(rows_total)
        result.rows = result.rows[lo:hi]
        result.seen = len(result.rows) + len(result.rejected)
        if not result.rows:
            result.diagnostics.append(problem(
                "FTC328", src.display, 1, f"split {spec['split']!r} keeps no rows of "
                f"{rows_total}"))
    if spec.get("shuffle"):
        random.Random(seed).shuffle(result.rows)
    return result


class _LoadProblem(Exception):
    def __init__(self, rule: str, message: str, hint: str | None = None):
        super().__init__(message)
        self.rule, self.message, self.hint = rule, message, hint


def _fail(rule: str, display: str, message: str, hint: str | None = None) -> ReadResult:
    return ReadResult(diagnostics=[problem(rule, display, 1, message, hint=hint)])


def _load(src: Source, split: str) -> tuple[ReadResult, int]:
    """(rows read, rows in the whole split) of a source, before any slice."""
    spec, suffix = src.spec, src.path.suffix.lower()
    own_reader = suffix in SUFFIXES and not (spec.get("name") or spec.get("data_files"))
    if own_reader:
        if split != "train":
            raise _LoadProblem("FTC328", f"{src.display} is one file: its only split is "
                               f"'train', not {split!r}")
        result = read_any(src.path, src.display, any_columns=needs_conversion(spec))
        return result, len(result.rows)
    records = _load_with_datasets(src, split)
    result = ReadResult()
    for index, value in enumerate(records, 1):
        result.rows.append(Row(src.display, index, value))
    result.seen = len(result.rows)
    if not result.rows:
        result.diagnostics.append(problem("FTC303", src.display, 1, "dataset has no examples"))
    return result, len(records)


def _looks_like_hub_id(src: Source) -> bool:
    text = entry_path(src.spec) or src.display
    return not src.path.exists() and not text.startswith((".", "/", "~")) \
        and text.count("/") == 1


def _load_with_datasets(src: Source, split: str) -> list[dict]:
    spec = src.spec
    if src.path.is_dir():
        if _saved_to_disk(src.path):
            return _from_disk(src, split)
        return _call_load(src, str(src.path), split, revision=None)
    if src.path.is_file():
        builder = {".arrow": "arrow", ".jsonl": "json", ".json": "json", ".csv": "csv",
                   ".parquet": "parquet"}.get(src.path.suffix.lower())
        if builder is None:
            raise _LoadProblem("FTC304", f"unsupported file type {src.path.suffix!r}",
                               "use .jsonl, .json, .csv, .parquet or .arrow, or a folder")
        return _call_load(src, builder, split, revision=None, data_files=str(src.path))
    if not _looks_like_hub_id(src):
        raise _LoadProblem("FTC300", f"file not found: {src.display}")
    return _from_hub(src, entry_path(spec) or src.display, split)


def _saved_to_disk(path: Path) -> bool:
    return (path / "dataset_dict.json").is_file() or (
        (path / "state.json").is_file() and (path / "dataset_info.json").is_file())


def _from_disk(src: Source, split: str) -> list[dict]:
    import datasets

    try:
        data = datasets.load_from_disk(str(src.path))
    except Exception as exc:  # noqa: BLE001 - datasets raises many types for a bad folder
        raise _LoadProblem("FTC300", f"cannot load {src.display}: {_first_line(exc)}") from None
    if isinstance(data, datasets.DatasetDict):
        if split not in data:
            raise _LoadProblem("FTC328", f"{src.display} has no split {split!r} (has "
                               f"{', '.join(data)})")
        data = data[split]
    return data.to_list()


def _call_load(src: Source, target: str, split: str, *, revision: str | None,
               data_files: object = None) -> list[dict]:
    import datasets

    spec = src.spec
    datasets.disable_progress_bars()  # ftc prints its own summary
    try:
        data = datasets.load_dataset(target, spec.get("name"), split=split,
                                     data_files=spec.get("data_files") or data_files,
                                     revision=revision)
    except ValueError as exc:
        if "split" in str(exc).lower():
            raise _LoadProblem("FTC328", f"{src.display}: {_first_line(exc)}") from None
        raise _LoadProblem("FTC300", f"cannot load {src.display}: {_first_line(exc)}") from None
    except Exception as exc:  # noqa: BLE001 - datasets raises many types for a bad source
        raise _LoadProblem("FTC300", f"cannot load {src.display}: {_first_line(exc)}") from None
    return data.to_list()


def _from_hub(src: Source, dataset_id: str, split: str) -> list[dict]:
    """A hub dataset: from the local cache (offline) when there, else online unless offline."""
    offline = _offline_set()
    if _cached(dataset_id):
        with _offline_mode():
            try:
                return _call_load(src, dataset_id, split, revision=src.spec.get("revision"))
            except _LoadProblem as exc:
                if offline:
                    raise _not_cached(dataset_id, exc.message) from None
    elif offline:
        raise _not_cached(dataset_id, "it is not in the local Hugging Face cache "
                          "and offline mode is set")
    try:
        return _call_load(src, dataset_id, split, revision=src.spec.get("revision"))
    except _LoadProblem as exc:
        raise _not_cached(dataset_id, exc.message) from None


def _not_cached(dataset_id: str, why: str) -> _LoadProblem:
    return _LoadProblem("FTC327", f"hub dataset {dataset_id!r} could not be loaded: {why}",
                        HF_FETCH_HINT.format(id=dataset_id))


def _offline_set() -> bool:
    return any(os.environ.get(k, "").lower() in _TRUE
               for k in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"))


def _cached(dataset_id: str) -> bool:
    """Whether the hub cache or the datasets cache holds the dataset (no network)."""
    from datasets import config
    from huggingface_hub import constants

    hub = Path(constants.HF_HUB_CACHE) / f"datasets--{dataset_id.replace('/', '--')}"
    prepared = Path(config.HF_DATASETS_CACHE) / dataset_id.replace("/", "___")
    return hub.is_dir() or prepared.is_dir()


class _offline_mode:
    """datasets and huggingface_hub read their offline flag at import; set it for a call."""

    def __enter__(self):
        from datasets import config
        from huggingface_hub import constants

        self.saved = (config.HF_HUB_OFFLINE, constants.HF_HUB_OFFLINE)
        config.HF_HUB_OFFLINE = constants.HF_HUB_OFFLINE = True

    def __exit__(self, *exc):
        from datasets import config
        from huggingface_hub import constants

        config.HF_HUB_OFFLINE, constants.HF_HUB_OFFLINE = self.saved


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return redact(text.splitlines()[0][:200]) if text else type(exc).__name__


def _subsample(result: ReadResult, keep: int, seed: int, shuffled: bool) -> None:
    """Keep `keep` rows: the first ones when shuffled, else a seeded sample in file order."""
    rows = result.rows
    if keep >= len(rows):
        return
    if shuffled:
        result.rows = rows[:keep]
    else:
        chosen = sorted(random.Random(seed).sample(range(len(rows)), keep))
        result.rows = [rows[i] for i in chosen]
    result.seen -= len(rows) - keep
    result.sampled_out = len(rows) - keep


def _convert(src: Source, result: ReadResult) -> None:
    kept = []
    for row in result.rows:
        try:
            value = convert(row.value, src.spec)
        except ConvertProblem as exc:
            result.diagnostics.append(problem(
                "FTC326", row.path, row.line, exc.message, col=row.col,
                hint=exc.hint))
            result.rejected.append({"reason": exc.reason, "source": f"{row.path}:{row.line}",
                                    "raw": redact(str(row.value))[:200]})
            continue
        kept.append(Row(row.path, row.line, value, col=row.col))
    result.rows = kept
