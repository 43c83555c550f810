"""`ftc data check|prepare|export`: training data before any GPU time is spent."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ftc.commands.common_args import add_set_argument
from ftc.commands.output import diagnostics_data, fail
from ftc.diagnostics import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    FtcError,
    exit_code,
    one_line,
    render,
)
from ftc.secret_scan import redact, redact_data
from ftc.source_spec import entry_path, with_path

NAME = "data"
HELP = "check, prepare or export training data"
EPILOG = """examples:
  ftc data check recipes/data/tickets/train.jsonl
  ftc data check train.jsonl --validation val.jsonl --model models/tiny-llama \\
      --max-seq-length 512 --task classification
  ftc data check data/*.jsonl --json > data-report.json
  ftc data check recipe.yaml                        # the recipe's sources, as run reads them
  ftc data prepare recipes/quickstart.yaml          # -> runs/<name>/data/
  ftc data export --to openai train.jsonl -o openai-train.jsonl --epochs 3

check lists every problem as file:line:col, then a summary (rows, formats,
token lengths, duplicates, label balance, problems by kind); exit 1 on errors.
prepare applies the recipe's data section and writes train/validation/test.jsonl,
report.json and rejected.jsonl; with errors nothing is written."""


def register(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="data_command", metavar="SUBCOMMAND")
    fmt_help = "example format (default: detected per file)"

    c = sub.add_parser("check", help="check data files; every problem with its line",
                       description="Check data files: format, duplicates, leakage, lengths, "
                                   "balance.", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    c.add_argument("files", nargs="+", metavar="FILE",
                   help="training data (one set), or one recipe (.yaml): its data sources")
    c.add_argument("--validation", action="append", default=[], metavar="FILE",
                   help="validation file, checked for leakage against the training files")
    c.add_argument("--test", action="append", default=[], metavar="FILE",
                   help="test file, checked for leakage against train and validation")
    c.add_argument("--format", choices=["auto", "messages", "completion", "preference"],
                   default="auto", help=fmt_help)
    c.add_argument("--model", metavar="PATH_OR_ID", help="tokenizer for token lengths")
    c.add_argument("--max-seq-length", type=int, metavar="N",
                   help="flag examples longer than N tokens (needs --model)")
    c.add_argument("--task", choices=["style", "classification", "knowledge", "generation",
                                      "instruction", "alignment"],
                   help="what the data teaches (data-size advice, label balance)")
    c.add_argument("--threshold", type=float, default=0.85, metavar="J",
                   help="near-duplicate edit-similarity threshold (default 0.85)")
    c.add_argument("--max-ratio", type=float, default=10.0, metavar="R",
                   help="largest:smallest class ratio that warns (default 10)")
    c.add_argument("--user-facing", action="store_true",
                   help="warn when no example refuses a request")
    c.add_argument("--json", action="store_true", help="machine-readable output on stdout")

    r = sub.add_parser("prepare", help="apply a recipe's data section; write the splits",
                       description="Clean, dedup and split a recipe's data into the run "
                                   "directory.", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("recipe", metavar="RECIPE")
    r.add_argument("-o", "--output", metavar="DIR",
                   help="output directory (default <output_dir>/<name>/data)")
    add_set_argument(r)
    r.add_argument("--json", action="store_true", help="print report.json on stdout")

    e = sub.add_parser("export", help="write a provider's chat fine-tuning JSONL",
                       description="Convert and validate data for a hosted fine-tuning API.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    e.add_argument("files", nargs="+", metavar="FILE")
    e.add_argument("--to", required=True, choices=["openai", "azure-openai"], dest="provider")
    e.add_argument("-o", "--output", required=True, metavar="OUT.jsonl")
    e.add_argument("--format", choices=["auto", "messages", "completion", "preference"],
                   default="auto", help=fmt_help)
    e.add_argument("--epochs", type=int, default=3, help="epochs, for billed tokens (default 3)")
    e.add_argument("--model", metavar="PATH_OR_ID", help="tokenizer for token counts")
    e.add_argument("--max-tokens", type=int, metavar="N",
                   help="provider's per-example token limit for your model")
    e.add_argument("--json", action="store_true", help="machine-readable summary on stdout")


def run(args: argparse.Namespace) -> int:
    command = getattr(args, "data_command", None)
    if command == "check":
        return _check(args)
    if command == "prepare":
        return _prepare(args)
    if command == "export":
        return _export(args)
    sys.stderr.write("usage: ftc data {check,prepare,export} ... (see ftc data --help)\n")
    return EXIT_USAGE


def _positive(value: float | int | None, flag: str, low: float = 0, high: float | None = None):
    if value is None:
        return None
    if value <= low or (high is not None and value > high):
        bound = f"in ({low}, {high}]" if high is not None else f"> {low}"
        return f"{flag} must be {bound} (got {value})"
    return None


def _check(args: argparse.Namespace) -> int:
    from ftc.dataprep.check import check_files, summary_rows
    from ftc.dataprep.settings import DataSettings

    for value, flag, high in ((args.max_seq_length, "--max-seq-length", None),
                              (args.threshold, "--threshold", 1.0),
                              (args.max_ratio, "--max-ratio", None)):
        message = _positive(value, flag, high=high)
        if message:
            return fail(args, "data", message, code=EXIT_USAGE)
    settings = DataSettings(format=args.format, task=args.task, threshold=args.threshold,
                            max_ratio=args.max_ratio, max_seq_length=args.max_seq_length,
                            tokenizer=args.model, user_facing=args.user_facing, split=None)
    if args.max_seq_length and not args.model:
        return fail(args, "data", "--max-seq-length needs --model (the tokenizer)",
                    code=EXIT_USAGE)
    if len(args.files) == 1 and args.files[0].endswith((".yaml", ".yml")):
        result = _check_recipe(args)
        if isinstance(result, int):
            return result
    else:
        result = check_files(args.files, settings, validation=args.validation, test=args.test)
    if args.json:
        print(json.dumps({"diagnostics": diagnostics_data(result.diagnostics),
                          "summary": redact_data(result.report)}, indent=2, ensure_ascii=False))
        return exit_code(result.diagnostics)
    if result.diagnostics:
        print(render(result.diagnostics, "text"))
    _table("data check", summary_rows(result.report))
    return exit_code(result.diagnostics)


def _check_recipe(args: argparse.Namespace):
    """The recipe's data sources, checked as `prepare` and `ftc run` read them."""
    from ftc.compiler import compile_recipe
    from ftc.dataprep.check import check_lock

    compiled = compile_recipe(args.files[0])
    if getattr(compiled, "usage_error", False) or not compiled.ok:
        return fail(args, "data check", "the recipe has errors", compiled.diagnostics,
                    EXIT_USAGE if getattr(compiled, "usage_error", False) else EXIT_PROBLEMS)
    return check_lock(_recipe_lock(compiled.values, args.files[0]),
                      Path(args.files[0]).resolve().parent, origin=args.files[0])


def _recipe_lock(values: dict, recipe: str) -> dict:
    """The compiled values with data paths as written (relative to the recipe)."""
    base = Path(recipe).resolve().parent
    lock = {**values, "data": dict(values.get("data") or {})}
    for key in ("train", "validation", "test"):
        if key in lock["data"]:
            lock["data"][key] = _relative(lock["data"][key], base)
    return lock


def _table(title: str, rows: list[tuple[str, str]]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(one_line(title)), show_header=False, title_justify="left")
    table.add_column("what", style="bold", no_wrap=True)
    table.add_column("value")
    for what, value in rows:  # Text: a label like "[/x]" is data, not rich markup
        table.add_row(Text(one_line(redact(what))), Text(one_line(redact(value))))
    Console(soft_wrap=False).print(table)


def _relative(values: list | str | None, base: Path) -> list | None:
    if not values:
        return None
    items = [values] if isinstance(values, str) else values
    out = []
    for entry in items:
        item = entry_path(entry) or ""
        p = Path(item)
        if p.is_absolute():
            try:
                item = os.path.relpath(p, base)
            except ValueError:  # another drive on Windows
                pass
        out.append(with_path(entry, str(item)))
    return out


def _prepare(args: argparse.Namespace) -> int:
    from ftc.compiler import compile_recipe
    from ftc.dataprep.check import summary_rows
    from ftc.dataprep.prepare import prepare_for_run

    compiled = compile_recipe(args.recipe, args.overrides)
    if getattr(compiled, "usage_error", False):
        return fail(args, "data prepare", "usage error", compiled.diagnostics, EXIT_USAGE)
    if not compiled.ok:
        return fail(args, "data prepare", "the recipe has errors; nothing written",
                    compiled.diagnostics)
    if compiled.diagnostics and not args.json:
        sys.stderr.write(render(compiled.diagnostics, "text") + "\n")
    values = compiled.values
    base = Path(args.recipe).resolve().parent
    lock = _recipe_lock(values, args.recipe)
    out = Path(args.output) if args.output else (
        Path(values.get("output_dir", "runs")) / str(values.get("name", "run")) / "data")
    cache_dir = Path(values.get("output_dir", "runs")) / str(values.get("name", "run")) / ".cache"
    try:
        prepared = prepare_for_run(lock, base, out, origin=args.recipe,
                                   cache_dir=cache_dir.resolve() / "data")
    except FtcError as exc:
        return fail(args, "data prepare", "data errors; nothing written", exc.diagnostics)
    except OSError as exc:
        return fail(args, "data prepare", f"cannot write {out}: {exc.strerror or exc}")
    if prepared.diagnostics and not args.json:
        sys.stderr.write(render(prepared.diagnostics, "text") + "\n")
    if prepared.cached_from:
        sys.stderr.write(f"reused the data prepared earlier (cache {prepared.cached_from}): "
                         "same inputs, data settings and tokenizer\n")
    if args.json:  # the report, with the compile's and the data's diagnostics beside it
        found = list(compiled.diagnostics) + list(prepared.diagnostics)
        print(json.dumps({**redact_data(prepared.report), "diagnostics": diagnostics_data(found)},
                         indent=2, ensure_ascii=False))
    else:
        _table(f"data prepared in {out}/", summary_rows(prepared.report) + [
            ("written", ", ".join(f"{k}.jsonl {v:,}" for k, v in prepared.report["splits"].items()
                                  if v)),
            ("dropped", ", ".join(f"{k} {v:,}" for k, v in _dropped(prepared.report).items())
             or "none (see rejected.jsonl)")])
    return EXIT_OK


def _dropped(report: dict) -> dict[str, int]:
    total: dict[str, int] = {}
    for stage in report.get("stages", []):
        for reason, n in stage["dropped"].items():
            total[reason] = total.get(reason, 0) + n
    return total


def _export(args: argparse.Namespace) -> int:
    from ftc.dataprep.export import export_for_provider

    for value, flag in ((args.epochs, "--epochs"), (args.max_tokens, "--max-tokens")):
        message = _positive(value, flag)
        if message:
            return fail(args, "data export", message, code=EXIT_USAGE)
    try:
        result = export_for_provider(args.files, args.provider, Path(args.output),
                                     epochs=args.epochs, model=args.model,
                                     max_tokens=args.max_tokens, fmt=args.format)
    except OSError as exc:
        return fail(args, "data export", f"cannot write {args.output}: {exc.strerror or exc}")
    if result.diagnostics and not args.json:
        sys.stdout.write(render(result.diagnostics, "text") + "\n")
    if args.json:
        print(json.dumps({**result.summary, "diagnostics": diagnostics_data(result.diagnostics)},
                         indent=2, ensure_ascii=False))
    elif result.written:
        s = result.summary
        tok = s.get("tokens", {})
        _table(f"export for {args.provider}", [
            ("examples", f"{s['examples']:,} ({s['format']})"),
            ("tokens p50 / max", f"{tok.get('p50')} / {tok.get('max')}"),
            ("tokens total", f"{tok.get('total', 0):,}"),
            (f"billed tokens ({s['epochs']} epochs)", f"{s['billed_tokens']:,}"),
            ("token counts", s["token_count_method"]),
            ("written", f"{s['output']} ({s['bytes']:,} bytes)")])
    if not result.written:
        sys.stderr.write("ftc data export: problems found; nothing written\n")
        return EXIT_PROBLEMS
    return EXIT_OK
