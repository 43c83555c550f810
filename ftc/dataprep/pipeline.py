"""The data pipeline: read -> validate -> dedup -> length -> split -> leakage -> advice.

One function, `run_pipeline`, used by both `ftc data check` (report only:
nothing is dropped but invalid rows, and rows holding a secret-shaped string)
and `prepare` (applies the recipe's dedup and length policy).  Each stage
counts rows in, kept and dropped by reason, and in = kept + dropped is
asserted; every dropped row goes to the rejected list with its reason and
source line.
"""

from __future__ import annotations

import json
from array import array
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ftc.dataprep import formats, guidance, near, tokens
from ftc.dataprep.convert import needs_conversion
from ftc.dataprep.judge import judge_rows
from ftc.dataprep.procs import ordered_map, procs_available, ranges
from ftc.dataprep.progress import Progress
from ftc.dataprep.readers import SUFFIXES, ReadResult, read_any
from ftc.dataprep.rowstore import (
    SPLIT_IDS,
    Examples,
    ExampleTable,
    FileRows,
    Rejected,
    workspace_of,
)
from ftc.dataprep.rules import problem
from ftc.dataprep.settings import DataSettings
from ftc.dataprep.sources import as_sources, read_sources, sampled
from ftc.dataprep.split import SPLITS, assign_split_ids
from ftc.dataprep.views import Blobs, NearTexts, first_of
from ftc.diagnostics import Diagnostic

if TYPE_CHECKING:
    import numpy as np


@dataclass
class Stage:
    """Row accounting of one stage; `as_dict` refuses to report a leak."""

    name: str
    rows_in: int = 0
    kept: int = 0
    dropped: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict:
        total = sum(self.dropped.values())
        if self.rows_in != self.kept + total:
            raise AssertionError(f"stage {self.name}: {self.rows_in} in != "
                                 f"{self.kept} kept + {total} dropped")
        return {"stage": self.name, "in": self.rows_in, "kept": self.kept,
                "dropped": dict(sorted(self.dropped.items()))}


@dataclass
class PipelineResult:
    format: str | None
    splits: dict[str, Examples]  # each a lazy sequence of Example, read from disk on demand
    rejected: Rejected  # a sequence of dicts, as rejected.jsonl holds them
    diagnostics: list[Diagnostic]
    report: dict
    table: ExampleTable | None = None
    workspace: object = None

    def close(self) -> None:
        """Remove the run's row files (also done when the result is collected)."""
        if self.table is not None:
            self.table.close()
        if self.workspace is not None:
            self.workspace.close()


class _Run:
    def __init__(self, settings: DataSettings, prepare: bool, origin: str) -> None:
        self.s = settings
        self.prepare = prepare
        self.origin = origin  # where recipe-level findings point (recipe or lock path)
        self.diags: list[Diagnostic] = []
        self.rejected = Rejected()
        self.stages: list[Stage] = []
        self.report: dict = {}
        self.workspace = workspace_of(settings.work_dir)
        self.table = ExampleTable(self.workspace)
        self.rejected.table = self.table
        self.prompt_added = 0

    def drop(self, stage: Stage, reason: str, split: str, source: str, example: object,
             detail: str | None = None) -> None:
        stage.dropped[reason] += 1
        entry = {"reason": reason, "split": split, "source": source}
        if detail:
            entry["detail"] = detail
        entry["example"] = example
        self.rejected.append(entry)

    def drop_row(self, stage: Stage, reason: str, row: int, detail: str | None = None) -> None:
        """Drop the table's example `row` (rejected.jsonl reads it back from the table)."""
        stage.dropped[reason] += 1
        t = self.table
        entry = {"reason": reason, "split": SPLIT_IDS[t.split[row]], "source": t.source(row)}
        if detail:
            entry["detail"] = detail
        self.rejected.append(entry, int(row))

    def close(self) -> None:
        self.table.close()
        if self.workspace is not None:
            self.workspace.close()


