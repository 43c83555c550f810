"""`ftc new`: write a commented recipe for an approach that lints clean."""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

from ftc.diagnostics import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, render
from ftc.dotted import leaves

NAME = "new"
HELP = "write a new commented recipe (auto: the approach `ftc recommend` picks)"
EPILOG = """examples:
  ftc new --approach lora --base-model meta-llama/Llama-3.1-8B --data data/train.jsonl \\
      -o my-job.yaml
  ftc new --approach auto --base-model meta-llama/Llama-3.1-8B --data data/train.jsonl \\
      --task instruction --gpu L4
  ftc new --approach distill --base-model meta-llama/Llama-3.2-1B \\
      --teacher meta-llama/Llama-3.1-8B --data prompts.jsonl

The recipe holds what you chose; every default ftc resolves for the rest is a
comment beside it (with where it comes from).  Nothing is overwritten unless
--force is given."""

APPROACHES = ("auto", "full", "lora", "qlora", "prefix", "adapter", "distill", "dpo")


def register(p: argparse.ArgumentParser) -> None:
    from ftc.memory.tasks import TASKS

    p.add_argument("--approach", choices=APPROACHES, required=True)
    p.add_argument("--base-model", required=True, metavar="NAME",
                   help="hub id or local model directory")
    p.add_argument("--task", choices=TASKS, help="what the fine-tuning is for")
    p.add_argument("--data", metavar="FILE", help="training data (JSONL, JSON, CSV, Parquet)")
    p.add_argument("-o", "--output", default="recipe.yaml", metavar="FILE",
                   help="where to write the recipe (default recipe.yaml)")
    p.add_argument("--name", help="job name (default from the model and approach)")
    p.add_argument("--teacher", metavar="NAME", help="teacher model (approach distill)")
    p.add_argument("--examples", type=int, metavar="N",
                   help="number of examples (auto without --data)")
    gpu = p.add_mutually_exclusive_group()
    gpu.add_argument("--gpu", metavar="NAME", help="GPU model, for the fit check")
    gpu.add_argument("--gpu-memory", metavar="SIZE", help="GPU memory, e.g. 24GiB")
    p.add_argument("--accelerator", choices=["gpu", "cpu"], help="gpu (default) or cpu")
    p.add_argument("--max-seq-length", type=int, metavar="TOKENS")
    p.add_argument("--provider-model", metavar="NAME", help="auto: a provider's API model")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")


class UsageError(Exception):
    pass


def run(args: argparse.Namespace) -> int:
    out = Path(args.output)
    if out.exists() and not args.force:
        sys.stderr.write(f"ftc new: error: {out} exists (use --force to overwrite)\n")
        return EXIT_USAGE
    try:
        approach, why = choose_approach(args)
        user = build_recipe(args, approach, out)
    except UsageError as exc:
        sys.stderr.write(f"ftc new: error: {exc}\n")
        return EXIT_USAGE
    return write_recipe(args, user, approach, why, out)


# --------------------------------------------------------------------------- approach


def count_examples(path: Path) -> int | None:
    """Records in a JSONL file (non-empty lines); None for other formats."""
    if path.suffix != ".jsonl":
        return None
    with open(path, encoding="utf-8") as fh:
        return sum(1 for line in fh if line.strip())


def choose_approach(args: argparse.Namespace) -> tuple[str, list[str]]:
    """The approach to write, and lines saying why (for auto)."""
    if args.approach != "auto":
        if args.approach == "distill" and not args.teacher:
            raise UsageError("--approach distill needs --teacher NAME (the large model)")
        return args.approach, []
    from ftc.commands.recommend import inputs_from
    from ftc.memory.recommend import recommend

    examples = args.examples
    if examples is None and args.data:
        try:
            examples = count_examples(Path(args.data))
        except OSError as exc:
            raise UsageError(f"cannot read --data {args.data}: {exc.strerror}") from None
    if examples is None:
        raise UsageError("--approach auto needs --examples N (or --data FILE.jsonl to count)")
    ns = argparse.Namespace(examples=examples, task=args.task, gpu=args.gpu,
                            gpu_memory=args.gpu_memory, base_model=args.base_model,
                            provider_model=args.provider_model, reward_model=None,
                            max_seq_length=args.max_seq_length or 2048)
    try:
        result = recommend(inputs_from(ns))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    why = [f"{s.question} {s.answer}: {s.reason}" for s in result.steps]
    why.append(f"-> {result.approach}: {result.text}")
    approach = result.then or result.approach
    if approach == "distill" and not args.teacher:
        raise UsageError("the recommendation is distillation: add --teacher NAME")
    if approach == "rlhf":
        approach = "dpo"
    return approach, why


# --------------------------------------------------------------------------- recipe


def _rel(target: str, out: Path) -> str:
    """A local path as seen from the recipe's directory (hub ids unchanged)."""
    path = Path(target).expanduser()
    if not path.exists() and not target.startswith((".", "/", "~")):
        return target
    return os.path.relpath(path.resolve(), out.resolve().parent)


def job_name(base: str, approach: str) -> str:
    stem = re.sub(r"[^a-z0-9._-]+", "-", Path(base.rstrip("/")).name.lower()).strip("-._")
    return (f"{stem or 'model'}-{approach}")[:64]


