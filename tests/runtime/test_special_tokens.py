"""model.special_tokens / added_tokens / eot_tokens on the real tokenizer and model, and
evals/saves per epoch resolved at run time when the compiler could not count rows."""

from __future__ import annotations

from pathlib import Path

from ftc.runtime.run_lock import RunLock


def _lock(tiny_model: Path, **model) -> RunLock:
    values = {"name": "tok", "model": {"base": str(tiny_model), **model},
              "training": {"batch_size": 8, "evals_per_epoch": 4, "saves_per_epoch": 2,
                           "eval": {"strategy": "steps"}, "save": {"strategy": "steps"}}}
    return RunLock(path=tiny_model.parent / "recipe.lock.yaml", values=values)


def test_tokens_are_added_and_the_embeddings_grow(tiny_model):
    from ftc.runtime.model_loading import load_model, load_tokenizer

    lock = _lock(tiny_model, special_tokens={"pad": "<|newpad|>", "eos": "<|im_end|>"},
                 added_tokens=["<tool>", "</tool>"], eot_tokens=["<|eot|>"])
    tokenizer = load_tokenizer(lock)
    before = len(load_tokenizer(_lock(tiny_model)))
    assert len(tokenizer) == before + 4  # pad, two added, eot; eos already there
    assert tokenizer.pad_token == "<|newpad|>" and tokenizer.eos_token == "<|im_end|>"
    assert tokenizer.tokenize("<tool>x</tool>")[0] == "<tool>"  # one token, never split
    model = load_model(lock)
    assert model.get_input_embeddings().weight.shape[0] == len(tokenizer)
    assert model.config.pad_token_id == tokenizer.pad_token_id
    eot = tokenizer.convert_tokens_to_ids("<|eot|>")
    assert model.generation_config.eos_token_id == [tokenizer.eos_token_id, eot]


def test_a_missing_pad_token_is_the_eos_token_and_said(tiny_model, tmp_path, capsys):
    from transformers import AutoTokenizer

    from ftc.runtime.model_loading import load_tokenizer

    plain = AutoTokenizer.from_pretrained(tiny_model)
    plain.pad_token = None
    plain.save_pretrained(tmp_path / "nopad")
    (tmp_path / "nopad" / "config.json").write_bytes((tiny_model / "config.json").read_bytes())
    lock = _lock(tiny_model, tokenizer=str(tmp_path / "nopad"))
    tokenizer = load_tokenizer(lock)
    assert tokenizer.pad_token == tokenizer.eos_token == "<|im_end|>"
    assert "the tokenizer has no pad token: using its eos token '<|im_end|>'" in \
        capsys.readouterr().out


def test_per_epoch_cadence_resolved_from_the_prepared_rows(tiny_model, tmp_path):
    from transformers import TrainingArguments

    from ftc.runtime.training_args import apply_per_epoch

    args = TrainingArguments(output_dir=str(tmp_path), eval_strategy="epoch",
                             save_strategy="epoch", use_cpu=True, report_to=[])
    apply_per_epoch(args, _lock(tiny_model), train_rows=100)  # 13 steps per epoch
    assert (args.eval_strategy, args.eval_steps) == ("steps", 3)
    assert (args.save_strategy, args.save_steps) == ("steps", 6)
