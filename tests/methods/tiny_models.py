"""Tiny models for the method tests: one tokenizer, a student, a larger teacher.

Built like ftc.runtime.tiny_model (LlamaConfig + a BPE tokenizer trained on
the ticket text, saved with save_pretrained), then given a short language-model
warm-up on the tickets with a plain torch loop, so that prefix tuning, adapters,
DPO and GRPO start from a base whose samples look like tickets instead of noise.
The warm-up is test scaffolding (fast, no trainer); the methods under test run
through the real TRL/PEFT trainers.
"""

from __future__ import annotations

import random
from pathlib import Path

from ftc.runtime import example_data
from ftc.runtime.tiny_model import TinySpec, build_model, train_tokenizer

STUDENT = TinySpec(hidden_size=64, layers=2, heads=2, kv_heads=1, intermediate_size=176,
                   vocab_size=768, max_positions=512, seed=0)
TEACHER = TinySpec(hidden_size=64, layers=3, heads=2, kv_heads=1, intermediate_size=176,
                   vocab_size=768, max_positions=512, seed=1)


def make_tokenizer():
    examples = list(example_data.generate(600, 11))
    return train_tokenizer(example_data.texts(examples), STUDENT.vocab_size)


def warm_up(model, tokenizer, steps: int, seed: int, lr: float = 3e-3, batch: int = 16) -> None:
    """A few AdamW steps of next-token prediction on chat-formatted tickets."""
    import torch

    torch.manual_seed(seed)
    rng = random.Random(seed)
    texts = [tokenizer.apply_chat_template(ex["messages"], tokenize=False)
             for ex in example_data.generate(steps * batch, seed + 100)]
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    for step in range(steps):
        chunk = texts[step * batch:(step + 1) * batch]
        rng.shuffle(chunk)
        enc = tokenizer(chunk, return_tensors="pt", padding=True, truncation=True, max_length=160)
        labels = enc["input_ids"].masked_fill(enc["attention_mask"] == 0, -100)
        loss = model(**enc, labels=labels).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
    model.eval()


def save(model, tokenizer, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def make_pair(root: Path, student_steps: int = 60, teacher_steps: int = 100) -> dict[str, Path]:
    """{'tokenizer'-sharing 'student' (warmed up), 'raw' (random init), 'teacher'} dirs."""
    tokenizer = make_tokenizer()
    raw = build_model(tokenizer, STUDENT)
    out = {"raw": save(raw, tokenizer, root / "student-raw")}
    student = build_model(tokenizer, STUDENT)
    warm_up(student, tokenizer, student_steps, seed=1)
    out["student"] = save(student, tokenizer, root / "student")
    teacher = build_model(tokenizer, TEACHER)
    warm_up(teacher, tokenizer, teacher_steps, seed=2)
    out["teacher"] = save(teacher, tokenizer, root / "teacher")
    return out
