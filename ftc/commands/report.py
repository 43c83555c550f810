"""`ftc report RUN_DIR [RUN_DIR ...]`: report.html (self-contained) and report.md for runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ftc.diagnostics import EXIT_OK, EXIT_USAGE, FtcError, render

NAME = "report"
HELP = "write report.html and report.md for one run, or several runs compared"
EPILOG = """examples:
  ftc report runs/quickstart/run-20260101-120000      # into that run directory
  ftc report runs/quickstart                          # its newest run
  ftc report runs/quickstart/run-A runs/quickstart/run-B -o compare/   # curves overlaid

A finished run writes its own report; this writes it again, or compares runs:
loss and learning-rate curves, metrics over steps, base vs tuned, alerts on the
curves, sample generations, the data summary, the resolved recipe with where each
value came from, hardware and time."""


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", type=Path,
                   help="run directories (output_dir/<name>/run-*), or output_dir/<name> "
                        "for its newest run")
    p.add_argument("-o", "--output", type=Path, metavar="DIR",
                   help="where the report goes (default: the run directory for one run, "
                        "./report for several)")


def run(args: argparse.Namespace) -> int:
    from ftc.report import write_report
    from ftc.report.runs import find_run

    try:
        runs = [find_run(p) for p in args.runs]
        out = args.output or (runs[0] if len(runs) == 1 else Path("report"))
        paths = write_report(runs, out)
    except FtcError as exc:
        sys.stderr.write(render(exc.diagnostics, "text") + "\n")
        return EXIT_USAGE
    print(f"ftc report: {paths['html']}")
    print(f"            {paths['markdown']}")
    return EXIT_OK
