"""Task metrics, examples and task detection: pure Python over known answers (sacrebleu and
rouge-score for the text metrics, never stand-ins)."""

from __future__ import annotations

import pytest

from ftc.evaluation import scoring
from ftc.evaluation.examples import detect_task, examples_of, label_of, to_example


def chat(user: str, answer: str) -> dict:
    return {"messages": [{"role": "user", "content": user},
                         {"role": "assistant", "content": answer}]}


def test_labels_are_normalised_and_found_by_the_pattern():
    assert label_of("  Billing. ", None) == "billing"
    assert label_of("Category: Shipping\nReply: on its way", r"^Category: *(\w+)") == "shipping"
    assert label_of("Reply: no label here", r"^Category: *(\w+)") == ""
    assert label_of("the answer is 42!", r"\d+") == "42"  # no group: the whole match


def test_accuracy_and_macro_f1_by_hand():
    gold = ["a", "a", "b", "c"]
    predicted = ["a", "b", "b", "x"]
    assert scoring.accuracy(predicted, gold) == 0.5
    # F1 per class: a = 2/3, b = 2/3, c = 0 -> mean 4/9
    assert scoring.macro_f1(predicted, gold) == pytest.approx(4 / 9)
    assert scoring.macro_f1(gold, gold) == 1.0


def test_score_uses_the_label_pattern_for_label_metrics_only():
    refs = ["Category: billing\nReply: sorry", "Category: account\nReply: done"]
    outs = ["Category: Billing\nReply: something else", "Category: returns\nReply: done"]
    values = scoring.score(["accuracy", "f1", "exact_match", "bleu", "rouge_l"], outs, refs,
                           r"^Category: *(\w+)")
    assert values["accuracy"] == 0.5
    assert values["exact_match"] == 0.0  # whole answers differ
    assert 0.0 < values["rouge_l"] < 1.0 and 0.0 <= values["bleu"] < 1.0
    same = scoring.score(["bleu", "rouge_l"], refs, refs)
    assert same["bleu"] == pytest.approx(1.0) and same["rouge_l"] == pytest.approx(1.0)


def test_bleu_and_rouge_l_match_the_libraries():
    import sacrebleu
    from rouge_score import rouge_scorer

    out, ref = ["the cat sat on the mat today"], ["the cat sat on a mat today"]
    assert scoring.bleu(out, ref) == pytest.approx(sacrebleu.corpus_bleu(out, [ref]).score / 100)
    expected = rouge_scorer.RougeScorer(["rougeL"]).score(ref[0], out[0])["rougeL"].fmeasure
    assert scoring.rouge_l(out, ref) == pytest.approx(expected)


def test_examples_from_every_format():
    msg = to_example({"messages": [{"role": "system", "content": "s"},
                                   {"role": "user", "content": "q"},
                                   {"role": "assistant", "content": "a"}]})
    assert msg.prompt[-1] == {"role": "user", "content": "q"} and msg.reference == "a"
    comp = to_example({"prompt": "2+2=", "completion": "4"})
    assert (comp.prompt, comp.reference) == ("2+2=", "4")
    pair = to_example({"prompt": [{"role": "user", "content": "q"}],
                       "chosen": [{"role": "assistant", "content": "good"}],
                       "rejected": [{"role": "assistant", "content": "bad"}]})
    assert (pair.reference, pair.rejected) == ("good", "bad")
    assert to_example({"prompt": "only a prompt"}).reference is None
    assert to_example({"messages": [{"role": "assistant", "content": "no question"}]}) is None


def test_the_evaluated_subset_is_fixed_by_the_seed():
    records = [chat(f"q{i}", f"a{i}") for i in range(50)]
    first, again = examples_of(records, 10, seed=3), examples_of(records, 10, seed=3)
    assert [e.index for e in first] == [e.index for e in again]
    assert len(first) == 10 and [e.index for e in examples_of(records, 10, seed=4)] != \
        [e.index for e in first]
    assert len(examples_of(records, 100, seed=3)) == 50


def test_auto_task_detection():
    labels = [chat(f"ticket {i}", f"Category: {'ab'[i % 2]}") for i in range(10)]
    assert detect_task("messages", labels, None, 20)[0] == "classification"
    free = [chat(f"q{i}", f"a different answer {i}") for i in range(10)]
    assert detect_task("messages", free, None, 20)[0] == "chat"
    completion = [{"prompt": f"p{i}", "completion": f"c{i}"} for i in range(10)]
    assert detect_task("completion", completion, None, 20)[0] == "generation"
    assert detect_task("preference", [], None, 20)[0] == "preference"
    long = [chat(f"t{i}", f"Category: {'ab'[i % 2]}\nReply: text {i}") for i in range(10)]
    assert detect_task("messages", long, None, 20)[0] == "chat"  # whole answers all differ
    task, why = detect_task("messages", long, r"^Category: *(\w+)", 20)
    assert task == "classification" and "2 distinct answers in 10" in why