def run_pipeline(inputs: dict[str, list], settings: DataSettings, *,
                 prepare: bool, origin: str = "recipe") -> PipelineResult:
    """Check (and for `prepare`, clean and split) the examples of each split's files.

    The examples' texts are in an Arrow file in a workspace under
    `settings.work_dir` (the system's temporary folder when None); the result
    reads them from there until `close()`.
    """
    run = _Run(settings, prepare, origin)
    try:
        return _pipeline(run, inputs)
    except BaseException:
        run.close()
        raise


def _pipeline(run: _Run, inputs: dict[str, list]) -> PipelineResult:
    settings = run.s
    rows = _read(run, inputs)
    fmt, examples = _validate(run, rows)
    del rows
    groups = _dedup(run, examples, fmt) if fmt else None
    if fmt:
        _lengths(run, examples, fmt)
    split_here = bool(settings.split and set(examples) == {"train"} and fmt)
    if split_here:
        _split(run, examples, fmt, groups)
    stage = Stage("split", rows_in=sum(len(v) for v in examples.values()))
    stage.kept = stage.rows_in
    run.stages.append(stage)
    if fmt and split_here:
        # Duplicate groups never straddle this split: exact and near-duplicates were
        # dropped (the kept examples were each compared with all earlier kept ones) or
        # grouped whole; the same LSH would find nothing new.
        run.report["leakage"] = 0
    elif fmt:
        _leakage(run, examples, fmt)
    if fmt:
        _advice(run, examples, fmt)
    _finish_report(run, examples)
    splits = {k: Examples(run.table, examples[k]) for k in SPLITS if len(examples.get(k, ()))}
    return PipelineResult(fmt, splits, run.rejected, run.diags, run.report, run.table,
                          run.workspace)


def _read(run: _Run, inputs: dict[str, list]) -> dict[str, list[FileRows]]:
    stage = Stage("read")
    out: dict[str, list[FileRows]] = {}
    run.report["inputs"] = []
    for split, files in inputs.items():
        sources = as_sources(files)
        results = ([_read_compact(src, run.workspace) for src in sources]
                   if all(map(_plain, sources)) else read_sources(sources, run.s.seed))
        for src, result in zip(sources, results, strict=True):
            display = src.display
            if not isinstance(result.rows, FileRows):  # sources, hub datasets, failed reads
                result.rows = FileRows.of(result.rows, run.workspace)
            result.rows.texts.finish()
            run.diags += result.diagnostics
            stage.rows_in += result.seen
            stage.kept += len(result.rows)
            for entry in result.rejected:
                stage.dropped[entry["reason"]] += 1
                run.rejected.append({"reason": entry["reason"], "split": split,
                                     "source": entry["source"], "raw": entry["raw"]})
            out.setdefault(split, []).append(result.rows)
            run.report["inputs"].append({"split": split, "path": display,
                                         "sha256": result.sha256, "rows": result.seen,
                                         **sampled(result)})
    run.stages.append(stage)
    return out


def _plain(src) -> bool:
    """A local file read as it is (no slice, shuffle, weight or conversion): streamed."""
    spec = src.spec
    return (src.path.suffix.lower() in SUFFIXES and not needs_conversion(spec)
            and not any(spec.get(k) for k in ("split", "shuffle", "weight", "name",
                                               "data_files")))


def _read_compact(src, workspace) -> ReadResult:
    """What ftc.dataprep.sources reads for a plain file, each row's JSON text on disk."""
    return read_any(src.path, src.display, into=ReadResult(rows=FileRows(workspace)))


def _validate(run: _Run, rows: dict[str, list[FileRows]]):
    with Progress("validate", sum(len(f) for files in rows.values() for f in files)) as shown:
        fmt, examples = _validate_rows(run, rows, shown)
    run.table.finish()
    return fmt, {split: _array(items) for split, items in examples.items()}


def _array(items) -> np.ndarray:
    import numpy as np

    return np.frombuffer(items, dtype=np.int64).copy() if len(items) else \
        np.zeros(0, dtype=np.int64)


