"""Run every benchmarks/bench_*.py (or the ones named on the command line).

    python -m benchmarks              # all
    python -m benchmarks compiler     # only bench_compiler.py
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    names = sorted(p.stem for p in here.glob("bench_*.py"))
    wanted = [n if n.startswith("bench_") else f"bench_{n}" for n in argv] or names
    failed = 0
    for name in wanted:
        print(f"\n== {name}")
        module = importlib.import_module(f"benchmarks.{name}")
        failed += bool(module.main())
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
