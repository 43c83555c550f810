"""Each lint rule fires on the mistake it names, and only there."""

from __future__ import annotations

import pytest

from ftc.compiler import compile_recipe
from ftc.compiler.lint_rules import REGISTRY

CASES = [
    ("FTC101", ["training.learning_rate=1e-3"]),
    ("FTC102", ["training.epochs=8"]),
    ("FTC103", ["method.lora.alpha=8"]),
    ("FTC104", ["method.lora.r=128"]),
    ("FTC105", ["training.warmup_ratio=0.3"]),
    ("FTC106", ["data.split={train: 0.9, validation: 0, test: 0.1}"]),
    ("FTC107", ["model.trust_remote_code=true"]),
    ("FTC108", ["hardware.strategy=zero2", "hardware.fsdp={sharding: full_shard}",
                "hardware.gpus=2"]),
    ("FTC109", ["method.kind=qlora", "method.quantization.compute_dtype=fp32"]),
    ("FTC110", ["hardware.gpus=3"]),
    ("FTC110", ["training.micro_batch_size=3", "training.gradient_accumulation=2",
                "training.batch_size=16"]),
    ("FTC111", ["hardware.accelerator=cpu", "training.precision=fp16"]),
    ("FTC112", ["method.dpo={beta: 0.2}"]),
    ("FTC113", ["method.kind=full", "training.learning_rate=2e-4"]),
    ("FTC114", ["method.kind=qlora", "hardware.gpus=2", "hardware.strategy=zero3"]),
    ("FTC115", ["method.kind=dpo", "data.packing=true", "data.format=preference"]),
    ("FTC116", ["training.early_stopping.enabled=true", "training.save.every=75"]),
    ("FTC117", ["method.kind=distill"]),
    ("FTC118", ["method.kind=dpo"]),
    ("FTC119", ["data.split={train: 0.8, validation: 0.3, test: 0.1}"]),
    ("FTC120", ["data.train=missing.jsonl"]),
    ("FTC121", ["hardware.offload=optimizer"]),
    ("FTC122", ["training.max_steps=100"]),
    ("FTC123", ["method.kind=prefix", "method.quantization={bits: 4}"]),
    ("FTC124", ["hardware.accelerator=cpu", "hardware.gpus=2", "hardware.strategy=fsdp"]),
    ("FTC125", ["hardware.gpu=T4", "training.precision=bf16"]),
    ("FTC126", ["method.kind=rlhf", "method.rlhf={reward_model: org/rm, num_generations: 3}"]),
    ("FTC127", ["method.kind=adapter", "method.adapter={type: ia3, adapter_len: 4}",
                "training.learning_rate=5e-3"]),
    ("FTC130", ["evaluation.task=chat", "evaluation.metrics=[preference_accuracy]"]),
    ("FTC131", ["evaluation.label_pattern=x", "evaluation.metrics=[bleu]"]),
    ("FTC150", ["training.warmup_steps=10", "training.warmup_ratio=0.05"]),
    ("FTC151", ["training.scheduler=linear", "training.min_lr_ratio=0.1"]),
    ("FTC151", ["training.scheduler=polynomial", "training.min_lr_ratio=1"]),
    ("FTC152", ["training.optimizer=sgd", "training.betas=[0.8, 0.99]"]),
    ("FTC152", ["training.optimizer=lion_32bit", "training.epsilon=1e-6"]),
    ("FTC153", ["hardware.accelerator=cpu", "training.liger_kernel=true"]),
    ("FTC153", ["hardware.accelerator=cpu", "training.tf32=true"]),
    ("FTC153", ["hardware.accelerator=cpu", "training.activation_offloading=true"]),
    ("FTC153", ["hardware.accelerator=cpu", "training.loss_kernel=cut_cross_entropy"]),
    ("FTC154", ["method.kind=full", "hardware.gpus=2", "hardware.strategy=zero2",
                "training.precision=pure_bf16", "training.learning_rate=2e-5"]),
    ("FTC154", ["training.precision=pure_bf16", "model.dtype=fp32"]),
    ("FTC155", ["hardware.gpu=V100", "training.tf32=true", "training.precision=fp16"]),
    ("FTC156", ["training.liger_kernel=true", "training.loss_kernel=cut_cross_entropy"]),
    ("FTC157", ["logging.wandb={mode: offline}"]),
    ("FTC157", ["logging.project=support"]),
    ("FTC158", ["method.kind=reward", "data.format=preference", "training.loss_kernel=chunked"]),
    ("FTC158", ["method.kind=dpo", "data.format=preference",
                "training.activation_offloading=true"]),
    ("FTC140", ["backend.kind=openai"]),  # models/tiny-llama is no OpenAI model
    ("FTC141", ["backend.kind=openai", "model.base=gpt-4.1-mini"]),  # method.lora.r ignored
    ("FTC160", ["method.kind=prefix", "export.formats=[gguf]"]),
    ("FTC161", ["method.kind=full", "training.learning_rate=2e-5",
                "export.merge_adapters=true"]),
    ("FTC128", ["model.chat_template='{% for m in messages %}{{ m.content }'"]),
    ("FTC180", ["model.chat_template=templates/missing.jinja"]),
    ("FTC181", ["model.chat_template=mistral", "data.system_prompt=Answer briefly."]),
    ("FTC181", ["model.chat_template=gemma",
                "data.train=[{path: data/train.jsonl, system_prompt: Be brief.}]"]),
    ("FTC182", ["model.chat_template='{% for m in messages %}{{ m.content }}{% endfor %}'"]),
    # a hub tokenizer, whatever `make demo` left in models/ of the working directory
    ("FTC188", ["model.base=org/model", "model.added_tokens=[<tool_call>]"]),
    ("FTC188", ["model.base=org/model", "model.special_tokens={unk: <unk2>}",
                "method.lora.modules_to_save=[lm_head]"]),
    ("FTC184", ["data.train=[{path: data/train.jsonl, split: 'train[5:2]'}]"]),
    ("FTC184", ["data.train=[{path: data/train.jsonl, type: template, fields: {prompt: q}}]"]),
    ("FTC185", ["training.evals_per_epoch=2", "training.eval.every=10"]),
    ("FTC187", ["data.train=[{path: someorg/not-cached, type: alpaca}]"]),
    ("FTC186", ["backend.kind=openai", "model.base=gpt-4.1-mini",
                "data.train=[{path: data/train.jsonl, type: messages}]"]),
]
# rules whose case needs files beyond a recipe: tested where those files are made
# a local base's files: FTC162 tests/export/test_lint.py (config.json), FTC183
# tests/compiler/test_sources_templates_tokens.py (tokenizer.json)
COVERED_ELSEWHERE = {"FTC162", "FTC183"}