def _validate_rows(run: _Run, rows: dict[str, list[FileRows]], shown: Progress):
    stage = Stage("validate")
    examples: dict[str, array] = {}
    chosen = run.s.format if run.s.format != "auto" else None
    file_formats: list[tuple[str, str | None]] = []  # (split, fmt) per file, in order
    for split, files in rows.items():
        for file_rows in files:
            file_formats.append((split, file_rows.file_format()))
    overall = chosen or next((f for _, f in file_formats if f), None)
    add_prompt = overall == formats.MESSAGES and bool(run.s.system_prompt)
    run.report["file_formats"] = {}
    fmts = iter(file_formats)
    for split, files in rows.items():
        split_fmt = None
        examples.setdefault(split, array("q"))
        for file_rows in files:
            file_fmt = next(fmts)[1]
            stage.rows_in += len(file_rows)
            if not file_rows:
                continue
            path = file_rows.path
            run.report["file_formats"][path] = file_fmt
            mismatch = None
            if file_fmt and chosen and file_fmt != chosen:
                mismatch = f"{path} holds {file_fmt} examples, but data.format is {chosen}"
            elif file_fmt and split_fmt and file_fmt != split_fmt:
                mismatch = (f"{split} split mixes formats: {path} is {file_fmt}, "
                            f"earlier files are {split_fmt}")
            elif file_fmt and overall and file_fmt != overall:
                mismatch = f"{path} is {file_fmt}, but the training data is {overall}"
            if mismatch:
                run.diags.append(problem("FTC307", path, file_rows.lines[0], mismatch,
                                         hint="convert the file, or keep one format per run"))
                for row in file_rows.drain():
                    shown.advance()
                    run.drop(stage, "wrong_format", split, f"{row.path}:{row.line}", row.value)
                continue
            split_fmt = split_fmt or file_fmt
            prompt = run.s.system_prompt if add_prompt else None
            _check_rows(run, stage, examples[split], file_rows, (file_fmt or overall, file_fmt,
                                                                 prompt), split, shown)
    run.stages.append(stage)
    run.report["format"] = overall
    if add_prompt:
        run.report["system_prompt_added"] = run.prompt_added
    return overall, examples


_VALIDATE_CHUNK = 2048  # rows per task


def _check_rows(run: _Run, stage: Stage, out: array, file_rows: FileRows, how: tuple,
                split: str, shown: Progress) -> None:
    """Judge a file's rows on the worker processes; apply the verdicts here, in row order."""
    tasks = ranges(len(file_rows), _VALIDATE_CHUNK)
    t = run.table
    verdicts = ordered_map(judge_rows, tasks, procs_available(), (file_rows, how))
    for (start, stop), chunk in zip(tasks, verdicts, strict=True):
        for (path, line), diags, verdict in chunk:
            run.diags += diags
            if verdict[0] == "drop":
                _, reason, example, detail = verdict
                run.drop(stage, reason, split, f"{path}:{line}", example, detail)
                continue
            _, blob, orig, key, added = verdict
            stage.kept += 1
            run.prompt_added += added
            out.append(len(t))
            t.add_text(path, line, blob, split, orig, key)
        shown.advance(stop - start)
    file_rows.texts.drop()


