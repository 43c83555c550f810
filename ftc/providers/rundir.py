"""Run directories of provider jobs: output_dir/<name>/run-*/, and finding one to resume.

A provider job runs elsewhere; what the run directory keeps is what is needed
to find it again: state.json (the uploaded files' ids, the job id, the last
status, the sha256 of the job.json it was made from), job.json as sent,
events.jsonl (every event seen, once), summary.json at the end.  state.json is
written atomically after each step, so a crash or Ctrl-C at any point leaves
enough to reattach with `--resume` instead of creating a second job.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

STATE = "state.json"
EVENTS = "events.jsonl"
SUMMARY = "summary.json"
TERMINAL = ("succeeded", "failed", "cancelled")


def runs_root(bundle: Path, lock: dict) -> Path:
    """output_dir/<name>; the lock's output_dir is relative to the bundle."""
    return (bundle / lock.get("output_dir", "runs") / lock["name"]).resolve()


def new_run_dir(root: Path, copy: list[Path]) -> Path:
    stamp = time.strftime("run-%Y%m%d-%H%M%S")
    run_dir, n = root / stamp, 1
    while run_dir.exists():
        n += 1
        run_dir = root / f"{stamp}-{n}"
    run_dir.mkdir(parents=True)
    for path in copy:
        if path.is_file():
            shutil.copyfile(path, run_dir / f"bundle.{path.name}")
    return run_dir


def write_json(path: Path, value: dict) -> None:
    """Atomically: a reader sees the old file or the new one."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def read_state(run_dir: Path) -> dict | None:
    try:
        state = json.loads((run_dir / STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def latest_run(root: Path) -> Path | None:
    """The newest run directory under root that has a state.json."""
    runs = [d for d in root.glob("run-*") if (d / STATE).is_file()]
    return max(runs, key=lambda d: (d / STATE).stat().st_mtime) if runs else None


def seen_events(run_dir: Path) -> set[str]:
    try:
        lines = (run_dir / EVENTS).read_text(encoding="utf-8").splitlines()
    except OSError:
        return set()
    return {json.loads(line)["id"] for line in lines if line.strip()}


def append_events(run_dir: Path, events: list[dict]) -> None:
    with open(run_dir / EVENTS, "a", encoding="utf-8") as fh:
        for event in events:
            fh.write(json.dumps(event, sort_keys=True, ensure_ascii=False) + "\n")
