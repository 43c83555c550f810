"""`ftc import axolotl CONFIG.yml`: turn another tool's training config into a recipe."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ftc.commands.output import diagnostics_data, fail, print_json
from ftc.compiler import lint
from ftc.diagnostics import ERROR, EXIT_OK, EXIT_PROBLEMS, Diagnostic, FtcError, one_line, render
from ftc.importers.axolotl import Imported, import_axolotl
from ftc.importers.mapping import Entry

NAME = "import"
HELP = "turn an axolotl config into an ftc recipe (every key mapped, dropped or reported)"
EPILOG = """examples:
  ftc import axolotl examples/llama-3/lora-8b.yml -o lora-8b.yaml
  ftc import axolotl qlora.yml --report          # recipe on stdout, mapping table on stderr
  ftc import axolotl qlora.yml -o r.yaml --format json

exit status: 0 everything that changes training was mapped; 1 some such key is unsupported
(the recipe is still written, those keys listed in its comments), the written recipe does
not lint, or the input is unusable; 2 usage error"""


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", choices=["axolotl"], help="the tool the config is written for")
    p.add_argument("config", metavar="CONFIG", help="the config file (YAML)")
    p.add_argument("-o", "--output", metavar="RECIPE",
                   help="write the recipe here (default: stdout); never overwrites")
    p.add_argument("--report", action="store_true",
                   help="print the mapping table: each key -> recipe key, or why not")
    p.add_argument("--format", choices=["text", "json"], default="text",
                   help="json: one document with the recipe, the table and the verdict")


def run(args: argparse.Namespace) -> int:
    out = Path(args.output) if args.output else None
    if out is not None and (out.exists() or out.is_symlink()):
        return _output_exists(args, out)
    display = one_line(args.config)
    try:
        imported = import_axolotl(Path(args.config), display,
                                  out.parent if out is not None else None)
    except FtcError as exc:
        return fail(args, NAME, f"cannot import {display}", exc.diagnostics)
    if out is not None:
        problem = _write(out, imported.text)
        if problem:
            return fail(args, NAME, problem, [Diagnostic(str(out), 1, 1, ERROR, "FTC009",
                                                         problem)])
    errors = _lint_errors(out) if out is not None else []
    code = EXIT_PROBLEMS if imported.blocking or errors else EXIT_OK
    if args.format == "json":
        print_json({"ok": code == EXIT_OK, "output": str(out) if out else None,
                    "recipe": imported.text if out is None else None,
                    "entries": [e.as_dict() for e in imported.entries],
                    "unsupported_changing_training": len(imported.blocking),
                    "diagnostics": diagnostics_data(errors)})
        return code
    if errors:
        sys.stderr.write(render(errors, "text") + "\n")
    if out is None:
        sys.stdout.write(imported.text)
    if args.report:
        (sys.stderr if out is None else sys.stdout).write(report_table(imported.entries))
    _summary(imported, out)
    return code


def _lint_errors(out: Path) -> list[Diagnostic]:
    """The written recipe's lint errors: they fail the import (the recipe must lint)."""
    diagnostics, _ = lint([str(out)])
    return [d for d in diagnostics if d.is_error]


def _output_exists(args: argparse.Namespace, out: Path) -> int:
    message = f"{out} exists; ftc import never overwrites a file"
    return fail(args, NAME, message, [Diagnostic(one_line(str(out)), 1, 1, ERROR, "FTC009",
                                                 message, "choose another -o path")])


def _write(out: Path, text: str) -> str | None:
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except OSError as exc:
        return f"cannot write {out}: {exc.strerror}"
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    return None


def report_table(entries: list[Entry]) -> str:
    """One line per axolotl key: where it went, or why it did not."""
    width = min(48, max((len(e.key) for e in entries), default=10))
    lines = []
    for e in entries:
        where = f"{e.line}:{e.col}"
        if e.status == "mapped":
            what = f"-> {e.target}" + (f"  ({e.reason})" if e.reason else "")
        elif e.status == "default":
            what = f"-> {e.target}  (axolotl's default; the config leaves it out)"
            where = "-"
        elif e.status == "dropped":
            what = f"dropped: {e.reason}"
        else:
            flag = "UNSUPPORTED" if e.changes_training else "unsupported (no effect on weights)"
            what = f"{flag}: {e.reason}"
        lines.append(f"{where:>7}  {one_line(e.key):<{width}}  {one_line(what)}")
    return "\n".join(lines) + "\n"


def _summary(imported: Imported, out: Path | None) -> None:
    counts = {s: sum(e.status == s for e in imported.entries)
              for s in ("mapped", "dropped", "unsupported")}
    where = f"wrote {out}: " if out else ""
    sys.stderr.write(f"ftc import: {where}{counts['mapped']} mapped, {counts['dropped']} "
                     f"dropped, {counts['unsupported']} unsupported "
                     f"({len(imported.blocking)} change training)\n")
