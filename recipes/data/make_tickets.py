#!/usr/bin/env python3
"""Write the quickstart's support-ticket data (deterministic: same bytes every run).

    python recipes/data/make_tickets.py      # recipes/data/tickets/{train,validation}.jsonl
    python recipes/data/make_tickets.py --out DIR --n 2000 --long-fraction 0.1
        # a length-skewed set (10% of tickets ~7x longer), e.g. for the packing benchmark

The examples come from ftc.runtime.example_data, which `ftc init-tiny-model`
also uses to train the tiny model's tokenizer.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ftc.runtime import example_data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "tickets")
    parser.add_argument("--n", type=int, default=None,
                        help="train examples (default: the shipped set)")
    parser.add_argument("--long-fraction", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=example_data.TRAIN_SEED)
    args = parser.parse_args(argv)
    if args.n is None and args.long_fraction == 0.0:
        splits = example_data.default_splits()
    else:
        n = args.n or example_data.TRAIN_SIZE
        splits = {
            "train": list(example_data.generate(n, args.seed, args.long_fraction)),
            "validation": list(
                example_data.generate(max(n // 8, 8), args.seed + 1000, args.long_fraction)
            ),
        }
    for split, examples in splits.items():
        path = args.out / f"{split}.jsonl"
        example_data.write_jsonl(path, examples)
        print(f"wrote {len(examples)} examples to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