def rules_for(recipe, overrides):
    result = compile_recipe(recipe, overrides)
    assert result.resolved is not None, result.diagnostics
    return [d.rule for d in result.diagnostics]


def test_the_base_recipe_is_clean(recipe):
    assert rules_for(recipe, []) == []


@pytest.mark.parametrize("rule,overrides", CASES, ids=[f"{r}-{i}" for i, (r, _) in
                                                       enumerate(CASES)])
def test_rule_fires(recipe, rule, overrides):
    assert rule in rules_for(recipe, overrides)


def test_every_registered_rule_has_a_case():
    assert set(REGISTRY) == {rule for rule, _ in CASES} | COVERED_ELSEWHERE


def test_rule_points_at_the_value(recipe):
    result = compile_recipe(recipe, ["training.epochs=9"])
    d = next(d for d in result.diagnostics if d.rule == "FTC102")
    assert (d.line, d.col) == (1, 17) and d.path == "--set"  # the value after '='

    text = recipe.read_text().replace("epochs: 3", "epochs: 9")
    recipe.write_text(text)
    d = next(d for d in compile_recipe(recipe).diagnostics if d.rule == "FTC102")
    assert (d.line, d.col) == (11, 11)


def test_warnings_pass_unless_strict(recipe, ftc):
    recipe.write_text(recipe.read_text().replace("epochs: 3", "epochs: 9"))
    code, out, _ = ftc("lint", recipe)
    assert code == 0 and "warning: FTC102" in out
    assert ftc("lint", "--strict", recipe)[0] == 1
    assert ftc("lint", "--strict", "--ignore", "FTC102", recipe)[0] == 0


def test_recipe_can_ignore_a_rule(recipe):
    text = recipe.read_text().replace("epochs: 3", "epochs: 9") + "lint: {ignore: [FTC102]}\n"
    recipe.write_text(text)
    assert rules_for(recipe, []) == []


def test_errors_block_compile(recipe, ftc, tmp_path):
    out_dir = tmp_path / "bundle"
    code, _, err = ftc("compile", recipe, "--set", "hardware.gpus=3", "-o", out_dir)
    assert code == 1 and "FTC110" in err and "no bundle written" in err
    assert not out_dir.exists()


def test_list_rules(ftc):
    from ftc.providers.data_rules import RULES as PROVIDER_DATA_RULES

    code, out, _ = ftc("lint", "--list-rules")
    assert code == 0 and len(out.splitlines()) == len(REGISTRY) + len(PROVIDER_DATA_RULES)


def test_usage_errors_exit_2(ftc):
    assert ftc("lint")[0] == 2
    assert ftc("lint", "--format", "xml", "r.yaml")[0] == 2
    assert ftc("frobnicate")[0] == 2


def test_system_messages_in_the_data_are_read_again_when_the_file_changes(recipe):
    """FTC181 reads a file once per version (recipes linted together share it), and a
    rewritten file is read again."""
    data = recipe.parent / "chats.jsonl"
    plain = '{"messages": [{"role": "user", "content": "hi"}, ' \
            '{"role": "assistant", "content": "hello"}]}\n'
    data.write_text(plain * 3)
    overrides = ["model.chat_template=mistral", f"data.train={data}"]
    assert "FTC181" not in rules_for(recipe, overrides)
    assert "FTC181" not in rules_for(recipe, overrides)
    data.write_text(plain + '{"messages": [{"role": "system", "content": "Be brief."}, '
                    '{"role": "user", "content": "hi"}, '
                    '{"role": "assistant", "content": "hello"}]}\n')
    assert "FTC181" in rules_for(recipe, overrides)
