"""The data benchmark's generator and scorer (benchmarks/data_gen.py): what it plants is
what it claims, and the score counts what the pipeline really found."""

from __future__ import annotations

import json

from benchmarks.data_gen import generate, score


def _pairs(truth):
    return zip(truth.kind, truth.family, strict=True)


def test_generator_plants_realistic_rows_and_copies_on_both_sides(tmp_path):
    path = tmp_path / "train.jsonl"
    truth = generate(path, 2000, seed=3)
    assert truth.kind.count("exact") == 40 and truth.kind.count("near") == 40
    assert len(path.read_text().splitlines()) == 2000
    assert min(truth.length) >= 30 and max(truth.length) <= 2100
    assert sum(n < 200 for n in truth.length) > 0.3 * 2000
    first = {f: i for i, (k, f) in enumerate(_pairs(truth)) if k == "base"}
    copies = [(i, first[f]) for i, (k, f) in enumerate(_pairs(truth))
              if k != "base"]
    assert any(i < o for i, o in copies) and any(i > o for i, o in copies)
    words = " ".join(json.loads(line)["messages"][0]["content"]
                     for line in path.read_text().splitlines()[:200]).lower().split()
    assert words.count("the") > 50  # frequent words recur, as in real text


def _rejected(pairs):
    return [{"reason": reason, "source": f"t.jsonl:{a}", "detail": f"x of t.jsonl:{b} (y)"}
            for reason, a, b in pairs]


def test_score_counts_found_pairs_and_wrong_ones(tmp_path):
    truth = generate(tmp_path / "t.jsonl", 500, seed=4)
    first = {f: i + 1 for i, (k, f) in enumerate(_pairs(truth)) if k == "base"}
    planted = [(("exact_duplicate" if k == "exact" else "near_duplicate"), i + 1, first[f])
               for i, (k, f) in enumerate(_pairs(truth)) if k != "base"]
    perfect = score(truth, _rejected(planted))
    assert (perfect["exact_recall"], perfect["near_recall"], perfect["near_precision"]) == (
        1.0, 1.0, 1.0)
    near_only = [p for p in planted if p[0] == "near_duplicate"]
    wrong = [("near_duplicate", near_only[0][1], first[truth.family[near_only[0][1] - 1]] % 500
              + 1)]
    missed = score(truth, _rejected(near_only[1:] + wrong))
    assert missed["near_recall"] < 1.0 and missed["exact_recall"] == 0.0
    assert missed["near_precision"] < 1.0
