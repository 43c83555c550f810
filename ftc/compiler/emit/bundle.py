"""Write a launch bundle atomically: into a temporary directory, then renamed.

An interrupted compile leaves either the old bundle or the new one, never a
mix.  Same inputs give the same bytes: no timestamps, no absolute paths.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from ftc import __version__
from ftc.compiler.emit.accelerate_config import accelerate_config
from ftc.compiler.emit.deepspeed_config import custom_json, deepspeed_config
from ftc.compiler.emit.manifest import manifest
from ftc.compiler.emit.templates import bundle_readme, launch_sh, slurm_sbatch
from ftc.compiler.emit.yaml_text import yaml_text
from ftc.compiler.lockfile import LOCK_NAME, relative_paths, render_lock
from ftc.diagnostics import ERROR, Diagnostic, FtcError

EXECUTABLE = {"launch.sh", "slurm.sbatch"}


def bundle_files(values: dict, provenance: dict[str, str], recipe: Path,
                 out_dir: Path) -> dict[str, bytes]:
    """Every bundle file's bytes, keyed by file name (manifest.json last)."""
    out_dir = out_dir.resolve()
    lock = relative_paths(values, out_dir)
    header = [f"ftc {__version__} recipe lock for '{values['name']}', compiled from "
              f"{os.path.relpath(recipe.resolve(), out_dir)}.",
              "Every value is resolved; the comment after each says where it came from.",
              "Do not edit: change the recipe and compile again.", ""]
    files = {LOCK_NAME: render_lock(lock, provenance, header)}
    files["accelerate.yaml"] = yaml_text(accelerate_config(values))
    ds = _deepspeed_json(values)
    if ds is not None:
        files["deepspeed.json"] = ds
    files["launch.sh"] = launch_sh(values, lock)
    files["slurm.sbatch"] = slurm_sbatch(values, lock)
    files["README.md"] = bundle_readme(values, lock)
    encoded = {name: text.encode("utf-8") for name, text in files.items()}
    encoded["manifest.json"] = manifest(
        values, encoded, lambda p: os.path.relpath(p, out_dir)).encode("utf-8")
    return encoded


def _deepspeed_json(values: dict) -> str | None:
    custom = values["hardware"].get("deepspeed_config")
    if custom:
        return custom_json(Path(custom))
    config = deepspeed_config(values)
    return None if config is None else json.dumps(config, indent=2, sort_keys=True) + "\n"


def write_bundle_files(files: dict[str, bytes], out_dir: Path, display: str) -> Path:
    """Atomically replace out_dir with exactly these files."""
    out_dir = Path(out_dir)
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    except OSError as exc:
        raise _write_error(display, exc) from None
    try:
        for name, data in files.items():
            (tmp / name).write_bytes(data)
            os.chmod(tmp / name, 0o755 if name in EXECUTABLE else 0o644)
        os.chmod(tmp, 0o755)
        _swap_in(tmp, out_dir)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise _write_error(display, exc) from None
    return out_dir


def _swap_in(tmp: Path, out_dir: Path) -> None:
    if not out_dir.exists():
        os.rename(tmp, out_dir)
        return
    if not (out_dir / LOCK_NAME).exists() and any(out_dir.iterdir()):
        raise OSError(17, f"{out_dir} exists and is not an ftc bundle; not overwriting it")
    old = out_dir.with_name(f".{out_dir.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    os.rename(out_dir, old)
    os.rename(tmp, out_dir)
    shutil.rmtree(old, ignore_errors=True)


def _write_error(display: str, exc: OSError) -> FtcError:
    reason = exc.strerror or str(exc)
    where = f": {exc.filename}" if getattr(exc, "filename", None) else ""
    return FtcError([Diagnostic(display, 1, 1, ERROR, "FTC009",
                                f"cannot write the bundle ({reason}{where})",
                                "choose a writable directory with -o")])
