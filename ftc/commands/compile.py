"""`ftc compile`: resolve a recipe and write its launch bundle."""

from __future__ import annotations

import argparse
import sys

from ftc.commands.common_args import add_recipe_overrides
from ftc.compiler import compile_recipe, write_bundle
from ftc.diagnostics import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, FtcError, render

NAME = "compile"
HELP = "resolve a recipe and write its launch bundle"
EPILOG = """examples:
  ftc compile recipes/quickstart.yaml                 # -> build/quickstart/
  ftc compile recipe.yaml -o /shared/bundles/job42
  ftc compile recipe.yaml --set training.epochs=2 --set hardware.gpus=8
  ftc compile recipe.yaml --set hardware.gpu=L4 --fit   # cheapest change that fits a 24 GB L4

With lint errors nothing is written and the exit status is 1."""


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("recipe", metavar="RECIPE")
    p.add_argument("-o", "--output", metavar="DIR", help="bundle directory (default build/<name>)")
    add_recipe_overrides(p)
    p.add_argument("--fit", action="store_true",
                   help="if the job would not fit GPU memory, apply the cheapest fix that "
                        "does (same as --set hardware.fit=auto)")
    p.add_argument("--format", choices=["text", "json", "github"], default="text",
                   help="format of problem reports")


def run(args: argparse.Namespace) -> int:
    overrides = args.overrides + (["hardware.fit=auto"] if args.fit else [])
    result = compile_recipe(args.recipe, overrides, args.ignore)
    if result.diagnostics:
        sys.stderr.write(render(result.diagnostics, args.format) + "\n")
    if result.usage_error:
        return EXIT_USAGE
    if result.abstract:
        sys.stderr.write(f"ftc compile: {args.recipe} is abstract (a base for extends:); "
                         "compile a recipe that extends it\n")
        return EXIT_PROBLEMS
    if not result.ok:
        sys.stderr.write("ftc compile: errors found; no bundle written\n")
        return EXIT_PROBLEMS
    try:
        out = write_bundle(result, args.output)
    except FtcError as exc:
        sys.stderr.write(render(exc.diagnostics, args.format) + "\n")
        return EXIT_PROBLEMS
    print(f"bundle written to {out}/")
    by_hand = f"   (or: bash {out}/launch.sh)" if (out / "launch.sh").is_file() else ""
    print(f"launch it with: ftc launch {out}{by_hand}")
    return EXIT_OK
