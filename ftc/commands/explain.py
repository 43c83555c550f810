"""`ftc explain`: every resolved value and where it came from."""

from __future__ import annotations

import argparse
import json
import sys

from ftc.commands.common_args import add_set_argument
from ftc.commands.output import fail
from ftc.compiler import compile_recipe, explain, scalar
from ftc.diagnostics import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, render

NAME = "explain"
HELP = "show every resolved value with its source (user, extends, --set, table, rule)"
EPILOG = """examples:
  ftc explain recipes/quickstart.yaml
  ftc explain recipes/quickstart.yaml method.lora        # one section
  ftc explain recipes/quickstart.yaml method.lora.alpha --json

Sources: user (this file), extends:<file>, --set, table:<name> (hyperparameter
tables), rule:<name> (a rule derived it from other values)."""


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("recipe", metavar="RECIPE")
    p.add_argument("key", nargs="?", metavar="KEY.PATH", help="only this value or section")
    p.add_argument("--json", action="store_true", help="a JSON list of {path, value, source}")
    add_set_argument(p)


def run(args: argparse.Namespace) -> int:
    result = compile_recipe(args.recipe, args.overrides)
    if result.usage_error:
        return fail(args, NAME, "usage error", result.diagnostics, EXIT_USAGE)
    if not result.ok and not _only_fit_errors(result):
        return fail(args, NAME, "the recipe has errors; nothing to explain", result.diagnostics)
    if result.diagnostics and not args.json:
        sys.stderr.write(render(result.diagnostics, "text") + "\n")
    if result.abstract and not args.json:
        sys.stderr.write(f"ftc explain: {args.recipe} is abstract (a base for extends:); "
                         "explain a recipe that extends it\n")
    table = [r for r in explain(result.values, result.provenance)
             if not r["path"].startswith("ftc.")]
    if args.key:
        table = [r for r in table if r["path"] == args.key or r["path"].startswith(args.key + ".")]
        if not table:
            return fail(args, NAME, f"no resolved value at '{args.key}'", code=EXIT_USAGE)
    status = EXIT_OK if result.ok else EXIT_PROBLEMS
    if args.json:
        print(json.dumps(table, indent=2))
        return status
    width = max(len(r["path"]) for r in table)
    for r in table:
        print(f"{r['path']:<{width}}  {scalar(r['value'])}  [{r['source']}]")
    return status


def _only_fit_errors(result) -> bool:
    """Every error is the memory fit's (FTC4xx): the values that explain it are complete."""
    errors = [d for d in result.diagnostics if d.is_error]
    return bool(result.values) and all(d.rule.startswith("FTC4") for d in errors)
