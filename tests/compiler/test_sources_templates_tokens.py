"""Compiler side of issue 12: source objects in the lock, the chat template table and
files, tokens checked against a local tokenizer, the pad default, and evals/saves per
epoch resolved from counted rows (or left to the runtime, said)."""

from __future__ import annotations

import json

import pytest

from ftc.compiler import compile_recipe, write_bundle
from ftc.compiler.chat_template_check import (
    has_generation_marker,
    lacks_system_role,
    template_error,
)
from ftc.tables import CHAT_TEMPLATES, chat_template


def _compiled(recipe, *overrides):
    result = compile_recipe(recipe, list(overrides))
    assert result.resolved is not None, result.diagnostics
    return result


@pytest.mark.parametrize("name", CHAT_TEMPLATES)
def test_each_shipped_template_compiles_marks_the_assistant_and_renders(name):
    import jinja2

    text = chat_template(name)
    assert template_error(text) is None and has_generation_marker(text)
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True,
                             extensions=["jinja2.ext.loopcontrols"])
    env.globals["raise_exception"] = lambda m: (_ for _ in ()).throw(ValueError(m))
    plain = text.replace("{% generation %}", "").replace("{% endgeneration %}", "")
    out = env.from_string(plain).render(
        messages=[{"role": "user", "content": "USERTEXT"},
                  {"role": "assistant", "content": "ANSWERTEXT"}],
        bos_token="<s>", eos_token="</s>", add_generation_prompt=False)
    assert out.index("USERTEXT") < out.index("ANSWERTEXT")


def test_templates_without_a_system_role_are_known():
    missing = {n for n in CHAT_TEMPLATES if lacks_system_role(chat_template(n))}
    assert missing == {"mistral", "gemma"}


def test_source_objects_keep_their_options_and_relative_paths(write, tmp_path):
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "data" / "a.jsonl").write_text(json.dumps({"instruction": "i", "output": "o"})
                                                 + "\n")
    recipe = write("r.yaml", """\
        name: src
        model: {base: org/model}
        method: {kind: lora}
        data:
          train:
            - {path: data/a.jsonl, type: alpaca, split: "train[:50%]", weight: 0.5}
            - data/a.jsonl
        """)
    result = _compiled(recipe)
    train = result.values["data"]["train"]
    assert train[0]["path"] == str(tmp_path / "data" / "a.jsonl") and train[0]["weight"] == 0.5
    assert result.values["data"]["format"] == "messages"  # from the alpaca type
    bundle = write_bundle(result, tmp_path / "bundle")
    lock = (bundle / "recipe.lock.yaml").read_text()
    assert '{"path": "../data/a.jsonl", "split": "train[:50%]", "type": "alpaca"' in lock
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert list(manifest["inputs"]) == ["../data/a.jsonl"]


def test_chat_template_alias_and_file(write, recipe, tmp_path):
    result = _compiled(recipe, "model.chat_template=model")
    assert result.values["model"]["chat_template"] == "tokenizer"
    assert result.provenance["model.chat_template"].endswith("(alias model)")
    path = write("templates/mine.jinja", chat_template("chatml"))
    result = _compiled(recipe, f"model.chat_template={path}")
    assert result.values["model"]["chat_template"] == chat_template("chatml")
    assert result.provenance["model.chat_template"].endswith(f"(file {path})")
    assert [d.rule for d in result.diagnostics] == []


def _local_tokenizer(root, pad: str | None):
    root.mkdir(parents=True, exist_ok=True)
    config = {"eos_token": "<|im_end|>", "bos_token": "<s>"}
    if pad:
        config["pad_token"] = pad
    (root / "tokenizer_config.json").write_text(json.dumps(config))
    (root / "tokenizer.json").write_text(json.dumps({
        "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "<tool>": 2}},
        "added_tokens": [{"content": "<|im_end|>"}, {"content": "<s>"}]}))
    return root


def test_pad_default_from_a_local_tokenizer_is_stated(recipe, tmp_path):
    _local_tokenizer(tmp_path / "models" / "tiny-llama", pad=None)
    result = _compiled(recipe)
    assert result.values["model"]["special_tokens"]["pad"] == "<|im_end|>"
    assert result.provenance["model.special_tokens.pad"].startswith("rule:pad-from-eos")


def test_new_tokens_checked_against_the_local_vocabulary(recipe, tmp_path):
    _local_tokenizer(tmp_path / "models" / "tiny-llama", pad="<s>")
    assert "FTC183" not in [d.rule for d in _compiled(
        recipe, "model.added_tokens=[<tool>]", "model.eot_tokens=[<|im_end|>]").diagnostics]
    [diag] = [d for d in _compiled(recipe, "model.added_tokens=[<tool>, <new>]").diagnostics
              if d.rule == "FTC183"]
    assert "'<new>' not in the tokenizer's vocabulary" in diag.message
    assert "FTC183" not in [d.rule for d in _compiled(
        recipe, "model.added_tokens=[<new>]",
        "method.lora.modules_to_save=[embed_tokens, lm_head]").diagnostics]


def test_new_tokens_with_a_hub_tokenizer_say_they_were_not_checked(recipe):
    found = _compiled(recipe, "model.base=org/model",
                      "model.special_tokens={eos: <eos>}").diagnostics
    [diag] = [d for d in found if d.rule == "FTC188"]
    assert "the tokenizer is not local, so ftc could not check" in diag.message
    assert diag.severity == "warning" and "FTC183" not in [d.rule for d in found]


def test_a_new_pad_token_needs_no_trained_embedding(recipe, tmp_path):
    """Padding is masked from attention and loss, so its new row never needs to train."""
    _local_tokenizer(tmp_path / "models" / "tiny-llama", pad=None)
    found = [d.rule for d in _compiled(recipe, "model.special_tokens={pad: <newpad>}").diagnostics]
    assert "FTC183" not in found and "FTC188" not in found


def test_evals_and_saves_per_epoch_from_counted_rows(recipe, tmp_path):
    rows = "".join(json.dumps({"prompt": f"p{i}", "completion": f"c{i}"}) + "\n"
                   for i in range(200))
    (tmp_path / "data" / "train.jsonl").write_text(rows)
    result = _compiled(recipe, "training.evals_per_epoch=4", "training.saves_per_epoch=2",
                       "training.batch_size=16")
    # 200 rows, 80% train = 160, batch 16 = 10 steps per epoch
    assert result.values["training"]["eval"] == {"strategy": "steps", "every": 2}
    assert result.values["training"]["save"]["every"] == 5
    assert result.provenance["training.eval.every"] == (
        "rule:evals_per_epoch (160 training rows / batch 16 = 10 steps per epoch)")


def test_per_epoch_left_to_the_runtime_when_rows_cannot_be_counted(recipe, tmp_path):
    (tmp_path / "folder").mkdir()
    result = _compiled(recipe, "data.train=[{path: folder}]", "training.evals_per_epoch=3")
    assert "every" not in result.values["training"]["eval"]
    assert result.values["training"]["evals_per_epoch"] == 3
    assert result.provenance["training.evals_per_epoch"] == (
        "--set (steps resolved at run time: the training rows cannot be counted here)")
    assert result.values["training"]["eval"]["strategy"] == "steps"


def test_unknown_source_type_is_a_schema_error(recipe):
    result = compile_recipe(recipe, ["data.train=[{path: a.jsonl, type: alpacca}]"])
    [diag] = [d for d in result.diagnostics if d.is_error]
    assert diag.rule == "FTC012" and diag.hint == "did you mean 'alpaca'?"
    assert diag.message.startswith("data.train[0].type must be one of")
