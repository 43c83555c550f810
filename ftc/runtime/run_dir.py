"""Run directories: one per launch under output_dir/<name>/, and resuming into one.

A run directory holds the lock and manifest it ran from, and ftc_run.json says
whose run it is: the hash of the lock's values, the number of processes and the
batch layout. A checkpoint belongs to that one bundle: `--resume` picks only
checkpoints of this bundle and refuses others with the values that differ,
instead of continuing another bundle's run at another world size (or failing
later inside the trainer with a shape mismatch).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from ftc.dotted import leaves
from ftc.runtime.run_lock import LOCK_NAME, RunFailure, RunLock, load_run_lock

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


def prepare_run_dir(lock: RunLock, run_dir: Path, world_size: int) -> None:
    """Create run_dir with the lock and manifest copied in, and whose run it is (main process)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(lock.path, run_dir / LOCK_NAME)
    info = {"bundle": bundle_of(lock, world_size), "identity": identity(lock),
            "lock": str(lock.path)}
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
    """Recipe name, base model, method: what a reader of ftc_run.json looks for first."""
    base = lock.get("model.base")
    local = lock.local(base)
    return {"name": lock.name, "model": str(local) if local.exists() else base,
            "method": lock.get("method")}


def lock_hash(values: dict) -> str:
    """sha256 of a lock's values (comments and the compiler's version do not count)."""
    body = {k: v for k, v in values.items() if k != "ftc"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode("utf-8")).hexdigest()


def bundle_of(lock: RunLock, world_size: int) -> dict:
    """What a checkpoint belongs to: the lock's hash, the processes and the batch layout."""
    tr = lock.get("training") or {}
    return {"lock_sha256": lock_hash(lock.values), "world_size": world_size,
            "micro_batch_size": tr.get("micro_batch_size"),
            "gradient_accumulation": tr.get("gradient_accumulation")}


def plan_resume(lock: RunLock, requested: str | None, world_size: int) -> RunPlan:
    """The run directory and checkpoint to continue from (`--resume [CKPT]`).

    Only checkpoints of this bundle count: a run of another bundle under the same
    output_dir/<name> (other batch layout, process count, any other value) is never
    picked, and an explicit one is refused with the difference.
    """
    if requested:
        checkpoint = _explicit_checkpoint(lock, Path(requested).expanduser().resolve())
        why = foreign(lock, checkpoint.parent, world_size)
        if why:
            raise lock.fail("name", "FTC508",
                            f"checkpoint {checkpoint} belongs to another bundle ({why})",
                            "resume with the bundle that wrote it, or start a new run "
                            "without --resume")
        return RunPlan(checkpoint.parent, checkpoint)
    root = runs_root(lock)
    runs = sorted((d for d in root.glob("*") if d.is_dir() and checkpoints(d)),
                  key=lambda d: checkpoints(d)[-1].stat().st_mtime)
    ours = [d for d in runs if not foreign(lock, d, world_size)]
    if ours:
        return RunPlan(ours[-1], checkpoints(ours[-1])[-1])
    if runs:
        newest = runs[-1]
        raise lock.fail("output_dir", "FTC508",
                        f"nothing of this bundle to resume under {root}: the newest run there, "
                        f"{newest.name}, belongs to another bundle "
                        f"({foreign(lock, newest, world_size)})",
                        "resume it with the bundle that wrote it, or run without --resume "
                        "to start")
    raise lock.fail("output_dir", "FTC508", f"nothing to resume: no checkpoint under {root}",
                    "run without --resume to start, or pass --resume PATH/checkpoint-N")


def _explicit_checkpoint(lock: RunLock, path: Path) -> Path:
    if path.is_dir() and not path.name.startswith(CHECKPOINT_PREFIX) and checkpoints(path):
        return checkpoints(path)[-1]  # a run directory: its last checkpoint
    if not (path / COMPLETE_MARKER).is_file():
        raise lock.fail("output_dir", "FTC508", f"{path} is not a complete checkpoint",
                        "pass a checkpoint-N directory (or the run directory holding them)")
    return path


def foreign(lock: RunLock, run_dir: Path, world_size: int) -> str | None:
    """Why run_dir's checkpoints are not this bundle's to continue (None: they are)."""
    try:
        info = json.loads((run_dir / RUN_INFO).read_text(encoding="utf-8"))
        theirs = info["bundle"]
        lock_sha, their_world = theirs["lock_sha256"], theirs["world_size"]
    except (OSError, ValueError, KeyError, TypeError):
        return f"it was not written by this version of ftc: no bundle record in {RUN_INFO}"
    why = []
    if lock_sha != lock_hash(lock.values):
        why.append(_lock_difference(lock, run_dir))
    if their_world != world_size:
        why.append(f"{their_world} process(es) there, {world_size} here")
    return "; ".join(why) or None


def _lock_difference(lock: RunLock, run_dir: Path) -> str:
    """The first values that differ between run_dir's copy of its lock and this one."""
    try:
        theirs = load_run_lock(run_dir / LOCK_NAME).values
    except RunFailure:
        return "its lock file is not this bundle's"
    ours = leaves(lock.values)
    other = leaves(theirs)
    keys = [k for k in sorted(set(ours) | set(other))
            if not k.startswith("ftc.") and ours.get(k, _GONE) != other.get(k, _GONE)]
    shown = ", ".join(f"{k}: {_short(other.get(k, _GONE))} there, {_short(ours.get(k, _GONE))} "
                      "here" for k in keys[:4])
    return shown + (f" and {len(keys) - 4} more" if len(keys) > 4 else "") or \
        "its lock differs from this bundle's"


_GONE = "(not set)"


def _short(value) -> str:
    text = value if value is _GONE else json.dumps(value, sort_keys=True)
    return text if len(text) <= 60 else text[:57] + "..."
