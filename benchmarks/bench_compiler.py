"""Compiler speed: `ftc lint` cold, in bulk, and beside axolotl's own config validation.

Targets (issue 2): cold `ftc lint` of one recipe <= 0.25 s; 250 recipes in one
`ftc lint` call <= 1 s, on the 2-core reference machine.  The 250 recipes are
variations of the curated ones (different names), linted as `ftc lint` does by
default (a worker per core) and, beside it, in one process (--jobs 1).

The peer is measured, never quoted: with axolotl installed in .venv-peers (`make
bench-peers`), axolotl validates the configs of ../shared/corpus/axolotl-examples
(benchmarks/axolotl_peer.py: what `axolotl train` does before loading anything)
and `ftc lint` checks the same settings written as ftc recipes, one config in a
cold process and all of them in one process.  Every case is a separate process
(wall time and peak RSS); all cases run interleaved, after one warm-up round that
fills the page cache and writes bytecode.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import axolotl_peer
from benchmarks.harness import MIN_ROUNDS, interleave, load_text, speedup

ROOT = Path(__file__).resolve().parents[1]
RECIPES = sorted((ROOT / "recipes").glob("*.yaml"))
TARGET_ONE, TARGET_MANY = 0.25, 1.0


def _child(cmd: list[str], peaks: list[float]) -> float:
    """Wall seconds of one process; its peak RSS (MiB) is appended to peaks."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=env, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    peaks.append(usage.ru_maxrss / 1024)
    return seconds


def write_variants(out: Path, count: int) -> list[Path]:
    """`count` copies of the curated recipes under new names in `out`, with the bases they
    extend and the data they name (also the test of `ftc lint --jobs`)."""
    texts = [p.read_text() for p in RECIPES if "abstract: true" not in p.read_text()]
    paths = []
    for i in range(count):
        text = texts[i % len(texts)]
        path = out / f"variant_{i:03d}.yaml"
        path.write_text(text.replace("name: ", f"name: v{i:03d}-", 1))
        paths.append(path)
    for p in RECIPES:  # extends: targets resolve relative to the recipe
        if "abstract: true" in p.read_text():
            (out / p.name).write_text(p.read_text())
    (out / "data").symlink_to(ROOT / "recipes" / "data")
    return paths


def _lint(paths: list[Path], *options: str) -> list[str]:
    return [sys.executable, "-m", "ftc.cli", "lint", *options, *map(str, paths)]


def _peer(paths: list[Path]) -> list[str]:
    return [str(axolotl_peer.PEER_PYTHON), str(Path(axolotl_peer.__file__)), *map(str, paths)]


def _cases(work: Path, many: int, peer: bool) -> tuple[dict, dict, int]:
    """The cases (name -> command) and their peak lists; the number of peer configs."""
    variants = write_variants(work, many)
    commands = {"ftc lint, 1 recipe, cold": _lint([RECIPES[0]]),
                f"ftc lint, {many} recipes, one call": _lint(variants),
                # the same in one process: what the workers (one per core) add
                f"ftc lint, {many} recipes, one call, --jobs 1": _lint(variants, "--jobs", "1"),
                # control: what a bare interpreter start costs on this machine right now
                "control: python -c 'import json', cold": [sys.executable, "-c", "import json"]}
    configs = axolotl_peer.corpus_configs() if peer else []
    if configs:
        recipes = axolotl_peer.write_recipes(configs, work,
                                             ROOT / "recipes" / "data" / "tickets" / "train.jsonl")
        one = next(i for i, c in enumerate(configs) if "llama-3" in str(c))
        commands |= {"axolotl, 1 config, cold": _peer([configs[one]]),
                     "ftc lint, same config, cold": _lint([recipes[one]]),
                     f"axolotl, {len(configs)} configs, one process": _peer(configs),
                     # one process, as axolotl's side is
                     f"ftc lint, same {len(configs)} configs, one call": _lint(recipes, "--jobs",
                                                                             "1")}
    peaks: dict[str, list[float]] = {name: [] for name in commands}
    cases = {name: (lambda n=name: _child(commands[n], peaks[n])) for name in commands}
    return cases, peaks, len(configs)


def main(rounds: int = MIN_ROUNDS, quick: bool = False) -> int:
    peer = axolotl_peer.peer_available() and not quick
    many = 25 if quick else 250
    with tempfile.TemporaryDirectory(prefix="ftc-bench-compiler-") as tmp:
        cases, peaks, n_configs = _cases(Path(tmp), many, peer)
        result = interleave(cases, rounds=rounds, warmup=1, allow_few=quick)
    print(f"{len(result.loads)} interleaved rounds after 1 warm-up, {load_text(result.loads)} "
          f"({os.cpu_count()} CPUs); seconds: median (min-max)")
    print(f"{'case':<44} {'seconds':>22} {'peak MiB':>9}")
    for name in cases:
        print(f"{name:<44} {result.text(name):>22} {statistics.median(peaks[name]):>9.0f}")
    one, bulk = result.median("ftc lint, 1 recipe, cold"), \
        result.median(f"ftc lint, {many} recipes, one call")
    ok = quick or (one <= TARGET_ONE and bulk <= TARGET_MANY)  # quick: nothing is judged
    print(f"\ntargets: 1 recipe cold <= {TARGET_ONE} s: {one:.3f} "
          f"{'met' if one <= TARGET_ONE else 'MISSED'}; {many} recipes <= {TARGET_MANY} s: "
          f"{bulk:.3f} {'met' if bulk <= TARGET_MANY else 'MISSED'}"
          + (" (quick: not judged)" if quick else ""))
    v = result.values
    workers = speedup(v[f"ftc lint, {many} recipes, one call"],
                      v[f"ftc lint, {many} recipes, one call, --jobs 1"], result.loads)
    print(f"{many} recipes, a worker per core against one process (paired by round): "
          f"{workers.text()}")
    if not n_configs:
        print(f"axolotl: {axolotl_peer.NOT_MEASURED}")
        return 0 if ok else 1
    cold = speedup(v["ftc lint, same config, cold"], v["axolotl, 1 config, cold"], result.loads)
    print("ftc faster than axolotl (axolotl seconds / ftc seconds, paired by round):")
    print(f"  1 config, cold process:   {cold.text()}")
    all_ = speedup(v[f"ftc lint, same {n_configs} configs, one call"],
                   v[f"axolotl, {n_configs} configs, one process"], result.loads)
    print(f"  {n_configs} configs, one process: {all_.text()}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
