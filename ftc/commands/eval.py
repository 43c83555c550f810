"""`ftc eval TARGET [--recipe R] [--split S]`: evaluate a run, a merged model or a base model."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ftc.diagnostics import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, FtcError, render

NAME = "eval"
HELP = "evaluate a trained run, a merged model or a base model on held-out data (eval.json)"
EPILOG = """examples:
  ftc eval runs/quickstart/run-20260101-120000                # its test (else validation) split
  ftc eval runs/quickstart/run-20260101-120000 --split validation
  ftc eval models/tiny-llama --recipe recipes/quickstart.yaml # the base model, same metrics
  ftc eval build/merged-model --recipe recipe.yaml -o eval-merged.json

The metrics are the recipe's evaluation: block (task metrics from greedy answers,
preference accuracy, loss and perplexity). eval.json goes into the run directory,
else into the current directory (or -o FILE)."""

USAGE_RULES = ("FTC551", "FTC552")


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("target", metavar="RUN_DIR|MODEL",
                   help="a run directory, a model directory (config.json) or a hub id")
    p.add_argument("--recipe", metavar="RECIPE",
                   help="the data and evaluation settings (required for a model)")
    p.add_argument("--split", choices=("train", "validation", "test"),
                   help="which split (default: test when there is one, else validation)")
    p.add_argument("--max-samples", type=int, metavar="N",
                   help="examples answered for the task metrics (default: the recipe's)")
    p.add_argument("-o", "--output", type=Path, metavar="FILE", help="where eval.json goes")


def run(args: argparse.Namespace) -> int:
    import os

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the runtime: before torch loads
    from ftc.evaluation.standalone import run_eval

    if args.max_samples is not None and args.max_samples < 1:
        sys.stderr.write("ftc eval: error: --max-samples must be at least 1\n")
        return EXIT_USAGE
    try:
        result, path = run_eval(args.target, args.recipe, args.split, args.output,
                                args.max_samples)
    except FtcError as exc:
        sys.stderr.write(render(exc.diagnostics, "text") + "\n")
        usage = any(d.rule in USAGE_RULES for d in exc.diagnostics)
        return EXIT_USAGE if usage else EXIT_PROBLEMS
    print(f"ftc eval: {result['target']} on {result['split']} ({result['examples']} examples, "
          f"{result['task']})")
    for metric, value in result["metrics"].items():
        print(f"  {metric:<20}{value:.4f}")
    print(f"  written to {path}")
    return EXIT_OK
