"""Preference accuracy: how often a model prefers the chosen answer to the rejected one.

A causal LM prefers the answer it gives the higher log-likelihood (summed over the
answer's tokens, as DPO scores answers); a reward model (sequence classifier with
one output) the answer it scores higher. Base and tuned are measured alike, so the
summary can show what training changed. Each process scores its share.
"""

from __future__ import annotations

from ftc.evaluation.examples import Example
from ftc.evaluation.generation import eval_mode, gather_shares, my_share, render_prompt


def preference_accuracy(model, tokenizer, examples: list[Example], batch_size: int,
                        max_length: int, classifier: bool = False) -> float | None:
    """Fraction of pairs (ties count half) where chosen scores above rejected.

    classifier: the model is a reward model (one score per sequence), else a causal LM."""
    pairs = [e for e in examples if e.reference is not None and e.rejected is not None]
    if not pairs:
        return None
    mine, _ = my_share(pairs)
    wins = gather_shares(_wins(model, tokenizer, mine, batch_size, max_length, classifier),
                         len(pairs))
    return sum(wins) / len(wins)


def _wins(model, tokenizer, pairs: list[Example], batch_size: int, max_length: int,
          classifier: bool):
    import torch

    out = []
    with eval_mode(model), torch.no_grad():
        for start in range(0, len(pairs), batch_size):
            batch = pairs[start:start + batch_size]
            chosen = _scores(model, tokenizer, [(e.prompt, e.reference) for e in batch],
                             max_length, classifier)
            rejected = _scores(model, tokenizer, [(e.prompt, e.rejected) for e in batch],
                               max_length, classifier)
            out += [1.0 if c > r else 0.5 if c == r else 0.0
                    for c, r in zip(chosen, rejected, strict=True)]
    return out


def _scores(model, tokenizer, items, max_length: int, classifier: bool) -> list[float]:
    """Reward scores, or summed log-probabilities of each answer after its prompt."""
    import torch

    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None \
        else tokenizer.eos_token_id
    rows, starts = [], []
    for prompt, answer in items:
        text, templated = render_prompt(tokenizer, prompt)
        head = tokenizer(text, add_special_tokens=not templated)["input_ids"]
        full = tokenizer(text + answer, add_special_tokens=not templated)["input_ids"]
        cut = max(0, len(full) - max_length)
        rows.append(full[cut:])
        starts.append(max(1, len(head) - cut))
    width = max(len(r) for r in rows)
    device = next(model.parameters()).device
    ids = torch.tensor([r + [pad] * (width - len(r)) for r in rows], device=device)
    mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows], device=device)
    if classifier:
        return model(input_ids=ids, attention_mask=mask).logits[:, 0].float().tolist()
    logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
    logp = torch.log_softmax(logits, -1).gather(-1, ids[:, 1:, None])[..., 0]
    out = []
    for i, row in enumerate(rows):
        out.append(float(logp[i, starts[i] - 1:len(row) - 1].sum()))
    return out
