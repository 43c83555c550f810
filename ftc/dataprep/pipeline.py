"""The data pipeline: read -> validate -> dedup -> length -> split -> leakage -> advice.

One function, `run_pipeline`, used by both `ftc data check` (report only:
nothing is dropped but invalid rows, and rows holding a secret-shaped string)
and `prepare` (applies the recipe's dedup and length policy).  Each stage
counts rows in, kept and dropped by reason, and in = kept + dropped is
asserted; every dropped row goes to the rejected list with its reason and
source line.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ftc.dataprep import dedup, formats, guidance, tokens
from ftc.dataprep.readers import Row
from ftc.dataprep.rules import problem
from ftc.dataprep.settings import DataSettings
from ftc.dataprep.sources import as_sources, read_sources, sampled
from ftc.dataprep.split import SPLITS, assign_splits
from ftc.diagnostics import Diagnostic
from ftc.secret_scan import has_secret_data, redact_data


@dataclass
class Example:
    path: str
    line: int
    data: dict  # normalized
    split: str
    original: object = None  # the row as read, for rejected.jsonl
    key: str = ""  # exact-duplicate identity

    @property
    def source(self) -> str:
        return f"{self.path}:{self.line}"


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
    splits: dict[str, list[Example]]
    rejected: list[dict]
    diagnostics: list[Diagnostic]
    report: dict


class _Run:
    def __init__(self, settings: DataSettings, prepare: bool, origin: str) -> None:
        self.s = settings
        self.prepare = prepare
        self.origin = origin  # where recipe-level findings point (recipe or lock path)
        self.diags: list[Diagnostic] = []
        self.rejected: list[dict] = []
        self.stages: list[Stage] = []
        self.report: dict = {}
        self.sets: dict[int, object] = {}  # shingle set per kept example (by id)

    def drop(self, stage: Stage, reason: str, split: str, source: str, example: object,
             detail: str | None = None) -> None:
        stage.dropped[reason] += 1
        entry = {"reason": reason, "split": split, "source": source}
        if detail:
            entry["detail"] = detail
        entry["example"] = example
        self.rejected.append(entry)


def run_pipeline(inputs: dict[str, list], settings: DataSettings, *,
                 prepare: bool, origin: str = "recipe") -> PipelineResult:
    """Check (and for `prepare`, clean and split) the examples of each split's files."""
    run = _Run(settings, prepare, origin)
    rows = _read(run, inputs)
    fmt, examples = _validate(run, rows)
    del rows  # the parsed rows and their source lines: examples keep what they need
    if fmt == formats.MESSAGES and settings.system_prompt:
        _add_system_prompt(run, examples)
    sets: dict[int, object] = {}
    groups = _dedup(run, examples, fmt, sets) if fmt else {}
    token_counts = _lengths(run, examples, fmt) if fmt else {}
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
    _finish_report(run, examples, fmt, token_counts)
    return PipelineResult(fmt, {k: examples.get(k, []) for k in SPLITS if examples.get(k)},
                          run.rejected, run.diags, run.report)


def _read(run: _Run, inputs: dict[str, list]) -> dict[str, list[list[Row]]]:
    stage = Stage("read")
    out: dict[str, list[list[Row]]] = {}
    run.report["inputs"] = []
    for split, files in inputs.items():
        sources = as_sources(files)
        for src, result in zip(sources, read_sources(sources, run.s.seed), strict=True):
            display = src.display
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


def _file_format(rows: list[Row]) -> str | None:
    counts = Counter(f for f in (formats.detect(r.value) for r in rows) if f)
    if not counts:
        return None
    return max(formats.FORMATS, key=lambda f: (counts[f], -formats.FORMATS.index(f)))


def _validate(run: _Run, rows: dict[str, list[list[Row]]]):
    stage = Stage("validate")
    examples: dict[str, list[Example]] = {}
    chosen = run.s.format if run.s.format != "auto" else None
    file_formats: list[tuple[str, str | None]] = []  # (split, fmt) per file, in order
    for split, files in rows.items():
        for file_rows in files:
            file_formats.append((split, _file_format(file_rows)))
    overall = chosen or next((f for _, f in file_formats if f), None)
    run.report["file_formats"] = {}
    fmts = iter(file_formats)
    for split, files in rows.items():
        split_fmt = None
        examples.setdefault(split, [])
        for file_rows in files:
            file_fmt = next(fmts)[1]
            stage.rows_in += len(file_rows)
            if not file_rows:
                continue
            path = file_rows[0].path
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
                run.diags.append(problem("FTC307", path, file_rows[0].line, mismatch,
                                         hint="convert the file, or keep one format per run"))
                for row in file_rows:
                    run.drop(stage, "wrong_format", split, f"{row.path}:{row.line}", row.value)
                continue
            split_fmt = split_fmt or file_fmt
            fmt = file_fmt or overall
            for row in file_rows:
                _check_row(run, stage, examples[split], row, fmt, file_fmt, split)
    run.stages.append(stage)
    run.report["format"] = overall
    return overall, examples