def _dedup(run: _Run, examples: dict, fmt: str) -> np.ndarray:
    """Exact then near duplicates within each split; returns the group of each table row."""
    import numpy as np

    exact_stage = Stage("exact_dedup")
    near_stage = Stage("near_dedup")
    t = run.table
    groups = np.arange(len(t))  # each example's group: a table row (its first member)
    counts = {"exact": 0, "near": 0}
    for split in list(examples):
        rows = examples[split]
        n = len(rows)
        exact_stage.rows_in += n
        with Progress(f"exact dedup ({split})", n) as shown:
            exact_of = first_of(t.key[rows])
            shown.advance(n)
        is_rep = exact_of == np.arange(n)
        reps = np.flatnonzero(is_rep)
        dup_ids = np.flatnonzero(~is_rep)
        counts["exact"] += len(dup_ids)
        drop_exact = run.prepare and run.s.exact
        for i in dup_ids.tolist():
            of = t.source(rows[exact_of[i]])
            if drop_exact:
                run.drop_row(exact_stage, "exact_duplicate", rows[i], f"duplicate of {of}")
            else:
                run.diags.append(problem("FTC320", t.paths[t.file[rows[i]]],
                                         int(t.line[rows[i]]), f"exact duplicate of {of}"))
        exact_stage.kept += n - (len(dup_ids) if drop_exact else 0)
        texts = NearTexts(t, rows, fmt)
        matches = near.near_duplicates(texts, run.s.threshold, order=reps,
                                       stage=f"near dedup ({split})")
        near_of = {m.index: m.of for m in matches}
        if run.prepare and not run.s.near and run.s.split:
            # duplicates stay in the data: keep whole near-duplicate chains together
            near_of = near.near_groups(texts, run.s.threshold, order=reps,
                                       stage=f"near groups ({split})")
        del texts
        counts["near"] += len(matches)
        drop_near = run.prepare and run.s.near
        survivors = n - (len(dup_ids) if drop_exact else 0)
        near_stage.rows_in += survivors
        for m in matches:
            row, of = rows[m.index], rows[m.of]
            detail = f"near duplicate of {t.source(of)} (similarity {m.similarity:.2f})"
            if drop_near:
                run.drop_row(near_stage, "near_duplicate", row, detail)
            else:
                run.diags.append(problem("FTC321", t.paths[t.file[row]], int(t.line[row]),
                                         detail))
        keep = np.ones(n, dtype=bool)
        if drop_exact:
            keep &= is_rep
        if drop_near and matches:
            keep[[m.index for m in matches]] = False
        near_stage.kept += survivors - (len(matches) if drop_near else 0)
        group_of = np.arange(n)
        if near_of:
            group_of[list(near_of)] = list(near_of.values())
        examples[split] = rows[keep]
        groups[rows[keep]] = rows[group_of[exact_of]][keep]
    run.stages += [exact_stage, near_stage]
    run.report["duplicates"] = {**counts, "dropped": run.prepare and (run.s.exact or run.s.near)}
    return groups


