"""Write the whole export into a temporary folder beside the target, then rename it.

A failed or interrupted export leaves the target as it was: absent, or (with
--force) the previous export, which is replaced only once the new one is
complete. The folder is created next to the target so the rename stays on one
file system.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ftc.export.errors import problem


def check_target(out: Path, force: bool) -> None:
    """Refuse an existing output before any work starts (FTC606)."""
    if out.exists() and not force:
        raise problem(out, "FTC606", "the output directory already exists",
                      "pass --force to replace it, or -o to write elsewhere")
    if out.exists() and not out.is_dir():
        raise problem(out, "FTC606", "the output path is a file, not a directory",
                      "choose another path with -o")


@contextmanager
def staged(out: Path, force: bool = False) -> Iterator[Path]:
    """Yield a fresh folder; on success it becomes `out` (replacing it when force)."""
    out = Path(out)
    check_target(out, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        yield tmp
        tmp.chmod(0o755)  # mkdtemp makes it private; an export is meant to be shared
        old = None
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            out.rename(old)
        tmp.rename(out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
