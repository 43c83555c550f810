"""What a sound bundle is, checked from its files alone (used by the injection and fuzz tests).

- deepspeed.json is strict JSON (no NaN or Infinity);
- accelerate.yaml is accepted by accelerate's own config loader;
- recipe.lock.yaml reads back to the compiled values;
- launch.sh and slurm.sbatch pass `bash -n` and hold only their template's lines;
- no file holds a control character outside line breaks and tabs, or a secret.
"""

from __future__ import annotations

import json
import re
import subprocess
from functools import cache, lru_cache
from pathlib import Path

from ftc.compiler.emit.templates import TEMPLATE_DIR
from ftc.compiler.lockfile import LOCK_NAME, read_lock, relative_paths
from ftc.secret_scan import find_secret

# Lines slurm.sbatch may have beyond its template's (from {{GPU_LINE}}{{EXTRA_SBATCH}}).
SBATCH_EXTRA = re.compile(r"#SBATCH --(gpus-per-node|partition|account|time|cpus-per-task|mem)"
                          r"=[^\n]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@cache
def template_lines(name: str) -> tuple[re.Pattern[str], ...]:
    """One regex per template line, each {{FIELD}} matching any text on that line."""
    out = []
    for line in (TEMPLATE_DIR / name).read_text(encoding="utf-8").splitlines():
        line = line.replace("{{GPU_LINE}}{{EXTRA_SBATCH}}", "")
        parts = re.split(r"\{\{[A-Z_]+\}\}", line)
        out.append(re.compile("[^\n]*".join(re.escape(p) for p in parts)))
    return tuple(out)


def check_script(path: Path, template: str) -> None:
    """bash -n passes, and every line is the template's line at the same place."""
    proc = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, f"{path.name}: bash -n failed: {proc.stderr}"
    lines = [ln for ln in path.read_text(encoding="utf-8").split("\n")[:-1]
             if not SBATCH_EXTRA.fullmatch(ln)]
    patterns = template_lines(template)
    assert len(lines) == len(patterns), f"{path.name}: {len(lines)} lines, template has " \
        f"{len(patterns)}"
    for number, (line, pattern) in enumerate(zip(lines, patterns, strict=True), 1):
        assert pattern.fullmatch(line), f"{path.name}:{number} is not a template line: {line!r}"


@lru_cache(maxsize=1)
def _accelerate_loader():
    from accelerate.commands.config.config_args import load_config_from_file

    return load_config_from_file


def _strict(name: str):
    raise AssertionError(f"deepspeed.json holds {name}")


def check_bundle(bundle: Path, values: dict) -> None:
    """Every soundness property of a written bundle (see the module docstring)."""
    ds = bundle / "deepspeed.json"
    if ds.exists():
        assert isinstance(json.loads(ds.read_text(encoding="utf-8"), parse_constant=_strict),
                          dict)
    _accelerate_loader()(str(bundle / "accelerate.yaml"))
    expected = json.loads(json.dumps(relative_paths(values, bundle.resolve())))
    assert read_lock(bundle / LOCK_NAME) == expected
    check_script(bundle / "launch.sh", "launch.sh.tmpl")
    check_script(bundle / "slurm.sbatch", "slurm.sbatch.tmpl")
    for path in bundle.iterdir():
        text = path.read_bytes().decode("utf-8")
        assert not _CONTROL.search(text), f"{path.name} holds a control character"
        assert find_secret(text) is None, f"{path.name} holds a secret"
