"""Distillation: the loss itself, the student's KL to the teacher falling, the teacher
checks, and the generate step that turns a prompt file into synthetic SFT data."""

from __future__ import annotations

import json

import pytest
import torch

from ftc.runtime.methods.distill import distillation_loss
from ftc.runtime.run_lock import RunFailure

from .conftest import compile_lock, merge, prepared_job, recipe, write_jsonl


def _logits(seed: int, shape=(2, 5, 11)) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def test_loss_is_cross_entropy_at_alpha_zero_and_kl_at_alpha_one():
    student, teacher = _logits(1), _logits(2)
    labels = torch.tensor([[-100, 3, 4, 5, -100], [-100, -100, 1, 2, 3]])
    ce, _, _, n = distillation_loss(student, teacher, labels, temperature=2.0, alpha=0.0)
    mask = labels[:, 1:] != -100
    expected = torch.nn.functional.cross_entropy(student[:, :-1][mask], labels[:, 1:][mask])
    assert n.item() == int(mask.sum())
    assert torch.allclose(ce, expected)
    kd, kd_sum, _, _ = distillation_loss(student, teacher, labels, temperature=2.0, alpha=1.0)
    p_t = torch.softmax(teacher[:, :-1][mask] / 2.0, -1)
    log_p_s = torch.log_softmax(student[:, :-1][mask] / 2.0, -1)
    kl = (p_t * (p_t.log() - log_p_s)).sum(-1) * 4.0  # T^2 keeps gradients comparable
    assert torch.allclose(kd, kl.mean()) and torch.allclose(kd_sum, kl.sum())
    same, *_ = distillation_loss(teacher, teacher, labels, temperature=2.0, alpha=1.0)
    assert same.abs().item() < 1e-6


def _kl_to_teacher(student, teacher, tokenizer, records) -> float:
    """Mean KL(teacher || student) per answer token at temperature 1."""
    total, tokens = 0.0, 0
    for rec in records:
        enc = tokenizer.apply_chat_template(rec["messages"], return_dict=True,
                                            return_assistant_tokens_mask=True,
                                            return_tensors="pt")
        labels = enc["input_ids"].masked_fill(enc["assistant_masks"] == 0, -100)
        with torch.no_grad():
            s = student(input_ids=enc["input_ids"]).logits
            t = teacher(input_ids=enc["input_ids"]).logits
        _, kd_sum, _, n = distillation_loss(s, t, labels, temperature=1.0, alpha=1.0)
        total, tokens = total + kd_sum.item(), tokens + int(n)
    return total / tokens


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_students_kl_to_the_teacher_falls(tmp_path, models, data):
    from transformers import AutoModelForCausalLM

    from ftc.runtime.methods.run import train_job

    lock, job, run_dir = prepared_job(tmp_path, recipe(
        "distill", models["raw"], {"kind": "distill", "tuning": "full",
                                   "distill": {"teacher": str(models["teacher"]),
                                               "temperature": 2.0, "alpha": 0.8}},
        data["tickets-train"], data["tickets-val"], learning_rate=3e-3, max_steps=12))
    trainer = job.stages[0].trainer
    teacher = AutoModelForCausalLM.from_pretrained(models["teacher"]).eval()
    records = [json.loads(line) for line in data["tickets-val"].read_text().splitlines()][:8]
    tokenizer = trainer.processing_class
    before = _kl_to_teacher(trainer.model.eval(), teacher, tokenizer, records)
    result = train_job(job, run_dir)
    after = _kl_to_teacher(trainer.model.eval(), teacher, tokenizer, records)
    assert after < 0.8 * before, (before, after)
    assert trainer.teacher is not trainer.model
    assert not any(p.requires_grad for p in trainer.teacher.parameters())
    kl_logged = [h["distill_kl"] for h in trainer.state.log_history if "distill_kl" in h]
    assert kl_logged[-1] < kl_logged[0]
    assert (run_dir / "model" / "config.json").is_file() and "model" in result.outputs


@pytest.mark.slow
def test_a_teacher_with_another_vocabulary_is_refused(tmp_path, models, data):
    from transformers import LlamaConfig, LlamaForCausalLM

    other = tmp_path / "other-teacher"
    LlamaForCausalLM(LlamaConfig(vocab_size=500, hidden_size=32, intermediate_size=64,
                                 num_hidden_layers=1, num_attention_heads=2,
                                 num_key_value_heads=1)).save_pretrained(other)
    lock, job, _ = prepared_job(tmp_path, recipe(
        "distill-vocab", models["student"],
        {"kind": "distill", "distill": {"teacher": str(other)}},
        data["tickets-train"], data["tickets-val"]))
    with pytest.raises(RunFailure) as failure:
        job.stages[0].trainer  # noqa: B018 - building the stage loads the teacher
    (diag,) = failure.value.diagnostics
    assert diag.rule == "FTC512" and diag.path.endswith("recipe.lock.yaml") and diag.line > 1
    assert "500" in diag.message


# ------------------------------------------------------------------ generate