def _check_row(run: _Run, stage: Stage, out: list[Example], row: Row, fmt: str | None,
               file_fmt: str | None, split: str) -> None:
    source = f"{row.path}:{row.line}"
    if fmt is None:
        run.diags.append(problem(
            "FTC306", row.path, row.line,
            "not a messages, completion or preference example "
            f"({formats.describe_keys(row.value)})",
            col=row.col,
            hint="expected {'messages': [...]}, {'prompt', 'completion'} "
                 "or {'prompt', 'chosen', 'rejected'}"))
        run.drop(stage, "invalid_example", split, source, row.value)
        return
    row_fmt = formats.detect(row.value)
    if row_fmt and file_fmt and row_fmt != file_fmt:
        run.diags.append(problem("FTC307", row.path, row.line,
                                 f"{row_fmt} example in a {file_fmt} file", col=row.col))
        run.drop(stage, "wrong_format", split, source, row.value)
        return
    found = formats.validate(row, fmt)
    run.diags += found
    if any(d.is_error for d in found):
        run.drop(stage, "invalid_example", split, source, row.value,
                 "; ".join(f"{d.rule} {d.message}" for d in found if d.is_error))
        return
    kind = has_secret_data(row.value)
    if kind:  # kept out of every split, report and export; rejected.jsonl gets it redacted
        run.diags.append(problem("FTC325", row.path, row.line,
                                 f"example holds a secret-shaped string ({kind}); left out",
                                 col=row.col, hint="remove the token from the data; a model "
                                 "can learn it and repeat it"))
        run.drop(stage, "secret", split, source, redact_data(row.value))
        return
    stage.kept += 1
    out.append(Example(row.path, row.line, formats.normalize(row.value, fmt), split, row.value))


def _add_system_prompt(run: _Run, examples: dict[str, list[Example]]) -> None:
    added = 0
    for items in examples.values():
        for ex in items:
            messages = ex.data["messages"]
            if messages[0]["role"] != "system":
                ex.data["messages"] = [{"role": "system", "content": run.s.system_prompt},
                                       *messages]
                added += 1
    run.report["system_prompt_added"] = added


def _dedup(run: _Run, examples: dict[str, list[Example]], fmt: str, sets: dict) -> dict:
    """Exact then near duplicates within each split; returns group id per example id."""
    exact_stage = Stage("exact_dedup")
    near_stage = Stage("near_dedup")
    shingler = dedup.Shingler()
    groups: dict[int, int] = {}
    counts = {"exact": 0, "near": 0}
    for split in list(examples):
        items = examples[split]
        exact_stage.rows_in += len(items)
        first: dict[str, int] = {}
        exact_of: list[int] = []
        for i, ex in enumerate(items):
            key = dedup.exact_key(formats.texts(ex.data, fmt))
            ex.key = key
            exact_of.append(first.setdefault(key, i))
        reps = [i for i in range(len(items)) if exact_of[i] == i]
        dup_ids = [i for i in range(len(items)) if exact_of[i] != i]
        counts["exact"] += len(dup_ids)
        drop_exact = run.prepare and run.s.exact
        for i in dup_ids:
            of = items[exact_of[i]]
            if drop_exact:
                run.drop(exact_stage, "exact_duplicate", split, items[i].source,
                         items[i].original, f"duplicate of {of.source}")
            else:
                run.diags.append(problem("FTC320", items[i].path, items[i].line,
                                         f"exact duplicate of {of.source}"))
        exact_stage.kept += len(items) - (len(dup_ids) if drop_exact else 0)
        shingle_sets = [shingler(dedup.similarity_text(formats.texts(ex.data, fmt)))
                        for ex in items]
        matches = dedup.near_duplicates(shingle_sets, run.s.threshold, order=reps)
        near_of = {m.index: m.of for m in matches}
        if run.prepare and not run.s.near and run.s.split:
            # duplicates stay in the data: keep whole near-duplicate chains together
            near_of = dedup.near_groups(shingle_sets, run.s.threshold, order=reps)
        counts["near"] += len(matches)
        drop_near = run.prepare and run.s.near
        survivors = [i for i in range(len(items)) if not (drop_exact and exact_of[i] != i)]
        near_stage.rows_in += len(survivors)
        for m in matches:
            ex, of = items[m.index], items[m.of]
            detail = f"near duplicate of {of.source} (Jaccard {m.similarity:.2f})"
            if drop_near:
                run.drop(near_stage, "near_duplicate", split, ex.source, ex.original, detail)
            else:
                run.diags.append(problem("FTC321", ex.path, ex.line, detail))
        dropped = {i for i in range(len(items))
                   if (drop_exact and exact_of[i] != i) or (drop_near and i in near_of)}
        near_stage.kept += len(survivors) - (len(matches) if drop_near else 0)
        kept = [i for i in range(len(items)) if i not in dropped]
        examples[split] = [items[i] for i in kept]
        for i in kept:
            rep = exact_of[i]
            groups[id(items[i])] = id(items[near_of.get(rep, rep)])
            sets[id(items[i])] = shingle_sets[i]
    run.stages += [exact_stage, near_stage]
    run.report["duplicates"] = {**counts, "dropped": run.prepare and (run.s.exact or run.s.near)}
    run.sets = sets
    return groups