def _lengths(run: _Run, examples: dict, fmt: str) -> None:
    import numpy as np

    stage = Stage("length")
    t = run.table
    items = np.concatenate([examples[s] for s in examples]) if examples else \
        np.zeros(0, dtype=np.int64)
    stage.rows_in = len(items)
    limit = run.s.max_seq_length
    tok, reason = tokens.load_tokenizer(run.s.tokenizer, run.s.base_dir)
    if tok is None:
        run.report["tokens"] = {"skipped": reason}
        if limit:
            where = run.origin if run.prepare else (run.s.tokenizer or run.origin)
            run.diags.append(problem(
                "FTC341", where, 1,
                f"token lengths not checked against max_seq_length {limit}: {reason}",
                hint="pass --model PATH (or set model.base to a local model)"))
        stage.kept = len(items)
        run.stages.append(stage)
        return
    tokens.use_chat_template(tok, run.s.chat_template)
    try:
        counts, method, refused = tokens.count_tokens_of(tok, Blobs(t, items), fmt,
                                                         procs_available())
    except tokens.TemplateBroken as exc:
        run.diags.append(problem("FTC342", run.origin, 1, f"the chat template does not "
                                 f"compile: template line {exc.line}: {exc.message}",
                                 hint="fix model.chat_template (ftc lint reports it as FTC128)"))
        run.report["tokens"] = {"skipped": "the chat template does not compile"}
        stage.kept = len(items)
        run.stages.append(stage)
        return
    counts = np.asarray(counts, dtype=np.int64)
    if refused:
        gone = np.zeros(len(items), dtype=bool)
        gone[list(refused)] = True
        message = {int(items[i]): m for i, m in refused.items()}
        for split in examples:  # an error each, and out of the data (FTC342)
            rows = examples[split]
            for row in rows[np.isin(rows, items[gone])].tolist():
                run.diags.append(problem("FTC342", t.paths[t.file[row]], int(t.line[row]),
                                         f"the chat template refuses this example: "
                                         f"{message[row]}"))
                run.drop_row(stage, "template_error", row, message[row])
            examples[split] = rows[~np.isin(rows, items[gone])]
        items, counts = items[~gone], counts[~gone]
    run.report["tokens"] = {"method": method, **tokens.percentiles(counts.tolist())}
    is_over = counts > limit if limit else np.zeros(len(items), dtype=bool)
    over = items[is_over]
    policy = run.s.length_policy
    run.report["tokens"]["over_max_seq_length"] = len(over)
    run.report["tokens"]["max_seq_length"] = limit
    if len(over) and run.prepare:
        action = ("dropped" if policy == "drop"
                  else f"kept; the trainer truncates them to {limit} tokens")
        first = int(over[0])
        run.diags.append(problem(
            "FTC340", t.paths[t.file[first]], int(t.line[first]),
            f"{len(over)} example(s) longer than max_seq_length {limit} "
            f"(longest {int(counts[is_over].max())} tokens): {action} "
            f"(data.length_policy: {policy})"))
        run.report["tokens"]["policy"] = policy
    elif len(over):
        for row, n in zip(over.tolist(), counts[is_over].tolist(), strict=True):
            run.diags.append(problem("FTC340", t.paths[t.file[row]], int(t.line[row]),
                                     f"{n} tokens, over max_seq_length {limit}"))
    if run.prepare and policy == "drop" and len(over):
        count_of = dict(zip(over.tolist(), counts[is_over].tolist(), strict=True))
        for split in examples:
            rows = examples[split]
            long = np.isin(rows, over)
            for row in rows[long].tolist():
                run.drop_row(stage, "too_long", row,
                             f"{count_of[row]} tokens > max_seq_length {limit}")
            examples[split] = rows[~long]
    elif run.prepare and len(over):
        run.report["tokens"]["truncated"] = len(over)
    stage.kept = sum(len(v) for v in examples.values())
    run.stages.append(stage)


def _responses(run: _Run, rows, fmt: str):
    return (formats.response(json.loads(b), fmt) for b in run.table.blobs(rows))


def _split(run: _Run, examples: dict, fmt: str, groups: np.ndarray) -> None:
    rows = examples["train"]
    fractions = run.s.split or {}
    if fractions.get("validation", 0) + fractions.get("test", 0) > 1 + 1e-9:
        run.diags.append(problem("FTC324", run.origin, 1,
                                 "data.split validation + test fractions exceed 1"))
        return
    counts = guidance.label_counts(_responses(run, rows, fmt), run.s.task)
    strata = ([guidance.label_of(r, counts) for r in _responses(run, rows, fmt)]
              if counts else None)
    names = assign_split_ids(groups[rows], strata, fractions, run.s.seed)
    examples.clear()
    for k, name in enumerate(SPLITS):
        examples[name] = rows[names == k]
    run.table.split[rows] = names
    run.report["split"] = {"fractions": fractions, "seed": run.s.seed,
                           "stratified": bool(counts)}
    for name in ("validation", "test"):
        if fractions.get(name, 0) > 0 and not len(examples[name]):
            run.diags.append(problem(
                "FTC309", run.origin, 1,
                f"the {name} split is empty: {len(rows)} examples x {fractions[name]} < 1",
                hint="add data or give the split's file explicitly"))


