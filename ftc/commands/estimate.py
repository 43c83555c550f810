"""`ftc estimate`: peak GPU memory of a recipe, part by part, and whether it fits."""

from __future__ import annotations

import argparse
import json
import sys

from ftc.commands.common_args import add_set_argument
from ftc.commands.output import diagnostics_data, fail
from ftc.diagnostics import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, Diagnostic, render

NAME = "estimate"
HELP = "estimate peak GPU memory of a recipe, part by part, and check the fit"
EPILOG = """examples:
  ftc estimate recipes/llama-3.1-8b-lora.yaml --gpu A100-80GB
  ftc estimate recipe.yaml --gpu-memory 24GiB --json
  ftc estimate recipe.yaml --set training.micro_batch_size=1 --gpu L4

The estimate covers weights (by dtype and quantization), trainable parameters,
gradients, optimizer states, activations, logits and loss, and framework
overhead, as a range.  Exit status 1 when the job does not fit the GPU."""


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("recipe", metavar="RECIPE")
    gpu = p.add_mutually_exclusive_group()
    gpu.add_argument("--gpu", metavar="NAME", help="GPU model to check against (e.g. A100-80GB)")
    gpu.add_argument("--gpu-memory", metavar="SIZE", help="GPU memory, e.g. 24GiB or 80GB")
    add_set_argument(p)
    p.add_argument("--json", action="store_true", help="print the estimate as JSON")


def run(args: argparse.Namespace) -> int:
    from ftc.compiler import compile_recipe
    from ftc.memory.errors import MemoryInputError
    from ftc.memory.fit import check_fit
    from ftc.memory.gpus import capacity
    from ftc.memory.report import as_json, as_text

    try:  # a bad --gpu / --gpu-memory is a usage error, before any work
        capacity(args.gpu, args.gpu_memory)
    except MemoryInputError as exc:
        hint = f" (hint: {exc.note.hint})" if exc.note.hint else ""
        return fail(args, NAME, f"{exc.note.rule} {exc.note.message}{hint}",
                    code=EXIT_USAGE)
    # The fit is checked here (with --gpu), not by the compiler, and never auto-applied.
    result = compile_recipe(args.recipe, [*args.overrides, "hardware.fit=off"])
    if result.usage_error:
        return fail(args, NAME, "usage error", result.diagnostics, EXIT_USAGE)
    if result.abstract:
        return fail(args, NAME, f"{args.recipe} is abstract (a base for extends:); "
                    "estimate a recipe that extends it", result.diagnostics)
    errors = [d for d in result.diagnostics if d.is_error]
    if errors or result.resolved is None:
        return fail(args, NAME, "the recipe has errors; no estimate", result.diagnostics)
    report = check_fit(result.values, "check", args.gpu, args.gpu_memory)
    problems = [_diagnostic(result.resolved, n) for n in report.notes]
    if problems and not args.json:
        sys.stderr.write(render(problems, "text") + "\n")
    if report.estimate is None:
        if not report.notes:  # no GPU and an unknown model: say why there is no number
            from ftc.memory.workload import from_values

            try:
                from_values(result.values)
            except MemoryInputError as exc:
                problems.append(_diagnostic(result.resolved, exc.note))
                if not args.json:
                    sys.stderr.write(render(problems[-1:], "text") + "\n")
        if args.json:
            return fail(args, NAME, "no estimate", problems)
        return EXIT_PROBLEMS
    if args.json:
        print(json.dumps({**as_json(report.estimate, report, args.recipe),
                          "diagnostics": diagnostics_data(problems)}, indent=2))
    else:
        print(as_text(report.estimate, report, args.recipe))
    return EXIT_PROBLEMS if report.fits is False else EXIT_OK


def _diagnostic(resolved, note) -> Diagnostic:
    pos = resolved.where(note.key)
    return Diagnostic(pos.path, pos.line, pos.col, note.severity, note.rule, note.message,
                      note.hint)
