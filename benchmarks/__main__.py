"""Run every benchmarks/bench_*.py (or the ones named on the command line).

    python -m benchmarks                    # all, at least 5 interleaved rounds each
    python -m benchmarks compiler runtime   # only bench_compiler.py and bench_runtime.py
    python -m benchmarks --rounds 7         # more rounds
    python -m benchmarks --quick            # a smoke test: 1 round, small workloads

A benchmark's main() takes the keyword arguments it names (rounds, quick).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
from pathlib import Path

from benchmarks.harness import MIN_ROUNDS, check_rounds


def _options(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--rounds", type=int, default=MIN_ROUNDS,
                        help=f"interleaved rounds per comparison (at least {MIN_ROUNDS})")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 1 round and small workloads (numbers not comparable)")
    opts = parser.parse_args(argv)
    try:
        check_rounds(1 if opts.quick else opts.rounds, allow_few=opts.quick)
    except ValueError as exc:
        parser.error(str(exc))
    return opts


def main(argv: list[str]) -> int:
    opts = _options(argv)
    here = Path(__file__).parent
    names = sorted(p.stem for p in here.glob("bench_*.py"))
    wanted = [n if n.startswith("bench_") else f"bench_{n}" for n in opts.names] or names
    given = {"rounds": 1 if opts.quick else opts.rounds, "quick": opts.quick}
    failed = 0
    for name in wanted:
        print(f"\n== {name}", flush=True)
        module = importlib.import_module(f"benchmarks.{name}")
        accepted = inspect.signature(module.main).parameters
        failed += bool(module.main(**{k: v for k, v in given.items() if k in accepted}))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
