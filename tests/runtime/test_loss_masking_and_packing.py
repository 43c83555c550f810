"""What the loss covers: the assistant's turns (messages), the completion
(prompt/completion), and with packing each example on its own: a packed batch's
loss equals the token-weighted loss of the same examples run one by one."""

from __future__ import annotations

import pytest
import torch

from ftc.runtime.data_loading import Splits
from ftc.runtime.run_lock import load_run_lock

from .conftest import base_recipe, compile_bundle, merge

pytestmark = pytest.mark.slow

CHATS = [
    [{"role": "user", "content": "Where is order #11111?"},
     {"role": "assistant", "content": "Category: shipping\nReply: It ships today."}],
    [{"role": "user", "content": "I was charged twice."},
     {"role": "assistant", "content": "Category: billing\nReply: Refund on its way."}],
    [{"role": "user", "content": "Hello, my monitor flickers all the time and I already "
                                 "restarted it twice. Please help."},
     {"role": "assistant", "content": "Category: technical\nReply: Reset it from the menu."}],
    [{"role": "user", "content": "Love the lamp!"},
     {"role": "assistant", "content": "Category: feedback\nReply: Thank you!"}],
    [{"role": "user", "content": "I cannot log in since Monday."},
     {"role": "assistant", "content": "Category: account\nReply: A reset link is on its way."}],
    [{"role": "user", "content": "The kettle arrived broken, can I send it back?"},
     {"role": "assistant", "content": "Category: returns\nReply: Yes, the label is attached."}],
]


def _trainer(workdir, tiny_model, tickets, fmt, records, **extra):
    from ftc.runtime.chat_template import apply_chat_template_setting
    from ftc.runtime.methods.sft import build_trainer
    from ftc.runtime.model_loading import load_model, load_tokenizer
    from ftc.runtime.training_args import apply_data_facts, sft_config

    bundle = compile_bundle(workdir, merge(base_recipe("mask", tiny_model, tickets), extra))
    lock = load_run_lock(bundle)
    tokenizer = load_tokenizer(lock)
    apply_chat_template_setting(lock, tokenizer)
    args = sft_config(lock, workdir / "out")
    args.report_to = []
    apply_data_facts(args, fmt, has_validation=False)
    model = load_model(lock)
    trainer = build_trainer(lock, model, tokenizer, Splits(format=fmt, train=records), args, [])
    return trainer, tokenizer


def _trained_text(tokenizer, row):
    return tokenizer.decode([i for i, lab in zip(row["input_ids"], row["labels"], strict=True)
                             if lab != -100])


def test_messages_train_only_the_assistant_turns(tmp_path, tiny_model, tickets):
    trainer, tok = _trainer(tmp_path, tiny_model, tickets, "messages",
                            [{"messages": c} for c in CHATS])
    for row, chat in zip(trainer.train_dataset, CHATS, strict=True):
        assert _trained_text(tok, row) == chat[1]["content"] + "<|im_end|>"


def test_completion_trains_only_the_completion(tmp_path, tiny_model, tickets):
    records = [{"prompt": "Ticket: I was charged twice.\nAnswer:",
                "completion": " Category: billing"}]
    trainer, tok = _trainer(tmp_path, tiny_model, tickets, "completion", records)
    row = trainer.train_dataset[0]
    assert _trained_text(tok, row) == " Category: billing" + tok.eos_token


def _loss(trainer, batch) -> tuple[float, int]:
    with torch.no_grad():
        loss = trainer.compute_loss(trainer.model, dict(batch))
    tokens = int((batch["labels"][:, 1:] != -100).sum())
    return float(loss), tokens


