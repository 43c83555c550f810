"""ftc.compiler.methods_lint: the compiler-side checks of the method settings (no torch)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ftc.compiler.methods_lint import advise, check

from .conftest import write_jsonl


def _tokenizer_dir(path: Path, vocab: dict, padding: int = 0) -> Path:
    path.mkdir(parents=True)
    (path / "config.json").write_text("{}")
    tree = {"model": {"type": "BPE", "vocab": vocab, "merges": []}, "added_tokens": [],
            "padding": padding}  # padding differs harmlessly
    (path / "tokenizer.json").write_text(json.dumps(tree))
    return path


def _resolved(tmp_path: Path, method: dict, **extra):
    from ftc.compiler import compile_recipe

    train = write_jsonl(tmp_path / "train.jsonl", [{"messages": [
        {"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}])
    student = tmp_path / "student"
    if not student.exists():
        _tokenizer_dir(student, {"a": 0, "b": 1})
    recipe = {"name": "lint", "model": {"base": str(student)}, "method": method,
              "data": {"train": str(train)}, "hardware": {"accelerator": "cpu"}, **extra}
    path = tmp_path / "recipe.yaml"
    path.write_text(json.dumps(recipe))
    compiled = compile_recipe(path)
    assert compiled.resolved is not None, [d.text() for d in compiled.diagnostics]
    return compiled.resolved


def test_distill_teacher_with_another_tokenizer_is_an_error(tmp_path):
    other = _tokenizer_dir(tmp_path / "teacher-other", {"a": 0, "c": 1})
    same = _tokenizer_dir(tmp_path / "teacher-same", {"a": 0, "b": 1}, padding=1)
    findings = check(_resolved(tmp_path, {"kind": "distill", "distill": {"teacher": str(other)}}))
    assert [(p, "tokenizer.json" in m) for p, m, _ in findings] == [
        ("method.distill.teacher", True)]
    assert check(_resolved(tmp_path, {"kind": "distill", "distill": {"teacher": str(same)}})) == []
    hub = _resolved(tmp_path, {"kind": "distill", "distill": {"teacher": "org/big-model"}})
    assert check(hub) == []  # not local: the runtime compares vocabularies (FTC512)


def test_named_adapters_need_distinct_names_and_their_files(tmp_path):
    item = {"name": "a", "train": str(tmp_path / "missing.jsonl")}
    resolved = _resolved(tmp_path, {"kind": "adapter", "adapter": {
        "type": "ia3", "adapter_len": 4, "adapters": [item, {**item}]}})
    assert [p for p, _, _ in check(resolved)] == ["method.adapter.adapters"]
    warnings = advise(resolved)
    assert ("method.adapter.adapter_len" in [p for p, _, _ in warnings])
    assert sum("missing.jsonl" in m for _, m, _ in warnings) == 2


def test_grpo_batch_must_hold_whole_groups(tmp_path):
    def findings(batch: int):
        return check(_resolved(tmp_path, {"kind": "rlhf", "rlhf": {
            "reward_model": str(tmp_path), "num_generations": 4}},
            training={"batch_size": batch, "micro_batch_size": 2}))

    assert [p for p, _, _ in findings(6)] == ["training.batch_size"]
    assert findings(8) == []


def test_the_lint_module_imports_no_training_library():
    code = ("import sys, ftc.compiler.methods_lint; "
            "print([m for m in ('torch', 'transformers', 'trl', 'peft') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
