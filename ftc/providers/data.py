"""A provider recipe's data: read, converted to the provider's JSONL, split, checked.

Lint and compile both need it (lint for the diagnostics, compile for the
files), so the result is cached per (settings, files with their size and
mtime).  Rows are read by the shared reader (ftc.dataprep.readers: line
numbers, UTF-8 and JSON errors, size guards).  Each row is taken as it is when
it already is the provider's format (chat messages with tools and weights, or
input/preferred_output/non_preferred_output), and converted by `ftc data
export`'s converter when it is ftc's completion or preference format.  Then
the provider's rules (ftc.providers.records) and limits (example count,
context, file size) are checked.  Without validation files, a seeded split
(ftc.dataprep.split, duplicates kept together) holds data.split.validation out.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ftc.compiler.loader import display_path
from ftc.dataprep import formats
from ftc.dataprep.export import to_provider
from ftc.dataprep.readers import Row, read_any
from ftc.dataprep.split import assign_splits
from ftc.diagnostics import Diagnostic
from ftc.providers import table
from ftc.providers.data_rules import problem
from ftc.providers.lint import METHODS
from ftc.providers.records import check_chat, check_preference
from ftc.providers.tokens import example_tokens

NATIVE_PREFERENCE = "provider-preference"
ACCEPTS = {"supervised": (formats.MESSAGES, formats.COMPLETION),
           "dpo": (formats.PREFERENCE, NATIVE_PREFERENCE)}


@dataclass
class Example:
    record: dict  # one line of the provider's JSONL
    path: str
    line: int
    tokens: int  # the longest conversation in it
    billed: int  # tokens billed per epoch


@dataclass
class ProviderData:
    splits: dict[str, list[Example]] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def lines(self, split: str) -> list[str]:
        return [json.dumps(ex.record, ensure_ascii=False) + "\n"
                for ex in self.splits.get(split, [])]


@dataclass(frozen=True)
class Settings:
    provider: str
    model: str
    method: str
    train: tuple[str, ...]
    validation: tuple[str, ...]
    split: tuple[tuple[str, float], ...]
    seed: int
    system_prompt: str | None


def settings_of(values: dict) -> Settings | None:
    """What the data depends on, from resolved values; None when no provider method applies."""
    method = METHODS.get(values["method"]["kind"])
    if method is None:
        return None
    data = values["data"]
    # plain files only: source objects are local-backend data (FTC187)
    local = [p for p in data.get("train", []) if isinstance(p, str) and Path(p).is_absolute()]
    return Settings(values["backend"]["kind"], values["model"]["base"], method, tuple(local),
                    tuple(p for p in data.get("validation", [])
                          if isinstance(p, str) and Path(p).is_absolute()),
                    tuple(sorted((data.get("split") or {}).items())),
                    int(values.get("training", {}).get("seed", 42)), data.get("system_prompt"))


def provider_data(values: dict) -> ProviderData | None:
    settings = settings_of(values)
    if settings is None or not settings.train:
        return None
    stamps = tuple(_stamp(p) for p in settings.train + settings.validation)
    return _load(settings, stamps)


def data_diagnostics(r, ignore: set[str]) -> list[Diagnostic]:
    """The provider data rules' findings for a resolved recipe, minus ignored ids."""
    data = provider_data(r.values)
    return [] if data is None else [d for d in data.diagnostics if d.rule not in ignore]


def _stamp(path: str) -> tuple[str, int, int]:
    try:
        st = Path(path).stat()
        return path, st.st_size, st.st_mtime_ns
    except OSError:
        return path, -1, -1


@lru_cache(maxsize=8)
def _load(s: Settings, stamps: tuple) -> ProviderData:
    rules = table.provider(s.provider)
    spec = table.find_model(s.provider, s.model)
    out = ProviderData()
    given = {"train": _read(s.train, s, rules, out), "validation": _read(s.validation, s, rules,
                                                                           out)}
    fractions = dict(s.split)
    if s.validation or not fractions.get("validation") and not fractions.get("test"):
        out.splits = given
    else:
        out.splits = _split(given["train"], fractions, s.seed)
    _limits(out, s, rules, spec.context if spec else None)
    return out


def _read(paths: tuple[str, ...], s: Settings, rules: dict, out: ProviderData) -> list[Example]:
    examples = []
    for path in paths:
        shown = display_path(Path(path))
        result = read_any(Path(path), shown)
        out.diagnostics += result.diagnostics
        for row in result.rows:
            record = _record(row, s, rules, out)
            if record is not None:
                tokens, billed = example_tokens(record)
                examples.append(Example(record, row.path, row.line, tokens, billed))
    return examples


