"""`ftc run RECIPE [--set ...]`: compile, then launch the bundle locally."""

from __future__ import annotations

import argparse
import sys

from ftc.commands.common_args import add_recipe_overrides
from ftc.diagnostics import EXIT_PROBLEMS, EXIT_USAGE, FtcError, render

NAME = "run"
HELP = "compile a recipe and train it (ftc compile + ftc launch): here, or as a provider job"
EPILOG = """examples:
  ftc run recipes/quickstart.yaml                       # tiny model on CPU, about a minute
  ftc run recipes/quickstart.yaml --set training.max_steps=50 --set method.lora.r=16
  ftc run recipe.yaml -o /scratch/bundles/job42 --resume
  ftc run recipes/openai-gpt-4.1-mini-sft.yaml          # a provider job (needs OPENAI_API_KEY)

The bundle goes to build/<name>/ (or -o DIR); runs go to the recipe's
output_dir/<name>/run-*/ with metrics.jsonl, tensorboard/ and summary.json."""


def register(p: argparse.ArgumentParser) -> None:
    from ftc.commands.launch import add_resume_argument

    p.add_argument("recipe", metavar="RECIPE")
    p.add_argument("-o", "--output", metavar="DIR", help="bundle directory (default build/<name>)")
    add_recipe_overrides(p)
    add_resume_argument(p)


def run(args: argparse.Namespace) -> int:
    from ftc.commands.launch import launch_bundle
    from ftc.compiler import compile_recipe, write_bundle

    result = compile_recipe(args.recipe, args.overrides, args.ignore)
    if result.diagnostics:
        sys.stderr.write(render(result.diagnostics, "text") + "\n")
    if result.usage_error:
        return EXIT_USAGE
    if not result.ok or result.abstract:
        sys.stderr.write("ftc run: the recipe has errors; nothing was launched\n")
        return EXIT_PROBLEMS
    try:
        bundle = write_bundle(result, args.output)
    except FtcError as exc:
        sys.stderr.write(render(exc.diagnostics, "text") + "\n")
        return EXIT_PROBLEMS
    print(f"ftc run: bundle written to {bundle}/; launching", flush=True)
    return launch_bundle(bundle, args.resume, args.poll_interval)
