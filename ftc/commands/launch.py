"""`ftc launch BUNDLE [--resume [CKPT]]`: run a bundle's launch.sh, then print its summary.

launch.sh is exactly what a cluster user runs by hand (accelerate launch);
this only streams its output, tells the runtime where to report its run
directory, and prints summary.json at the end.  A provider bundle (job.json,
backend.kind openai/azure-openai) has no launch.sh: ftc.providers.launch
uploads its files, creates the job through the openai SDK and follows it.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from ftc.diagnostics import ERROR, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, Diagnostic, render
from ftc.runtime.launch_env import QUIET_SUMMARY_ENV, RUN_INFO_ENV, VERBOSE_ENV

NAME = "launch"
HELP = "run a compiled bundle (its launch.sh) and print the run's summary"
EPILOG = """examples:
  ftc launch build/quickstart                 # train; outputs under the recipe's output_dir
  ftc launch build/quickstart --resume        # continue from the newest checkpoint
  ftc launch build/quickstart --resume runs/quickstart/run-20250101-120000/checkpoint-50
  ftc launch build/support-openai             # provider bundle: upload, create the job, follow it
  ftc launch build/support-openai --resume    # reattach to that job (no second job)

On a cluster, run the bundle's launch.sh (or sbatch slurm.sbatch) instead; the
runtime writes the same run directory either way."""


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("bundle", metavar="BUNDLE", type=Path,
                   help="bundle directory (or its launch.sh)")
    add_resume_argument(p)


def add_resume_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--resume", nargs="?", const="", default=None, metavar="CKPT",
                   help="continue from the last checkpoint, or from CKPT (a checkpoint-N "
                        "directory or a run directory); provider backends: reattach to the "
                        "job of the last run (or of run directory CKPT)")
    p.add_argument("--poll-interval", type=_seconds, default=10.0, metavar="SECONDS",
                   help="provider backends: seconds between status polls (default 10)")
    p.add_argument("--verbose", action="store_true",
                   help="keep the libraries' own progress bars and notices")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"expected seconds in (0, 3600], got {text!r}")
    return value


def is_provider_bundle(bundle: Path) -> bool:
    return (bundle / "job.json").is_file() and (bundle / "recipe.lock.yaml").is_file()


def run(args: argparse.Namespace) -> int:
    bundle = args.bundle.parent if args.bundle.name == "launch.sh" else args.bundle
    missing = [n for n in ("launch.sh", "recipe.lock.yaml") if not (bundle / n).is_file()]
    if missing and not is_provider_bundle(bundle):
        sys.stderr.write(f"{bundle}:1:1: error: FTC511 not a bundle (no {missing[0]})\n"
                         "  hint: make one with `ftc compile RECIPE` (or use `ftc run RECIPE`)\n")
        return EXIT_USAGE
    return launch_bundle(bundle, args.resume, args.poll_interval, args.verbose)


def launch_bundle(bundle: Path, resume: str | None = None, poll_interval: float = 10.0,
                  verbose: bool = False) -> int:
    """Run bundle/launch.sh with output streamed; print the summary when it trained.

    A provider bundle (job.json) goes to ftc.providers.launch instead: the job
    runs at the provider, followed from here.
    """
    if is_provider_bundle(bundle):
        from ftc.providers.launch import launch_provider_bundle

        return launch_provider_bundle(bundle, resume, poll_interval)
    extra: list[str] = []
    if resume is not None:
        # launch.sh runs from the bundle directory: make the checkpoint path absolute
        extra = ["--resume"] + ([str(Path(resume).expanduser().resolve())] if resume else [])
    with tempfile.TemporaryDirectory(prefix="ftc-launch-") as tmp:
        info = Path(tmp) / "run_dir"
        env = {**os.environ, RUN_INFO_ENV: str(info), QUIET_SUMMARY_ENV: "1",
               "PYTHONUNBUFFERED": "1"}
        env.setdefault("FTC_PYTHON", sys.executable)
        if verbose:
            env[VERBOSE_ENV] = "1"
        try:
            code, killed = _stream(["bash", str(bundle / "launch.sh"), *extra], env, verbose)
        except KeyboardInterrupt:
            sys.stderr.write("ftc launch: interrupted; resume with --resume\n")
            return 130
        run_dir = Path(info.read_text(encoding="utf-8")) if info.is_file() else None
    if code != 0:
        if killed is None and code < 0:
            from ftc.runtime.launcher_output import Killed

            killed = Killed(-code)  # launch.sh (exec'd into accelerate) itself was killed
        if killed is not None:
            sys.stderr.write(render([killed_diagnostic(bundle, killed, run_dir)], "text") + "\n")
        sys.stderr.write(f"ftc launch: training failed (exit status {code})"
                         + (f"; run directory {run_dir}" if run_dir else "") + "\n")
        return EXIT_PROBLEMS
    summary_path = run_dir / "summary.json" if run_dir else None
    if summary_path is None or not summary_path.is_file():
        sys.stderr.write("ftc launch: the run ended without a summary.json\n")
        return EXIT_PROBLEMS
    import json

    from ftc.runtime.summary_text import format_summary

    print(format_summary(json.loads(summary_path.read_text(encoding="utf-8"))), flush=True)
    return EXIT_OK


def killed_diagnostic(bundle: Path, killed, run_dir: Path | None) -> Diagnostic:
    """FTC545: which process a signal ended, and the exact command that resumes the run."""
    from ftc.runtime.run_dir import checkpoints

    saved = checkpoints(run_dir) if run_dir else []
    again = f"ftc launch {shlex.quote(str(bundle))}"
    oom = " (the kernel's out-of-memory killer sends SIGKILL)" if killed.number == 9 else ""
    hint = (f"continue from {saved[-1]}: {again} --resume" if saved else
            f"no checkpoint was saved before it; start again: {again}")
    return Diagnostic(str(bundle / "recipe.lock.yaml"), 1, 1, ERROR, "FTC545",
                      f"training was killed by {killed.text()}{oom}", hint)


def _stream(cmd: list[str], env: dict[str, str], verbose: bool = False):
    """Run cmd; stdout straight through (a terminal stays one, for the live progress bar),
    stderr through the launcher-traceback and notice filter (all kept with verbose).

    Returns (exit status, the Killed record when a training process died of a signal).
    """
    from ftc.runtime.launcher_output import LauncherStderr

    sys.stdout.flush()
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = LauncherStderr(sys.stderr.buffer, keep_all=verbose)
    try:
        while chunk := os.read(proc.stderr.fileno(), 65536):
            err.feed(chunk)
    finally:
        err.close()
        proc.stderr.close()
    return proc.wait(), err.killed
