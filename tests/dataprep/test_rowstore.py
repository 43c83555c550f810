"""Rows on disk (issue 18): the memory-mapped Arrow store, the lazy splits, processes."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from ftc.dataprep import arrowstore, near, prepare_for_run
from ftc.dataprep.check import check_files
from ftc.dataprep.settings import DataSettings
from ftc.dataprep.split import _round, assign_splits

from .conftest import chat, distinct_rows, make_lock, write_jsonl


def test_store_round_trip_across_batches_and_remaps(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(arrowstore, "BATCH_ROWS", 7)
    monkeypatch.setattr(arrowstore, "REMAP_BYTES", 100)  # re-open the map all the time
    rows = [(f"row {i} é \u4e2d" * (i % 5), None if i % 3 else f"orig {i}") for i in range(60)]
    writer = arrowstore.TextWriter(tmp_path / "t.arrow", ("text", "orig"))
    assert [writer.append(*r) for r in rows] == list(range(60))
    reader = writer.finish()
    assert len(reader) == 60 and len(reader.starts) == 60 // 7 + 2
    assert list(reader.scan()) == [t for t, _ in rows]
    assert list(reader.scan(1, 10, 20)) == [o for _, o in rows[10:20]]
    order = [59, 3, 4, 5, 40, 0, 0]
    assert list(reader.take(order)) == [rows[i][0] for i in order]
    assert [reader.get(i, 1) for i in order] == [rows[i][1] for i in order]
    reader.close()


def test_workspace_is_removed_when_closed_or_collected(tmp_path: Path):
    space = arrowstore.Workspace(tmp_path / "cache")
    (space.new_file("x")).write_text("x")
    assert space.path.parent == tmp_path / "cache" and space.path.is_dir()
    space.close()
    assert list((tmp_path / "cache").iterdir()) == []
    other = arrowstore.Workspace(tmp_path)
    path = other.path
    del other
    assert not path.exists()


def test_splits_read_like_lists(tmp_path: Path):
    rows = distinct_rows(40)
    write_jsonl(tmp_path / "train.jsonl", [*rows, rows[3], "{bad"])
    result = check_files([str(tmp_path / "train.jsonl")], DataSettings(split=None))
    train = result.splits["train"]
    assert len(train) == 41 and bool(train)
    listed = list(train)
    assert [ex.data for ex in listed] == [*rows, rows[3]]
    assert train[0].data == rows[0] and train[-1].line == 41 and train[5].source.endswith(":6")
    assert [ex.line for ex in train[2:5]] == [3, 4, 5] and len(train[2:5]) == 3
    assert {ex.split for ex in train} == {"train"}
    assert [r["reason"] for r in result.rejected] == ["invalid_json"]
    folder = result.workspace.path
    assert folder.is_dir()
    result.close()
    assert not folder.exists()


def test_prepare_leaves_no_row_files(tmp_path: Path):
    write_jsonl(tmp_path / "train.jsonl", distinct_rows(50))
    prepared = prepare_for_run(make_lock(["train.jsonl"]), tmp_path, tmp_path / "out",
                               cache_dir=tmp_path / "cache")
    assert prepared.train.is_file()
    left = [p.name for p in tmp_path.rglob(".ftc-data-*")]
    assert left == []


def _texts(n: int) -> list[str]:
    rng = random.Random(5)
    words = [f"w{k}" for k in range(300)]
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(10, 90))) for _ in range(n)]
    for k in range(0, n - 1, 17):  # near copies: one character changed
        t = texts[k]
        texts[k + 1] = t[:5] + "x" + t[6:]
    return texts


def test_gram_hashing_on_two_processes_equals_one(monkeypatch):
    monkeypatch.setattr(near, "_BATCH", 50)
    texts = _texts(400)
    one = near.candidate_pairs(texts, procs=1)
    two = near.candidate_pairs(texts, procs=2)
    assert len(one) >= 20 and np.array_equal(one, two)
    members = list(range(0, 400, 2)) + list(range(1, 400, 2))
    assert np.array_equal(near.candidate_pairs(texts, members, procs=2),
                          near.candidate_pairs(texts, members, procs=1))


def test_outputs_are_the_same_bytes_on_one_and_two_processes(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(near, "_BATCH", 40)
    texts = _texts(300)
    rows = [chat(t[:40] or "q", t) for t in texts] + [chat("again", "same")] * 2
    write_jsonl(tmp_path / "train.jsonl", rows)
    outputs = []
    for procs in ("1", "2"):
        monkeypatch.setenv("FTC_DATA_PROCS", procs)
        out = tmp_path / f"out{procs}"
        prepared = prepare_for_run(make_lock(["train.jsonl"]), tmp_path, out)
        assert prepared.report["duplicates"]["near"] >= 10
        outputs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert outputs[0] == outputs[1]


def _reference_split(groups, strata, fractions, seed):
    """The dealing loop as it was before the numpy version (one Python list per group)."""
    members: dict = {}
    for i, g in enumerate(groups):
        members.setdefault(g, []).append(i)
    by_stratum: dict = {}
    for g, items in members.items():
        key = strata[items[0]]
        by_stratum.setdefault("" if key is None else f"={key}", []).append(g)
    out = ["train"] * len(groups)
    for key in sorted(by_stratum):
        group_ids = sorted(by_stratum[key], key=lambda g: members[g][0])
        random.Random(f"ftc-split:{seed}:{key}").shuffle(group_ids)
        rows = sum(len(members[g]) for g in group_ids)
        want = {s: _round(rows * fractions.get(s, 0.0)) for s in ("test", "validation")}
        have = {"test": 0, "validation": 0}
        for g in group_ids:
            target = next((s for s in ("test", "validation") if have[s] < want[s]), "train")
            if target != "train":
                have[target] += len(members[g])
            for i in members[g]:
                out[i] = target
    return out


def test_numpy_split_deals_exactly_like_the_loop():
    rng = random.Random(11)
    for trial in range(30):
        n = rng.randint(1, 300)
        groups = [rng.randint(0, max(1, n // rng.randint(1, 4))) for _ in range(n)]
        labels = [None] if trial % 3 == 0 else ["a", "b", "c"]
        strata = [rng.choice(labels) for _ in range(n)]
        test = rng.choice([0.0, 0.1, 0.3])
        fractions = {"train": 1 - test - 0.1, "validation": 0.1, "test": test}
        assert assign_splits(groups, strata, fractions, trial) == \
            _reference_split(groups, strata, fractions, trial)


def test_without_pyarrow_the_rows_stay_in_memory_with_the_same_outputs(tmp_path: Path,
                                                                       monkeypatch):
    from ftc.dataprep import pipeline

    texts = _texts(120)
    write_jsonl(tmp_path / "train.jsonl", [chat(t[:30] or "q", t) for t in texts])
    outputs = []
    for store in ("arrow", "memory"):
        if store == "memory":
            monkeypatch.setattr(pipeline, "workspace_of", lambda folder: None)
        out = tmp_path / store
        prepare_for_run(make_lock(["train.jsonl"]), tmp_path, out)
        outputs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert outputs[0] == outputs[1] and b"near_duplicate" in outputs[0]["rejected.jsonl"]