def _lengths(run: _Run, examples: dict[str, list[Example]], fmt: str) -> dict:
    stage = Stage("length")
    items = [ex for split in examples for ex in examples[split]]
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
        return {}
    tokens.use_chat_template(tok, run.s.chat_template)
    try:
        counts, method, refused = tokens.count_tokens(tok, [ex.data for ex in items], fmt)
    except tokens.TemplateBroken as exc:
        run.diags.append(problem("FTC342", run.origin, 1, f"the chat template does not "
                                 f"compile: template line {exc.line}: {exc.message}",
                                 hint="fix model.chat_template (ftc lint reports it as FTC128)"))
        run.report["tokens"] = {"skipped": "the chat template does not compile"}
        stage.kept = len(items)
        run.stages.append(stage)
        return {}
    if refused:
        _drop_refused(run, stage, examples, {id(items[i]): m for i, m in refused.items()})
        counts = [n for i, n in enumerate(counts) if i not in refused]
        items = [ex for i, ex in enumerate(items) if i not in refused]
    by_id = {id(ex): n for ex, n in zip(items, counts, strict=True)}
    run.report["tokens"] = {"method": method, **tokens.percentiles(counts)}
    over = [ex for ex in items if limit and by_id[id(ex)] > limit]
    policy = run.s.length_policy
    run.report["tokens"]["over_max_seq_length"] = len(over)
    run.report["tokens"]["max_seq_length"] = limit
    if over and run.prepare:
        action = ("dropped" if policy == "drop"
                  else f"kept; the trainer truncates them to {limit} tokens")
        run.diags.append(problem(
            "FTC340", over[0].path, over[0].line,
            f"{len(over)} example(s) longer than max_seq_length {limit} "
            f"(longest {max(by_id[id(e)] for e in over)} tokens): {action} "
            f"(data.length_policy: {policy})"))
        run.report["tokens"]["policy"] = policy
    elif over:
        for ex in over:
            run.diags.append(problem(
                "FTC340", ex.path, ex.line,
                f"{by_id[id(ex)]} tokens, over max_seq_length {limit}"))
    if run.prepare and policy == "drop" and over:
        gone = {id(ex) for ex in over}
        for split in examples:
            kept = []
            for ex in examples[split]:
                if id(ex) in gone:
                    run.drop(stage, "too_long", split, ex.source, ex.original,
                             f"{by_id[id(ex)]} tokens > max_seq_length {limit}")
                else:
                    kept.append(ex)
            examples[split] = kept
    elif run.prepare and over:
        run.report["tokens"]["truncated"] = len(over)
    stage.kept = sum(len(v) for v in examples.values())
    run.stages.append(stage)
    return by_id


def _drop_refused(run: _Run, stage: Stage, examples: dict[str, list[Example]],
                  refused: dict[int, str]) -> None:
    """Examples the chat template raises on (FTC342): an error each, and out of the data."""
    for split in examples:
        kept = []
        for ex in examples[split]:
            message = refused.get(id(ex))
            if message is None:
                kept.append(ex)
                continue
            run.diags.append(problem("FTC342", ex.path, ex.line,
                                     f"the chat template refuses this example: {message}"))
            run.drop(stage, "template_error", split, ex.source, ex.original, message)
        examples[split] = kept


def _split(run: _Run, examples: dict[str, list[Example]], fmt: str, groups: dict) -> None:
    items = examples["train"]
    fractions = run.s.split or {}
    if fractions.get("validation", 0) + fractions.get("test", 0) > 1 + 1e-9:
        run.diags.append(problem("FTC324", run.origin, 1,
                                 "data.split validation + test fractions exceed 1"))
        return
    labels = [formats.response(ex.data, fmt) for ex in items]
    counts = guidance.label_counts(labels, run.s.task)
    strata = [guidance.label_of(lab, counts) for lab in labels]
    group_ids = [groups.get(id(ex), id(ex)) for ex in items]
    names = assign_splits(group_ids, strata, fractions, run.s.seed)
    examples.clear()
    for name in SPLITS:
        examples[name] = [ex for ex, n in zip(items, names, strict=True) if n == name]
        for ex in examples[name]:
            ex.split = name
    run.report["split"] = {"fractions": fractions, "seed": run.s.seed,
                           "stratified": bool(counts)}
    for name in ("validation", "test"):
        if fractions.get(name, 0) > 0 and not examples[name]:
            run.diags.append(problem(
                "FTC309", run.origin, 1,
                f"the {name} split is empty: {len(items)} examples x {fractions[name]} < 1",
                hint="add data or give the split's file explicitly"))


