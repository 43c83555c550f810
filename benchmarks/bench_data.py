"""Data pipeline speed and near-duplicate quality on 100,000 generated chat rows.

Targets (issue 4): check + exact and near dedup + split of 100,000 rows in
<= 60 s on the 2-core reference machine with bounded memory (peak RSS of the
process <= 2 GiB); planted near-duplicates found with recall >= 0.95 and
precision >= 0.99.

The rows are random sentences over a 30,000-word vocabulary (so unplanted
pairs share almost no 3-shingles).  5% of rows are planted exact copies and 5%
planted near copies (one word replaced, removed or added, at a random place;
their true Jaccard similarity is printed).  The timed step is exactly what
`ftc run` does first: `prepare_for_run` on a lock, in a fresh process, from
reading the JSONL to writing the splits and report.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROWS = 100_000
EXACT_SHARE, NEAR_SHARE = 0.05, 0.05
TARGET_SECONDS, TARGET_RSS_MIB = 60.0, 2048
TARGET_RECALL, TARGET_PRECISION = 0.95, 0.99
VOCAB = [f"w{i}" for i in range(30_000)]


def _sentence(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(VOCAB) for _ in range(rng.randint(low, high)))


def _edit(rng: random.Random, text: str) -> str:
    words = text.split()
    at = rng.randrange(len(words))
    kind = rng.choice(("replace", "remove", "add"))
    if kind == "replace":
        words[at] = rng.choice(VOCAB)
    elif kind == "remove":
        del words[at]
    else:
        words.insert(at, rng.choice(VOCAB))
    return " ".join(words)


def generate(path: Path, seed: int = 0) -> tuple[set[int], dict[int, int]]:
    """Write ROWS chat rows; return (exact copy lines, near copy line -> original line)."""
    rng = random.Random(seed)
    n_exact, n_near = int(ROWS * EXACT_SHARE), int(ROWS * NEAR_SHARE)
    n_base = ROWS - n_exact - n_near
    base = [(_sentence(rng, 30, 60), _sentence(rng, 20, 40)) for _ in range(n_base)]
    rows: list[tuple[str, str, str, int]] = [("base", u, a, i) for i, (u, a) in enumerate(base)]
    for _ in range(n_exact):
        i = rng.randrange(n_base)
        rows.append(("exact", *base[i], i))
    for _ in range(n_near):
        i = rng.randrange(n_base)
        u, a = base[i]
        if rng.random() < 0.5:
            u = _edit(rng, u)
        else:
            a = _edit(rng, a)
        rows.append(("near", u, a, i))
    planted = rows[n_base:]
    rng.shuffle(planted)
    rows[n_base:] = planted
    exact, near = set(), {}
    with path.open("w", encoding="utf-8") as fh:
        for line, (kind, user, assistant, origin) in enumerate(rows, 1):
            fh.write(json.dumps({"messages": [{"role": "user", "content": user},
                                              {"role": "assistant", "content": assistant}]})
                     + "\n")
            if kind == "exact":
                exact.add(line)
            elif kind == "near":
                near[line] = origin + 1
    return exact, near


_CHILD = """
import json, resource, sys, time
from pathlib import Path
t0 = time.perf_counter()
from ftc.dataprep import prepare_for_run
tmp = Path(sys.argv[1])
lock = {"model": {"base": "no-such/model"},
        "data": {"format": "auto", "train": ["train.jsonl"],
                 "split": {"train": 0.8, "validation": 0.1, "test": 0.1},
                 "dedup": {"exact": True, "near": True, "threshold": 0.85}},
        "training": {"seed": 42}}
prepared = prepare_for_run(lock, tmp, tmp / "out")
print(json.dumps({"seconds": time.perf_counter() - t0,
                  "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "splits": prepared.report["splits"]}))
"""


def _near_truth(path: Path, near: dict[int, int]) -> tuple[float, int]:
    """Smallest true Jaccard of a planted near pair that is not an exact copy."""
    from ftc.dataprep import dedup

    lines = path.read_text(encoding="utf-8").splitlines()
    shingler = dedup.Shingler()

    def sets(line: int):
        ex = json.loads(lines[line - 1])
        return shingler(dedup.similarity_text(
            (m["role"], m["content"]) for m in ex["messages"]))

    sims = [dedup.jaccard(sets(a), sets(b)) for a, b in near.items()]
    return min(s for s in sims if s < 1.0), sum(s >= 0.85 for s in sims)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        exact, near = generate(tmp / "train.jsonl")
        run = subprocess.run([sys.executable, "-c", _CHILD, str(tmp)], capture_output=True,
                             text=True, check=False)
        if run.returncode != 0:
            print(run.stderr[-2000:])
            return 1
        measured = json.loads(run.stdout.strip().splitlines()[-1])
        rejected = [json.loads(line) for line in
                    (tmp / "out" / "rejected.jsonl").read_text().splitlines()]
        min_sim, above = _near_truth(tmp / "train.jsonl", near)
    line = {r["source"]: int(r["source"].rsplit(":", 1)[1]) for r in rejected}
    found_exact = {line[r["source"]] for r in rejected if r["reason"] == "exact_duplicate"}
    found_near = {line[r["source"]] for r in rejected if r["reason"] == "near_duplicate"}
    # a near copy can equal its original (a word replaced by itself): then it is exact
    planted_near = set(near)
    hits = len(found_near & planted_near) + len(found_exact & planted_near)
    recall = hits / len(planted_near)
    precision = len(found_near & planted_near) / max(len(found_near), 1)
    exact_recall = len(found_exact & exact) / len(exact)
    rows = [
        ("rows", f"{ROWS:,}", ""),
        ("planted exact / near copies", f"{len(exact):,} / {len(near):,}", ""),
        ("near copies at Jaccard >= 0.85", f"{above:,} (min non-exact {min_sim:.3f})", ""),
        ("prepare time, cold process (s)", f"{measured['seconds']:.1f}",
         f"<= {TARGET_SECONDS:.0f}"),
        ("peak RSS (MiB)", f"{measured['rss_mib']:.0f}", f"<= {TARGET_RSS_MIB}"),
        ("exact copies found", f"{exact_recall:.4f}", "1.0"),
        ("near recall", f"{recall:.4f}", f">= {TARGET_RECALL}"),
        ("near precision", f"{precision:.4f}", f">= {TARGET_PRECISION}"),
        ("splits", ", ".join(f"{k} {v:,}" for k, v in measured["splits"].items()), ""),
    ]
    print(f"{'measure':<32} {'value':>36} {'target':>10}")
    for name, value, target in rows:
        print(f"{name:<32} {value:>36} {target:>10}")
    ok = (measured["seconds"] <= TARGET_SECONDS and measured["rss_mib"] <= TARGET_RSS_MIB
          and recall >= TARGET_RECALL and precision >= TARGET_PRECISION and exact_recall == 1.0)
    print("all targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
