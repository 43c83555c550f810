"""Task metrics over generated answers: labels (accuracy, macro F1, exact match) and text
(BLEU with sacrebleu, ROUGE-L with rouge-score).

Scores are in [0, 1] (BLEU too: sacrebleu's 0-100 divided by 100), so a table can put
them side by side. An empty output set scores nothing (no metric rather than a zero).
"""

from __future__ import annotations

from ftc.evaluation.examples import label_of, normalize


def accuracy(predicted: list[str], gold: list[str]) -> float:
    return sum(p == g for p, g in zip(predicted, gold, strict=True)) / len(gold)


def macro_f1(predicted: list[str], gold: list[str]) -> float:
    """Mean F1 over the reference classes (a prediction outside them counts as wrong)."""
    scores = []
    for label in sorted(set(gold)):
        tp = sum(p == label and g == label for p, g in zip(predicted, gold, strict=True))
        fp = sum(p == label and g != label for p, g in zip(predicted, gold, strict=True))
        fn = sum(p != label and g == label for p, g in zip(predicted, gold, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores)


def bleu(outputs: list[str], references: list[str]) -> float:
    import sacrebleu

    return sacrebleu.corpus_bleu(outputs, [references]).score / 100.0


def rouge_l(outputs: list[str], references: list[str]) -> float:
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    return sum(scorer.score(r, o)["rougeL"].fmeasure
               for o, r in zip(outputs, references, strict=True)) / len(references)


def score(metrics: list[str], outputs: list[str], references: list[str],
          label_pattern: str | None = None) -> dict[str, float]:
    """{metric: value} for the generated-answer metrics asked for."""
    if not references:
        return {}
    out: dict[str, float] = {}
    predicted = [label_of(o, label_pattern) for o in outputs]
    gold = [label_of(r, label_pattern) for r in references]
    if "accuracy" in metrics:
        out["accuracy"] = accuracy(predicted, gold)
    if "f1" in metrics:
        out["f1"] = macro_f1(predicted, gold)
    if "exact_match" in metrics:
        out["exact_match"] = accuracy([normalize(o) for o in outputs],
                                      [normalize(r) for r in references])
    if "bleu" in metrics:
        out["bleu"] = bleu(outputs, references)
    if "rouge_l" in metrics:
        out["rouge_l"] = rouge_l(outputs, references)
    return out
