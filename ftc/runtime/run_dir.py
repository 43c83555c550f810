"""Run directories: one per launch under output_dir/<name>/, and resuming into one.

A run directory holds the lock and manifest it ran from, so a checkpoint inside
it can always be traced to its recipe: `--resume` refuses a checkpoint whose
run was compiled from another recipe (other name, model or method) instead of
failing later inside the trainer with a shape mismatch.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from ftc.runtime.run_lock import LOCK_NAME, RunLock

CHECKPOINT_PREFIX = "checkpoint-"
COMPLETE_MARKER = "trainer_state.json"  # the trainer writes it last into a checkpoint
RUN_INFO = "ftc_run.json"  # who wrote this run directory (see identity)


@dataclass(frozen=True)
class RunPlan:
    run_dir: Path
    resume_from: Path | None


def runs_root(lock: RunLock) -> Path:
    return lock.local(lock.get("output_dir", "runs")) / lock.name


def new_run_id() -> str:
    return time.strftime("run-%Y%m%d-%H%M%S")


def unique_run_dir(lock: RunLock, run_id: str) -> Path:
    root = runs_root(lock)
    candidate, n = root / run_id, 1
    while candidate.exists():
        n += 1
        candidate = root / f"{run_id}-{n}"
    return candidate


def prepare_run_dir(lock: RunLock, run_dir: Path) -> None:
    """Create run_dir with the lock and manifest copied in (main process only)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(lock.path, run_dir / LOCK_NAME)
    info = {"identity": identity(lock), "lock": str(lock.path)}
    (run_dir / RUN_INFO).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n",
                                    encoding="utf-8")
    manifest = lock.dir / "manifest.json"
    if manifest.is_file():
        shutil.copyfile(manifest, run_dir / "manifest.json")


def checkpoints(run_dir: Path) -> list[Path]:
    """Complete checkpoints in step order (a kill mid-save leaves an incomplete one)."""
    found = []
    for path in run_dir.glob(f"{CHECKPOINT_PREFIX}*"):
        step = path.name[len(CHECKPOINT_PREFIX):]
        if step.isdigit() and (path / COMPLETE_MARKER).is_file():
            found.append((int(step), path))
    return [p for _, p in sorted(found)]


def checkpoint_step(checkpoint: Path) -> int:
    return int(checkpoint.name[len(CHECKPOINT_PREFIX):])


def identity(lock: RunLock) -> dict:
    """What must match for a checkpoint to load: recipe name, base model, method."""
    base = lock.get("model.base")
    local = lock.local(base)
    return {"name": lock.name, "model": str(local) if local.exists() else base,
            "method": lock.get("method")}


def plan_resume(lock: RunLock, requested: str | None) -> RunPlan:
    """The run directory and checkpoint to continue from (`--resume [CKPT]`)."""
    if requested:
        checkpoint = _explicit_checkpoint(lock, Path(requested).expanduser().resolve())
        _check_owner(lock, checkpoint)
        return RunPlan(checkpoint.parent, checkpoint)
    root = runs_root(lock)
    runs = sorted((d for d in root.glob("*") if d.is_dir() and checkpoints(d)),
                  key=lambda d: checkpoints(d)[-1].stat().st_mtime)
    if not runs:
        raise lock.fail("output_dir", "FTC508", f"nothing to resume: no checkpoint under {root}",
                        "run without --resume to start, or pass --resume PATH/checkpoint-N")
    checkpoint = checkpoints(runs[-1])[-1]
    _check_owner(lock, checkpoint)
    return RunPlan(runs[-1], checkpoint)


def _explicit_checkpoint(lock: RunLock, path: Path) -> Path:
    if path.is_dir() and not path.name.startswith(CHECKPOINT_PREFIX) and checkpoints(path):
        return checkpoints(path)[-1]  # a run directory: its last checkpoint
    if not (path / COMPLETE_MARKER).is_file():
        raise lock.fail("output_dir", "FTC508", f"{path} is not a complete checkpoint",
                        "pass a checkpoint-N directory (or the run directory holding them)")
    return path


def _check_owner(lock: RunLock, checkpoint: Path) -> None:
    try:
        info = json.loads((checkpoint.parent / RUN_INFO).read_text(encoding="utf-8"))
        theirs = info["identity"]
    except (OSError, ValueError, KeyError, TypeError):
        raise lock.fail("name", "FTC508",
                        f"{checkpoint} was not written by an ftc run (no {RUN_INFO} beside it)",
                        "resume from a checkpoint under output_dir/<name>/run-*/") from None
    ours = identity(lock)
    if theirs != ours:
        diffs = [k for k in ours if ours[k] != theirs.get(k)]
        what = ", ".join(f"{k}: {_short(theirs.get(k))} there, {_short(ours[k])} here"
                         for k in diffs)
        raise lock.fail("name", "FTC508",
                        f"checkpoint {checkpoint} belongs to another recipe ({what})",
                        "resume with the bundle that wrote it, or start a new run "
                        "without --resume")


def _short(value) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 60 else text[:57] + "..."
