"""`ftc recommend`: walk the approach decision tree and explain each branch."""

from __future__ import annotations

import argparse
import json

from ftc.commands.output import fail
from ftc.diagnostics import EXIT_OK, EXIT_USAGE

NAME = "recommend"
HELP = "recommend a fine-tuning approach from data size, task and GPU memory"
EPILOG = """examples:
  ftc recommend --examples 12000 --task instruction
  ftc recommend --examples 12000 --task instruction --gpu-memory 24GiB \\
      --base-model meta-llama/Llama-3.1-8B
  ftc recommend --examples 5000 --task alignment
  ftc recommend --examples 800 --provider-model gpt-4o-mini

Prints the path through the decision tree (ftc/memory/decision_tree.yaml) with
the reason for each branch, the approach, and the data-size guidance for the
task.  Then: ftc new --approach <approach> --base-model NAME."""


def register(p: argparse.ArgumentParser) -> None:
    from ftc.memory.tasks import TASKS

    p.add_argument("--examples", type=int, required=True, metavar="N",
                   help="training examples you have (or preference pairs)")
    p.add_argument("--task", choices=TASKS, help="what the fine-tuning is for")
    gpu = p.add_mutually_exclusive_group()
    gpu.add_argument("--gpu", metavar="NAME", help="GPU model (e.g. L4, A100-80GB)")
    gpu.add_argument("--gpu-memory", metavar="SIZE", help="GPU memory, e.g. 24GiB")
    p.add_argument("--base-model", metavar="NAME",
                   help="base model (hub id or local dir): memory questions get estimates")
    p.add_argument("--max-seq-length", type=int, default=2048, metavar="TOKENS",
                   help="sequence length for the memory questions (default 2048)")
    p.add_argument("--provider-model", metavar="NAME",
                   help="a provider's API model (OpenAI / Azure OpenAI) to fine-tune")
    p.add_argument("--reward-model", metavar="NAME",
                   help="a reward model you already have (alignment: RLHF instead of DPO)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def inputs_from(args: argparse.Namespace):
    """recommend.Inputs from the arguments; ValueError for a bad GPU or size."""
    from ftc.memory.errors import MemoryInputError
    from ftc.memory.gpus import capacity
    from ftc.memory.recommend import Inputs

    if args.examples < 0:
        raise ValueError("--examples must be 0 or more")
    try:
        gpu = capacity(args.gpu, args.gpu_memory)
    except MemoryInputError as exc:
        raise ValueError(f"{exc.note.message}" + (f" ({exc.note.hint})" if exc.note.hint
                                                  else "")) from None
    return Inputs(examples=args.examples, task=args.task,
                  gpu_memory=gpu.memory_bytes if gpu else None,
                  gpu_label=args.gpu or (f"a {args.gpu_memory} GPU" if args.gpu_memory else None),
                  base_model=args.base_model, provider_model=args.provider_model,
                  reward_model=args.reward_model, max_seq_length=args.max_seq_length)


def run(args: argparse.Namespace) -> int:
    from ftc.memory.recommend import recommend

    try:
        result = recommend(inputs_from(args))
    except ValueError as exc:
        return fail(args, NAME, str(exc), code=EXIT_USAGE)
    if args.json:
        print(json.dumps({
            "approach": result.approach, "then": result.then, "text": result.text,
            "steps": [vars(s) for s in result.steps], "task": result.task,
            "data_guidance": result.guidance}, indent=2))
        return EXIT_OK
    for i, step in enumerate(result.steps, 1):
        print(f"{i}. {step.question} {step.answer}: {step.reason}")
    print(f"\napproach: {result.approach}: {result.text}")
    if result.guidance:
        print(f"data ({result.task}): {result.guidance}")
    nxt = result.then or result.approach
    if nxt in ("full", "lora", "qlora", "distill", "dpo"):
        base = args.base_model or "NAME"
        print(f"next: ftc new --approach {nxt} --base-model {base}"
              + (f" --task {args.task}" if args.task and args.task != "smaller-model" else ""))
    elif nxt == "provider-api":
        print("next: ftc data export (the provider's JSONL) and the provider's fine-tuning API")
    return EXIT_OK