def _leakage(run: _Run, examples: dict[str, list[Example]], fmt: str) -> None:
    order = [s for s in SPLITS if examples.get(s)]
    if len(order) < 2:
        return
    sets = run.sets
    items = [ex for s in order for ex in examples[s]]
    seen: dict[str, Example] = {}
    exact_leaks: set[int] = set()
    for ex in items:
        earlier = seen.get(ex.key)
        if earlier is not None and earlier.split != ex.split:
            run.diags.append(problem(
                "FTC322", ex.path, ex.line,
                f"{ex.split} example is also in {earlier.split} at {earlier.source}",
                hint="training on evaluation data inflates every metric; remove one copy"))
            exact_leaks.add(id(ex))
        seen.setdefault(ex.key, ex)
    index = dedup.NearIndex([sets[id(ex)] for ex in items], run.s.threshold)
    split_of = [ex.split for ex in items]
    for i, ex in enumerate(items):
        if ex.split != order[0] and id(ex) not in exact_leaks:
            match = index.best_match(i, allowed=lambda j, s=ex.split: split_of[j] != s)
            if match is not None:
                of = items[match.of]
                run.diags.append(problem(
                    "FTC323", ex.path, ex.line,
                    f"{ex.split} example nearly repeats {of.split} example {of.source} "
                    f"(Jaccard {match.similarity:.2f})",
                    hint="training on evaluation data inflates every metric; remove one copy"))
        index.add(i)
    run.report["leakage"] = sum(d.rule in ("FTC322", "FTC323") for d in run.diags)


def _advice(run: _Run, examples: dict[str, list[Example]], fmt: str) -> None:
    train = examples.get("train", [])
    where = train[0] if train else None
    if not train:
        if not any(d.is_error for d in run.diags) or run.prepare:
            run.diags.append(problem("FTC303", run.origin, 1, "no training examples left"))
        return
    labels = [formats.response(ex.data, fmt) for ex in train]
    counts = guidance.label_counts(labels, run.s.task)
    run.report["labels"] = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))) \
        if counts else None
    worst = guidance.imbalance(counts) if counts else None
    if worst and worst[4] > run.s.max_ratio and not run.s.class_weighting:
        big, n_big, small, n_small, ratio = worst
        first_small = next(ex for ex, lab in zip(train, labels, strict=True)
                           if guidance.label_of(lab, counts) == small)
        run.diags.append(problem(
            "FTC330", first_small.path, first_small.line,
            f"class imbalance {ratio:.0f}:1 (over {run.s.max_ratio:g}:1): {big!r} has {n_big} "
            f"examples, {small!r} has {n_small}",
            hint="add examples of the small classes, downsample the large ones, or set "
                 "data.balance.class_weighting: true"))
    advice = guidance.size_advice(run.s.task, len(train))
    if advice:
        run.diags.append(problem("FTC331", where.path, 1, advice))
    if run.s.user_facing:
        refusals = sum(guidance.is_refusal(formats.response(ex.data, fmt))
                       for s in examples for ex in examples[s])
        run.report["refusals"] = refusals
        if refusals == 0:
            run.diags.append(problem(
                "FTC350", run.origin, 1,
                "model.user_facing is true but no example refuses a request",
                hint="add examples where the assistant declines harmful or out-of-scope "
                     "requests, or the fine-tune may unlearn refusals"))


def _finish_report(run: _Run, examples: dict[str, list[Example]], fmt: str | None,
                   token_counts: dict) -> None:
    stages = [s.as_dict() for s in run.stages]
    run.report["stages"] = stages
    run.report["rows"] = {"in": stages[0]["in"],
                          "kept": sum(len(v) for v in examples.values()),
                          "dropped": len(run.rejected)}
    if run.report["rows"]["in"] != run.report["rows"]["kept"] + run.report["rows"]["dropped"]:
        raise AssertionError(f"rows in != kept + dropped: {run.report['rows']}")
    run.report["splits"] = {s: len(examples.get(s, [])) for s in SPLITS if s in examples}
    run.report["problems"] = dict(sorted(Counter(d.rule for d in run.diags).items()))
    run.report["settings"] = run.s.public()
