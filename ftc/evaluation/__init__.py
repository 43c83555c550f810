"""Evaluation: task metrics, the base-model baseline, sample generations and alerts.

Pure modules (no torch at import; the compiler side may read `tasks`):
    tasks        which task a run evaluates and which metrics fit it (from the tables)
    settings     the lock's `evaluation:` block as EvalSettings
    examples     records -> (prompt, reference) examples, fixed subsets by seed
    scoring      accuracy / macro F1 / exact match / BLEU (sacrebleu) / ROUGE-L (rouge-score)
    alerts       loss spike, plateau, overfitting and non-finite loss detectors
    comparison   base vs tuned from metrics.jsonl, and what got worse
    trends       first/last/slope of a logged series (methods' own results)
Runtime modules (torch, transformers; imported lazily by the runtime):
    generation   greedy answers for prompts, sharded over ranks
    pairs        preference accuracy of a policy (log-likelihood) or a reward model
    callbacks    the TrainerCallbacks that run all of the above during a run
    standalone   `ftc eval`: the same evaluation on a run directory or a model
"""
