"""`python -m ftc.runtime LOCK [--resume [CKPT]]`: what launch.sh starts on every process.

Exit codes follow ftc: 0 trained, 1 a known problem (explained as
`path:line:col: error: FTCnnn ...`, no traceback), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import os
import sys

from ftc.diagnostics import EXIT_OK, EXIT_PROBLEMS, render
from ftc.runtime.launch_env import QUIET_SUMMARY_ENV


def main(argv: list[str] | None = None) -> int:
    # OpenMP threads that spin at barriers collapse (5-10x slower) when anything else
    # runs on the same cores; sleeping ones cost little. Read when torch loads.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    parser = argparse.ArgumentParser(prog="python -m ftc.runtime",
                                     description="Train from a recipe.lock.yaml.")
    parser.add_argument("lock", help="recipe.lock.yaml (or the bundle directory)")
    parser.add_argument("--resume", nargs="?", const="", default=None, metavar="CKPT",
                        help="continue from the last checkpoint, or from CKPT")
    args = parser.parse_args(argv)

    from ftc.runtime.run_lock import RunFailure
    from ftc.runtime.train import run_training

    try:
        summary = run_training(args.lock, resume=args.resume or None,
                               resume_requested=args.resume is not None)
    except RunFailure as failure:
        if _is_rank_zero() or not failure.collective:
            sys.stderr.write(render(failure.diagnostics, "text") + "\n")
            sys.stderr.flush()
        # every rank failed together: meet once more, so rank 0 has printed before any
        # exit makes the launcher stop the others
        _teardown(success=failure.collective)
        return EXIT_PROBLEMS
    _teardown(success=True)
    if summary is not None and not os.environ.get(QUIET_SUMMARY_ENV):
        from ftc.runtime.summary_text import format_summary

        print(format_summary(summary), flush=True)
    return EXIT_OK


def _is_rank_zero() -> bool:
    return os.environ.get("RANK", "0") == "0"


def _teardown(success: bool) -> None:
    """Barrier + destroy_process_group: without it gloo runs may SIGABRT at exit.

    No barrier after a failure on one rank only: the others are stuck in a collective.
    """
    try:
        import torch.distributed as dist
    except ImportError:  # pragma: no cover
        return
    if dist.is_available() and dist.is_initialized():
        if success:
            dist.barrier()
        dist.destroy_process_group()


if __name__ == "__main__":
    raise SystemExit(main())
