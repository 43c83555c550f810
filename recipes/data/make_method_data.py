#!/usr/bin/env python3
"""Write the example data of the method recipes (deterministic: same bytes every run).

    python recipes/data/make_method_data.py
        recipes/data/ticket-preferences/{train,validation}.jsonl   dpo and reward pairs
        recipes/data/ticket-tasks/{classify,reply}-{train,validation}.jsonl   two adapters
        recipes/data/ticket-prompts.jsonl                          distill generate, rlhf

Everything derives from the support tickets of ftc.runtime.example_data (see
ftc.runtime.methods.example_data for how each set is made).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ftc.runtime.example_data import write_jsonl
from ftc.runtime.methods import example_data as ed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent)
    args = parser.parse_args(argv)
    out = args.out
    write_jsonl(out / "ticket-preferences" / "train.jsonl", ed.preference_pairs(400, 101))
    write_jsonl(out / "ticket-preferences" / "validation.jsonl", ed.preference_pairs(60, 102))
    for split, (n, seed) in {"train": (300, 103), "validation": (40, 104)}.items():
        for task, rows in ed.adapter_tasks(n, seed).items():
            write_jsonl(out / "ticket-tasks" / f"{task}-{split}.jsonl", rows)
    write_jsonl(out / "ticket-prompts.jsonl", ed.prompts(48, 105))
    print(f"wrote method example data under {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
