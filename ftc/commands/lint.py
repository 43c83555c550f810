"""`ftc lint`: validate recipes and report every problem in every file."""

from __future__ import annotations

import argparse
import sys

from ftc.commands.common_args import add_ignore_argument, add_set_argument
from ftc.commands.output import fail, print_json
from ftc.compiler import LINT_RULES, RECIPES_PER_WORKER, lint
from ftc.diagnostics import EXIT_OK, EXIT_USAGE, exit_code, render

NAME = "lint"
HELP = "check recipes against the schema and the lint rules"
EPILOG = """examples:
  ftc lint recipes/*.yaml
  ftc lint --format github recipes/**/*.yaml     # annotations in a GitHub PR
  ftc lint --format sarif recipes/*.yaml > ftc.sarif   # GitHub code scanning upload
  ftc lint --strict --ignore FTC102 recipe.yaml  # warnings fail, except FTC102
  ftc lint --list-rules --format json

exit status: 0 clean (warnings allowed), 1 problems found, 2 usage error"""


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("recipes", nargs="*", metavar="RECIPE", help="recipe files")
    p.add_argument("--format", choices=["text", "json", "github", "sarif"], default="text",
                   help="output format (default text)")
    p.add_argument("--strict", action="store_true", help="warnings also fail (exit 1)")
    add_ignore_argument(p)
    add_set_argument(p)
    p.add_argument("--list-rules", action="store_true", help="print the lint rules and exit")
    p.add_argument("-j", "--jobs", type=_jobs, default=None, metavar="N",
                   help="processes to lint with (default: one per core, when there are "
                        f"{RECIPES_PER_WORKER}+ recipes for each)")


def _jobs(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 1024:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to 1024 (got {text!r})")
    return int(text)


def run(args: argparse.Namespace) -> int:
    if args.list_rules:
        return _list_rules(args.format)
    if not args.recipes:
        return fail(args, NAME, "give at least one recipe file", code=EXIT_USAGE)
    diagnostics, usage = lint(args.recipes, args.overrides, args.ignore, args.jobs)
    if args.format == "sarif":
        from ftc.sarif import to_sarif

        print_json(to_sarif(diagnostics, {r["id"]: r["title"] for r in rules()}))
        return EXIT_USAGE if usage else exit_code(diagnostics, args.strict)
    text = render(diagnostics, args.format)
    if text:
        print(text)
    if args.format == "text":
        _summary(diagnostics, len(args.recipes))
    return EXIT_USAGE if usage else exit_code(diagnostics, args.strict)


def rules() -> list[dict]:
    """Every rule a recipe can trigger and silence: lint rules, then provider data rules."""
    from ftc.providers.data_rules import RULES as PROVIDER_DATA_RULES

    out = [{"id": r.id, "severity": r.severity, "title": r.title, "kind": "lint"}
           for r in LINT_RULES.values()]
    out += [{"id": rule_id, "severity": severity, "title": title, "kind": "provider data"}
            for rule_id, (severity, title) in PROVIDER_DATA_RULES.items()]
    return out


def _list_rules(fmt: str) -> int:
    if fmt == "json":
        print_json(rules())
        return EXIT_OK
    for r in rules():
        prefix = "provider data: " if r["kind"] == "provider data" else ""
        print(f"{r['id']}  {r['severity']:<7}  {prefix}{r['title']}")
    return EXIT_OK


def _summary(diagnostics: list, files: int) -> None:
    errors = sum(d.is_error for d in diagnostics)
    warnings = len(diagnostics) - errors
    plural = "s" if files != 1 else ""
    sys.stderr.write(f"{files} recipe{plural} checked: {errors} error(s), {warnings} warning(s)\n")