def _generate_lock(tmp_path, models, data, prompts=None, **generate):
    block = {"prompts": str(prompts or data["prompts"]),
             "output": str(tmp_path / "synthetic" / "teacher.jsonl"),
             "max_new_tokens": 12, **generate}
    return compile_lock(tmp_path, recipe(
        "distill-gen", models["student"],
        {"kind": "distill", "distill": {"teacher": str(models["teacher"]), "generate": block}},
        data["tickets-train"], data["tickets-val"]))


@pytest.mark.slow
def test_generate_writes_the_teachers_answers_as_synthetic_sft_data(tmp_path, models, data):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from ftc.runtime.methods import synthetic

    lock = _generate_lock(tmp_path, models, data)
    made = synthetic.generate_synthetic(lock)
    assert not made.reused and made.rows == 12
    rows = [json.loads(line) for line in made.path.read_text().splitlines()]
    prompts = [json.loads(line)["prompt"] for line in data["prompts"].read_text().splitlines()]
    assert [r["messages"][:-1] for r in rows] == prompts
    # the answers are the teacher's own greedy completions
    tokenizer = AutoTokenizer.from_pretrained(models["teacher"])
    teacher = AutoModelForCausalLM.from_pretrained(models["teacher"]).eval()
    ids = tokenizer.apply_chat_template(prompts[0], add_generation_prompt=True,
                                        return_tensors="pt", return_dict=True)
    with torch.no_grad():
        out = teacher.generate(**ids, max_new_tokens=12, do_sample=False)
    direct = tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
    assert rows[0]["messages"][-1] == {"role": "assistant", "content": direct.strip()}
    provenance = json.loads((tmp_path / "synthetic" / "teacher.jsonl.ftc.json").read_text())
    assert provenance["synthetic"] is True and provenance["teacher"] == lock.get(
        "method.distill.teacher") and provenance["rows"] == 12
    # same teacher, prompts and settings: reused, not generated again
    again = synthetic.generate_synthetic(lock)
    assert again.reused and again.path.read_bytes() == made.path.read_bytes()

    # the run trains on it and the data report says which rows are synthetic
    from ftc.runtime.data_loading import prepare

    with_rows = synthetic.with_synthetic(lock, made)
    prepared = prepare(with_rows, tmp_path / "prepared")
    report = synthetic.mark_synthetic(prepared.report, made)
    marked = [e for e in report["inputs"] if e.get("synthetic")]
    assert len(marked) == 1 and marked[0]["path"].endswith("teacher.jsonl")
    assert marked[0]["generator"]["teacher"] == lock.get("method.distill.teacher")
    assert all(not e.get("synthetic") for e in report["inputs"] if e is not marked[0])


@pytest.mark.slow
def test_generate_reports_bad_prompt_lines_and_writes_nothing(tmp_path, models, data):
    from ftc.runtime.methods import synthetic

    bad = write_jsonl(tmp_path / "bad-prompts.jsonl",
                      [{"prompt": "a fine prompt"}, "{not json", {"completion": "no prompt"}])
    lock = _generate_lock(tmp_path, models, data, prompts=bad)
    with pytest.raises(RunFailure) as failure:
        synthetic.generate_synthetic(lock)
    lines = sorted((d.path, d.line, d.rule) for d in failure.value.diagnostics)
    assert lines == [(str(bad), 2, "FTC514"), (str(bad), 3, "FTC514")]
    assert not (tmp_path / "synthetic").exists()

    missing = _generate_lock(tmp_path / "m", models, data, prompts=tmp_path / "nope.jsonl")
    with pytest.raises(RunFailure) as failure:
        synthetic.generate_synthetic(missing)
    (diag,) = failure.value.diagnostics
    assert diag.rule == "FTC502" and "nope.jsonl" in diag.message and diag.line > 1


@pytest.mark.slow
def test_packed_distillation_keeps_examples_apart(tmp_path, models, data):
    """Packed (padding-free) batches reach the student and the teacher with the examples'
    boundaries: the packed loss is the token-weighted loss of the examples one by one."""
    from ftc.runtime.packing import SDPA_VARLEN

    values = merge(recipe("distill-packed", models["raw"],
                          {"kind": "distill", "tuning": "full",
                           "distill": {"teacher": str(models["teacher"]), "alpha": 0.5}},
                          data["tickets-train"], max_steps=1), {"data": {"packing": True}})
    _, job, _ = prepared_job(tmp_path, values)
    trainer = job.stages[0].trainer
    for m in (trainer.model, trainer.teacher):
        assert m.config._attn_implementation == SDPA_VARLEN
    trainer.model.eval()
    batch = next(iter(trainer.get_train_dataloader()))
    bounds = batch["cu_seq_lens_q"].tolist()
    assert batch["input_ids"].shape[0] == 1 and len(bounds) > 2
    with torch.no_grad():
        packed = float(trainer.compute_loss(trainer.model, dict(batch)))
        total, tokens = 0.0, 0
        for a, b in zip(bounds, bounds[1:], strict=False):
            labels = batch["labels"][:, a:b]
            n = int((labels[:, 1:] != -100).sum())
            if n:
                one = {"input_ids": batch["input_ids"][:, a:b], "labels": labels}
                total += float(trainer.compute_loss(trainer.model, one)) * n
                tokens += n
    assert packed == pytest.approx(total / tokens, abs=1e-5)
