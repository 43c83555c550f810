"""Write a launch bundle: a new one atomically, an existing one file by file.

A new bundle is written into a temporary directory and renamed into place. An
existing bundle directory is kept (jobs may be running from it, and Slurm puts
its logs there): each file is replaced atomically, manifest.json last.  Same
inputs give the same bytes: no timestamps; the only absolute path is the
compiling Python in launch.sh (FTC_PYTHON overrides it).
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
MANIFEST = "manifest.json"


def bundle_files(values: dict, provenance: dict[str, str], recipe: Path,
                 out_dir: Path) -> dict[str, bytes]:
    """Every bundle file's bytes, keyed by file name (manifest.json last)."""
    out_dir = out_dir.resolve()
    lock, lock_text = lock_file(values, provenance, recipe, out_dir)
    files: dict[str, str | bytes] = {LOCK_NAME: lock_text}
    files["accelerate.yaml"] = yaml_text(accelerate_config(values))
    ds = _deepspeed_json(values)
    if ds is not None:
        files["deepspeed.json"] = ds
    files["launch.sh"] = launch_sh(values, lock)
    files["slurm.sbatch"] = slurm_sbatch(values, lock)
    files["README.md"] = bundle_readme(values, lock)
    return encode_with_manifest(values, files, out_dir)


def lock_file(values: dict, provenance: dict[str, str], recipe: Path,
              out_dir: Path) -> tuple[dict, str]:
    """(the lock's values with bundle-relative paths, recipe.lock.yaml's text)."""
    lock = relative_paths(values, out_dir)
    header = [f"ftc {__version__} recipe lock for '{values['name']}', compiled from "
              f"{os.path.relpath(recipe.resolve(), out_dir)}.",
              "Every value is resolved; the comment after each says where it came from.",
              "Do not edit: change the recipe and compile again.", ""]
    return lock, render_lock(lock, provenance, header)


def encode_with_manifest(values: dict, files: dict[str, str | bytes],
                         out_dir: Path) -> dict[str, bytes]:
    """The files as bytes (text as UTF-8), plus manifest.json with the checksum of each."""
    encoded = {name: data.encode("utf-8") if isinstance(data, str) else data
               for name, data in files.items()}
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
    """Write the bundle's files into out_dir, leaving every file ftc did not write there.

    A new directory appears whole (renamed from a temporary one). In an existing
    bundle each file is replaced atomically and manifest.json goes last (it is
    removed first, so a bundle caught mid-update has no manifest); files the
    previous compile wrote and this one does not (its manifest says which) are
    removed, and anything else, such as the slurm-%j.out logs of jobs that ran
    here, stays.
    """
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
        _move_in(tmp, out_dir, list(files))
    except OSError as exc:
        raise _write_error(display, exc) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def _move_in(tmp: Path, out_dir: Path, names: list[str]) -> None:
    if not out_dir.exists():
        os.rename(tmp, out_dir)
        return
    if not (out_dir / LOCK_NAME).exists() and any(out_dir.iterdir()):
        raise OSError(17, f"{out_dir} exists and is not an ftc bundle; not overwriting it")
    previous = _files_written_before(out_dir)
    (out_dir / MANIFEST).unlink(missing_ok=True)
    for name in sorted(names, key=lambda n: n == MANIFEST):  # the manifest last
        os.replace(tmp / name, out_dir / name)
    for name in previous - set(names):
        (out_dir / name).unlink(missing_ok=True)


def _files_written_before(out_dir: Path) -> set[str]:
    """The files the previous compile wrote here, from its manifest (plain names only)."""
    try:
        listed = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return set()
    return {n for n in listed if isinstance(n, str) and n == Path(n).name
            and not n.startswith(".") and (out_dir / n).is_file()}


def _write_error(display: str, exc: OSError) -> FtcError:
    reason = exc.strerror or str(exc)
    where = f": {exc.filename}" if getattr(exc, "filename", None) else ""
    return FtcError([Diagnostic(display, 1, 1, ERROR, "FTC009",
                                f"cannot write the bundle ({reason}{where})",
                                "choose a writable directory with -o")])