def _record(row: Row, s: Settings, rules: dict, out: ProviderData) -> dict | None:
    """The row as a provider record, or None (with diagnostics) when it cannot be one."""
    value = row.value
    fmt = _format_of(value)
    if fmt not in ACCEPTS[s.method]:
        what = f"a {fmt} example" if fmt else "an example in no format ftc knows " \
            f"({formats.describe_keys(value)})"
        out.diagnostics.append(problem("FTC381", row.path, row.line,
                                       f"{what} cannot train a {s.method} job",
                                       hint=_accepts_hint(s.method), col=row.col))
        return None
    converted = fmt in (formats.COMPLETION, formats.PREFERENCE)
    if converted:
        found = formats.validate(row, fmt)
        out.diagnostics += found
        if any(d.is_error for d in found):
            return None
        value = to_provider(formats.normalize(value, fmt), fmt)
    record = _with_system_prompt(value, s.system_prompt)
    name = rules["name"]
    check = check_chat if s.method == "supervised" else check_preference
    findings = check(record, rules["roles"], name)
    if converted:  # identical pairs were reported by the shared check (FTC319)
        findings = [f for f in findings if f[0] != "FTC379"]
    for rule, message, hint, key in findings:
        out.diagnostics.append(problem(rule, row.path, row.line, message, hint=hint,
                                       col=_col(row, key)))
    return None if any(f[0] in _ERRORS for f in findings) else record


_ERRORS = {"FTC373", "FTC374", "FTC375", "FTC376", "FTC377", "FTC378"}


def _format_of(value: object) -> str | None:
    if isinstance(value, dict) and {"input", "preferred_output",
                                    "non_preferred_output"} & set(value):
        return NATIVE_PREFERENCE
    return formats.detect(value)


def _accepts_hint(method: str) -> str:
    if method == "dpo":
        return ("DPO takes prompt/chosen/rejected or input/preferred_output/"
                "non_preferred_output examples")
    return "supervised jobs take messages or prompt/completion examples"


def _with_system_prompt(record: dict, prompt: str | None) -> dict:
    """data.system_prompt prepended to a conversation that has no system message."""
    if not prompt:
        return record
    holder = record if "messages" in record else record.get("input")
    messages = holder.get("messages") if isinstance(holder, dict) else None
    if not isinstance(messages, list) or any(
            isinstance(m, dict) and m.get("role") in ("system", "developer") for m in messages):
        return record
    system = {"role": "system", "content": prompt}
    if holder is record:
        return {**record, "messages": [system, *messages]}
    return {**record, "input": {**holder, "messages": [system, *messages]}}


def _col(row: Row, key: str) -> int:
    found = row.raw.find(json.dumps(key)) if row.raw else -1
    return found + 1 if found >= 0 else row.col


def _split(examples: list[Example], fractions: dict[str, float],
           seed: int) -> dict[str, list[Example]]:
    """Seeded split; identical examples share a group, so they land on one side."""
    keys = [hashlib.sha256(json.dumps(ex.record, sort_keys=True).encode()).hexdigest()
            for ex in examples]
    first: dict[str, int] = {}
    groups = [first.setdefault(k, i) for i, k in enumerate(keys)]
    names = assign_splits(groups, [None] * len(examples), fractions, seed)
    out: dict[str, list[Example]] = {"train": [], "validation": [], "test": []}
    for ex, name in zip(examples, names, strict=True):
        out[name].append(ex)
    return {k: v for k, v in out.items() if v or k != "test"}


def _limits(out: ProviderData, s: Settings, rules: dict, context: int | None) -> None:
    name, train = rules["name"], out.splits.get("train", [])
    where = (display_path(Path(s.train[0])), 1)
    if len(train) < rules["min_examples"]:
        held = len(out.splits.get("validation", [])) if not s.validation else 0
        out.diagnostics.append(problem(
            "FTC370", *where, f"{name} needs at least {rules['min_examples']} training "
            f"examples, got {len(train)}" + (f" ({held} held out for validation)" if held
                                             else ""),
            hint="add examples" + (" or set data.split.validation: 0" if held else "")))
    elif len(train) < rules["recommended_examples"]:
        out.diagnostics.append(problem(
            "FTC371", *where, f"{len(train)} training examples; {name} recommends starting "
            f"with {rules['recommended_examples']}-100"))
    for split in ("train", "validation"):
        for ex in out.splits.get(split, []):
            if context and ex.tokens > context:
                out.diagnostics.append(problem(
                    "FTC372", ex.path, ex.line, f"about {ex.tokens:,} tokens, over "
                    f"{s.model}'s {context:,}-token training context",
                    hint="shorten or split the conversation"))
        size = sum(len(line.encode("utf-8")) for line in out.lines(split))
        if size > rules["max_file_bytes"]:
            out.diagnostics.append(problem(
                "FTC380", *where, f"{split}.jsonl would be {size / 2**20:.0f} MiB, over "
                f"{name}'s {rules['max_file_bytes'] >> 20} MiB per file",
                hint="use fewer or shorter examples"))