def _leakage(run: _Run, examples: dict, fmt: str) -> None:
    import numpy as np

    order = [s for s in SPLITS if len(examples.get(s, ()))]
    if len(order) < 2:
        return
    t = run.table
    items = np.concatenate([examples[s] for s in order])
    split_of = t.split[items]
    earlier = first_of(t.key[items])
    leaks = np.flatnonzero(split_of[earlier] != split_of)
    exact_leaks = set(leaks.tolist())
    for i in leaks.tolist():
        row, of = int(items[i]), int(items[earlier[i]])
        run.diags.append(problem(
            "FTC322", t.paths[t.file[row]], int(t.line[row]),
            f"{SPLIT_IDS[split_of[i]]} example is also in {SPLIT_IDS[split_of[earlier[i]]]} "
            f"at {t.source(of)}",
            hint="training on evaluation data inflates every metric; remove one copy"))
    index = near.NearIndex(NearTexts(t, items, fmt), run.s.threshold)
    head = SPLIT_IDS.index(order[0])
    for i in index.with_candidates(range(len(items))):
        s = split_of[i]
        if s != head and i not in exact_leaks:
            match = index.best_match(i, allowed=lambda j, i=i, s=s: j < i and split_of[j] != s)
            if match is not None:
                row, of = int(items[i]), int(items[match.of])
                run.diags.append(problem(
                    "FTC323", t.paths[t.file[row]], int(t.line[row]),
                    f"{SPLIT_IDS[s]} example nearly repeats {SPLIT_IDS[split_of[match.of]]} "
                    f"example {t.source(of)} (similarity {match.similarity:.2f})",
                    hint="training on evaluation data inflates every metric; remove one copy"))
    run.report["leakage"] = sum(d.rule in ("FTC322", "FTC323") for d in run.diags)


def _advice(run: _Run, examples: dict, fmt: str) -> None:
    t = run.table
    train = examples.get("train", ())
    if not len(train):
        if not any(d.is_error for d in run.diags) or run.prepare:
            run.diags.append(problem("FTC303", run.origin, 1, "no training examples left"))
        return
    counts = guidance.label_counts(_responses(run, train, fmt), run.s.task)
    run.report["labels"] = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))) \
        if counts else None
    worst = guidance.imbalance(counts) if counts else None
    if worst and worst[4] > run.s.max_ratio and not run.s.class_weighting:
        big, n_big, small, n_small, ratio = worst
        first_small = next(row for row, r in zip(train.tolist(), _responses(run, train, fmt),
                                                  strict=True)
                           if guidance.label_of(r, counts) == small)
        run.diags.append(problem(
            "FTC330", t.paths[t.file[first_small]], int(t.line[first_small]),
            f"class imbalance {ratio:.0f}:1 (over {run.s.max_ratio:g}:1): {big!r} has {n_big} "
            f"examples, {small!r} has {n_small}",
            hint="add examples of the small classes, downsample the large ones, or set "
                 "data.balance.class_weighting: true"))
    advice = guidance.size_advice(run.s.task, len(train))
    if advice:
        run.diags.append(problem("FTC331", t.paths[t.file[train[0]]], 1, advice))
    if run.s.user_facing:
        refusals = sum(guidance.is_refusal(r) for s in examples
                       for r in _responses(run, examples[s], fmt))
        run.report["refusals"] = refusals
        if refusals == 0:
            run.diags.append(problem(
                "FTC350", run.origin, 1,
                "model.user_facing is true but no example refuses a request",
                hint="add examples where the assistant declines harmful or out-of-scope "
                     "requests, or the fine-tune may unlearn refusals"))


def _finish_report(run: _Run, examples: dict) -> None:
    stages = [s.as_dict() for s in run.stages]
    run.report["stages"] = stages
    run.report["rows"] = {"in": stages[0]["in"],
                          "kept": sum(len(v) for v in examples.values()),
                          "dropped": len(run.rejected)}
    if run.report["rows"]["in"] != run.report["rows"]["kept"] + run.report["rows"]["dropped"]:
        raise AssertionError(f"rows in != kept + dropped: {run.report['rows']}")
    run.report["splits"] = {s: len(examples.get(s, ())) for s in SPLITS if s in examples}
    run.report["problems"] = dict(sorted(Counter(d.rule for d in run.diags).items()))
    run.report["settings"] = run.s.public()