def build_recipe(args: argparse.Namespace, approach: str, out: Path) -> dict:
    name = args.name or job_name(args.base_model, approach)
    if not re.match(r"^[a-z0-9][a-z0-9._-]{0,63}$", name):
        raise UsageError(f"--name {name!r}: use lower-case letters, digits, '.', '_', '-'")
    model: dict = {"base": _rel(args.base_model, out)}
    if args.max_seq_length:
        model["max_seq_length"] = args.max_seq_length
    method: dict = {"kind": approach}
    if approach == "distill":
        method["distill"] = {"teacher": _rel(args.teacher, out)}
    data: dict = {"train": _rel(args.data, out) if args.data else "data/train.jsonl"}
    if approach == "dpo" and not args.data:
        data["format"] = "preference"
    if args.task and args.task != "smaller-model":
        data["task"] = args.task
    recipe: dict = {"name": name,
                    "description": f"{approach} fine-tuning of {args.base_model}",
                    "model": model, "method": method, "data": data}
    hardware: dict = {}
    if args.accelerator:
        hardware["accelerator"] = args.accelerator
    if args.gpu:
        hardware["gpu"] = args.gpu
    if args.gpu_memory:
        hardware["gpu_memory"] = args.gpu_memory
    if hardware:
        recipe["hardware"] = hardware
    return recipe


def header(user: dict, approach: str, why: list[str], out: Path, fit_line: str | None,
           guidance: str | None) -> list[str]:
    from ftc.compiler import SCHEMA_FILE

    schema = os.path.relpath(SCHEMA_FILE, out.resolve().parent)
    lines = [f"yaml-language-server: $schema={schema}",
             f"{user['name']}: {approach} of {user['model']['base']} (written by `ftc new`).", ""]
    if why:
        lines += ["Why this approach (ftc recommend):"] + [f"  {w}" for w in why] + [""]
    if guidance:
        lines += [f"Data: {guidance}", ""]
    if fit_line:
        lines += f"Memory: {fit_line}".split("\n")
    else:
        lines.append(f"Memory: ftc estimate {out.name} --gpu NAME (set hardware.gpu to check "
                     "at compile time)")
    lines += [f"Run:    ftc lint {out.name} && ftc compile {out.name} && "
              f"ftc launch build/{user['name']}", "",
              "Commented lines show what ftc resolves for the keys left out, and where it",
              "comes from; uncomment one (and its parents) to change it."]
    return lines


def write_recipe(args: argparse.Namespace, user: dict, approach: str, why: list[str],
                 out: Path) -> int:
    from ftc.compiler import compile_recipe
    from ftc.memory.data import table
    from ftc.memory.recipe_writer import render_recipe

    out.parent.mkdir(parents=True, exist_ok=True)
    draft = render_recipe(user, {}, {}, [])
    tmp = _temp_beside(out, draft)
    try:
        # With a GPU named, let the fit check pick settings that fit and keep them.
        result = compile_recipe(tmp, ["hardware.fit=auto"])
        fitted = {k: v for k, v in leaves(result.values).items()
                  if result.provenance.get(k) == "rule:memory-fit"}
        if fitted:
            for path, value in fitted.items():
                _set(user, path, value)
            Path(tmp).write_text(render_recipe(user, {}, {}, []), encoding="utf-8")
            result = compile_recipe(tmp)
        if _tight(result):  # fits only on the low side: take recommend's settings
            roomy = compile_recipe(tmp, [f"{k}={str(v).lower()}" for k, v in ROOMY.items()])
            if roomy.ok and not _tight(roomy):
                fitted = {**fitted, **ROOMY}
                for path, value in ROOMY.items():
                    _set(user, path, value)
                Path(tmp).write_text(render_recipe(user, {}, {}, []), encoding="utf-8")
                result = compile_recipe(tmp)
        if not result.ok or result.resolved is None:
            sys.stderr.write(render(result.diagnostics, "text").replace(str(tmp), str(out))
                             + "\nftc new: the recipe would not compile; nothing written\n")
            return EXIT_PROBLEMS
        fit_line = _fit_line(result.values, fitted)
        guidance = table("decision_tree")["guidance"].get(args.task or "")
        text = render_recipe(user, result.values, result.provenance,
                             header(user, approach, why, out, fit_line, guidance))
        Path(tmp).write_text(text, encoding="utf-8")
        check = compile_recipe(tmp)
        if not check.ok:  # the commented text must resolve to the same recipe
            sys.stderr.write(render(check.diagnostics, "text").replace(str(tmp), str(out))
                             + "\nftc new: internal error: the written recipe does not "
                             "compile; nothing written\n")
            return EXIT_PROBLEMS
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    warnings = [d for d in check.diagnostics if not d.is_error]
    if warnings:
        sys.stderr.write(render(warnings, "text").replace(str(tmp), str(out)) + "\n")
    print(f"wrote {out} ({approach} of {args.base_model})")
    print(f"next: ftc lint {out}   then: ftc compile {out}")
    return EXIT_OK


# What `ftc recommend` checks an approach with (ftc.memory.recommend.approach_values).
ROOMY = {"training.micro_batch_size": 1, "training.gradient_checkpointing": True}


def _tight(result) -> bool:
    from ftc.memory.errors import TIGHT_FIT

    return any(d.rule == TIGHT_FIT for d in result.diagnostics)


def _temp_beside(out: Path, text: str) -> str:
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".yaml", dir=out.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    return tmp


def _fit_line(values: dict, fitted: dict) -> str | None:
    from ftc.memory.fit import check_fit
    from ftc.memory.units import fmt

    report = check_fit(values, "check")
    if report.estimate is None or report.capacity_bytes is None:
        return None
    verdict = "fits" if report.fits else "does NOT fit (ftc compile lists the fixes)"
    from ftc.memory.recipe_writer import scalar

    line = (f"about {fmt(report.needed)} per GPU at its peak; {report.gpu} has "
            f"{fmt(report.capacity_bytes)}: {verdict}")
    if fitted:
        line += "\n        set here so that it fits: " + ", ".join(
            f"{k}: {scalar(v)}" for k, v in fitted.items())
    return line


def _set(tree: dict, path: str, value) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        tree = tree.setdefault(part, {})
    tree[parts[-1]] = value
