"""`ftc compile`: resolve a recipe and write its launch bundle."""

from __future__ import annotations

import argparse
import sys

from ftc.commands.common_args import add_recipe_overrides
from ftc.commands.output import diagnostics_data, fail, print_json, wants_json
from ftc.compiler import compile_recipe, write_bundle
from ftc.diagnostics import EXIT_OK, EXIT_USAGE, FtcError, render

NAME = "compile"
HELP = "resolve a recipe and write its launch bundle"
EPILOG = """examples:
  ftc compile recipes/quickstart.yaml                 # -> build/quickstart/
  ftc compile recipe.yaml -o /shared/bundles/job42
  ftc compile recipe.yaml --set training.epochs=2 --set hardware.gpus=8
  ftc compile recipe.yaml --set hardware.gpu=L4 --fit   # cheapest change that fits a 24 GB L4

With lint errors nothing is written and the exit status is 1. With --format json,
stdout holds one JSON object: {"ok", "bundle", "diagnostics"} or {"ok", "error", ...}."""


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
    as_json = wants_json(args)
    if result.usage_error:
        return fail(args, NAME, "usage error", result.diagnostics, EXIT_USAGE)
    if result.abstract:
        return fail(args, NAME, f"{args.recipe} is abstract (a base for extends:); "
                    "compile a recipe that extends it", result.diagnostics)
    if not result.ok:
        return fail(args, NAME, "errors found; no bundle written", result.diagnostics)
    if result.diagnostics and not as_json:
        sys.stderr.write(render(result.diagnostics, args.format) + "\n")
    try:
        out = write_bundle(result, args.output)
    except FtcError as exc:
        return fail(args, NAME, "bundle not written", exc.diagnostics)
    if as_json:
        print_json({"ok": True, "bundle": str(out), "launch": f"ftc launch {out}",
                    "diagnostics": diagnostics_data(result.diagnostics)})
        return EXIT_OK
    print(f"bundle written to {out}/")
    by_hand = f"   (or: bash {out}/launch.sh)" if (out / "launch.sh").is_file() else ""
    print(f"launch it with: ftc launch {out}{by_hand}")
    return EXIT_OK