@pytest.mark.parametrize("attn, flattened", [("sdpa", True), ("eager", False)])
def test_packed_batch_loss_equals_the_examples_unpacked(tmp_path, tiny_model, tickets, attn,
                                                        flattened):
    """SDPA: one flattened row, one attention call per example (ftc_sdpa_varlen); eager:
    packed rows kept apart, a block-diagonal mask per row."""
    from ftc.runtime.packing import SDPA_VARLEN

    trainer, _ = _trainer(tmp_path, tiny_model, tickets, "messages",
                          [{"messages": c} for c in CHATS],
                          model={"max_seq_length": 128, "attn_implementation": attn},
                          data={"packing": True}, training={"micro_batch_size": 4})
    base = trainer.model.get_base_model()
    assert (base.config._attn_implementation == SDPA_VARLEN) == flattened
    trainer.model.eval()  # no LoRA dropout: both sides see the same weights
    batch = next(iter(trainer.get_train_dataloader()))
    assert "attention_mask" not in batch  # examples are told apart by their positions
    rows, length = batch["input_ids"].shape
    assert (rows == 1 and length > 128) if flattened else (rows >= 2 and length <= 128)

    packed, packed_tokens = _loss(trainer, batch)
    parts = []
    for row in range(rows):
        positions = batch["position_ids"][row]
        starts = (positions == 0).nonzero().flatten().tolist() + [length]
        for a, b in zip(starts, starts[1:], strict=False):
            labels = batch["labels"][row, a:b]
            if (labels[1:] != -100).any():  # an example (padding has no labels)
                one = trainer.data_collator([{"input_ids": batch["input_ids"][row, a:b].tolist(),
                                              "labels": labels.tolist()}])
                parts.append(_loss(trainer, one))
    assert len(parts) == len(CHATS)
    assert sum(n for _, n in parts) == packed_tokens
    unpacked = sum(loss * n for loss, n in parts) / packed_tokens
    assert packed == pytest.approx(unpacked, abs=1e-5)

    # the same tokens as one plain causal sequence (examples attending to each other)
    # give a different loss: the comparison above can fail
    leaky = {k: v for k, v in batch.items() if k in ("input_ids", "labels")}
    leaky["position_ids"] = torch.arange(length).expand(rows, length)
    leaky_loss, _ = _loss(trainer, leaky)
    assert abs(leaky_loss - packed) > 1e-3


def _head_rows(trainer, batch) -> tuple[float, list[torch.Tensor], set[tuple]]:
    """Loss, LoRA gradients, and the 2-D shapes the step's ops saw."""
    trainer.model.zero_grad()
    with torch.profiler.profile(record_shapes=True) as prof:
        loss = trainer.compute_loss(trainer.model, dict(batch))
        loss.backward()
    grads = [p.grad.clone() for p in trainer.model.parameters() if p.requires_grad]
    shapes = {tuple(s) for e in prof.events() for s in e.input_shapes if len(s) == 2}
    return float(loss.detach()), grads, shapes


def test_cpu_head_scores_only_labelled_positions_with_the_same_gradients(
        tmp_path, tiny_model, tickets):
    """TRL scores every position off CUDA; ftc's CPU runs score only the labelled ones
    (loss_kernels.score_label_positions_only) and train exactly the same."""
    import trl.trainer.utils as trl_utils

    from ftc.runtime.loss_kernels import score_label_positions_only

    trainer, _ = _trainer(tmp_path, tiny_model, tickets, "messages",
                          [{"messages": c} for c in CHATS], training={"micro_batch_size": 6})
    trainer.model.eval()
    batch = next(iter(trainer.get_train_dataloader()))
    rows, length = batch["input_ids"].shape
    labelled = int((batch["labels"][:, 1:] != -100).sum())
    hidden = trainer.model.get_base_model().config.hidden_size
    assert labelled < rows * (length - 1) // 2  # prompts and padding carry no labels

    assert score_label_positions_only(compiled=True) is False  # TRL's own choice restored
    assert not trl_utils._use_triton(torch.device("cpu"))
    every_loss, every_grads, every_shapes = _head_rows(trainer, batch)
    assert score_label_positions_only(compiled=False) is True
    assert trl_utils._use_triton(torch.device("cpu"))
    label_loss, label_grads, label_shapes = _head_rows(trainer, batch)

    assert (rows * (length - 1), hidden) in every_shapes
    assert (labelled, hidden) in label_shapes
    assert (rows * (length - 1), hidden) not in label_shapes
    assert label_loss == pytest.approx(every_loss, abs=1e-6)
    for a, b in zip(label_grads, every_grads, strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)
