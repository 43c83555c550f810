"""Greedy answers from the model being trained (or any causal LM), for metrics and samples.

Prompts are rendered as training renders them (the tokenizer's chat template with the
generation prompt for chat prompts, the text as is otherwise), left-padded, cut to
keep their end within max_seq_length - max_new_tokens, and answered greedily. With
several processes each answers its share and all get every answer (synced, so
sharded ZeRO-3/FSDP weights take part in every forward pass).
"""

from __future__ import annotations

import contextlib
import math

from ftc.evaluation.examples import Example


def render_prompt(tokenizer, prompt) -> tuple[str, bool]:
    """(text, has special tokens): chat prompts through the chat template."""
    if isinstance(prompt, list):
        return tokenizer.apply_chat_template(prompt, add_generation_prompt=True,
                                             tokenize=False), True
    return prompt, False


def answer(model, tokenizer, examples: list[Example], max_new_tokens: int,
           batch_size: int, max_length: int) -> list[str]:
    """Greedy answers to every example's prompt (all processes get all answers)."""
    mine, world = my_share(examples)
    outputs = _answer_local(model, tokenizer, mine, max_new_tokens, batch_size, max_length,
                            synced=world > 1)
    return gather_shares(outputs, len(examples))


def my_share(items: list) -> tuple[list, int]:
    """(this process's share of items, padded so every share has the same length; world)."""
    from accelerate import PartialState

    state = PartialState()
    world = state.num_processes
    share = math.ceil(len(items) / world) if items else 0
    mine = items[state.process_index * share:(state.process_index + 1) * share]
    return mine + items[:1] * (share - len(mine)), world  # ranks stay in step


def gather_shares(values: list, n: int) -> list:
    """Every process's share of results, in order, without the padding (see my_share)."""
    from accelerate import PartialState

    world = PartialState().num_processes
    if world == 1:
        return values[:n]
    from accelerate.utils import gather_object

    parts = gather_object([values])
    share = len(values)
    out = [v for r, part in enumerate(parts) for v in part[:max(0, n - r * share)]]
    return out[:n]


def _answer_local(model, tokenizer, examples: list[Example], max_new_tokens: int,
                  batch_size: int, max_length: int, synced: bool) -> list[str]:
    import torch

    if not examples:
        return []
    side, tokenizer.padding_side = tokenizer.padding_side, "left"
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None \
        else tokenizer.eos_token_id
    keep = max(8, max_length - max_new_tokens)
    device = next(model.parameters()).device
    outputs: list[str] = []
    try:
        with eval_mode(model), torch.no_grad():
            for start in range(0, len(examples), batch_size):
                batch = examples[start:start + batch_size]
                ids = [_prompt_ids(tokenizer, e.prompt, keep) for e in batch]
                width = max(len(i) for i in ids)
                input_ids = torch.tensor([[pad] * (width - len(i)) + i for i in ids],
                                         device=device)
                attention = torch.tensor([[0] * (width - len(i)) + [1] * len(i) for i in ids],
                                         device=device)
                generated = model.generate(
                    input_ids=input_ids, attention_mask=attention, max_new_tokens=max_new_tokens,
                    do_sample=False, pad_token_id=pad, synced_gpus=synced,
                    temperature=None, top_p=None, top_k=None)
                outputs += [t.strip() for t in tokenizer.batch_decode(
                    generated[:, width:], skip_special_tokens=True)]
    finally:
        tokenizer.padding_side = side
    return outputs


def _prompt_ids(tokenizer, prompt, keep: int) -> list[int]:
    text, templated = render_prompt(tokenizer, prompt)
    ids = tokenizer(text, add_special_tokens=not templated)["input_ids"]
    return ids[-keep:]


@contextlib.contextmanager
def eval_mode(model):
    """Dropout off and the KV cache on while answering; the training state back after."""
    training = model.training
    config = getattr(model, "config", None)
    use_cache = getattr(config, "use_cache", None)
    model.eval()
    if config is not None:
        config.use_cache = True
    try:
        yield
    finally:
        if config is not None and use_cache is not None:
            config.use_cache = use_cache
        if training:
            model.train()
