"""The recipe's evaluation block at compile time: defaults with their sources, what the lint
rules refuse (FTC130) or warn about (FTC131), and schema errors in plain words."""

from __future__ import annotations

import pytest

from ftc.compiler import compile_recipe
from ftc.evaluation.settings import decide, from_lock


def compiled(recipe, *overrides: str):
    return compile_recipe(recipe, list(overrides))


def findings(recipe, *overrides: str) -> list[tuple[str, str]]:
    return [(d.rule, d.message) for d in compiled(recipe, *overrides).diagnostics]


def test_defaults_come_from_the_tables_with_their_sources(recipe):
    c = compiled(recipe)
    ev, prov = c.values["evaluation"], c.provenance
    assert ev["task"] == "auto" and "metrics" not in ev  # settled at run time from the data
    assert ev["every"] == 20 and prov["evaluation.every"] == "rule:evaluation-every"
    assert (ev["max_samples"], ev["samples"], ev["baseline"], ev["at_end"]) == (200, 4, "auto",
                                                                                 True)
    assert prov["evaluation.alerts.loss_spike.sigmas"] == "table:evaluation"
    assert not findings(recipe)


@pytest.mark.parametrize("overrides,task,metrics", [
    (["data.task=classification"], "classification", ["accuracy", "f1", "loss", "perplexity"]),
    (["data.task=generation"], "chat", ["bleu", "rouge_l", "loss", "perplexity"]),
    (["method.kind=dpo", "data.format=preference", "method.lora={r: 16}"], "preference",
     ["preference_accuracy", "loss"]),
    (["evaluation.task=generation", "evaluation.metrics=[rouge_l]"], "generation", ["rouge_l"]),
])
def test_the_task_and_its_metrics(recipe, overrides, task, metrics):
    c = compiled(recipe, *overrides)
    assert c.values["evaluation"]["task"] == task
    assert c.values["evaluation"]["metrics"] == metrics


def test_auto_is_settled_from_the_data_at_run_time(recipe):
    values = compiled(recipe).values
    rows = [{"messages": [{"role": "user", "content": f"t{i}"},
                          {"role": "assistant", "content": f"Category: {'ab'[i % 2]}"}]}
            for i in range(8)]
    settings = decide(from_lock(values), "messages", rows, len(rows))
    assert settings.task == "classification" and settings.metrics[:2] == ["accuracy", "f1"]
    assert settings.max_new_tokens == 16 and settings.baseline is True
    assert "8 validation examples <= 2000" in settings.baseline_reason
    big = decide(from_lock(values), "messages", rows, 5000)
    assert big.baseline is False
    none = decide(from_lock(values), "messages", rows, 0)
    assert none.baseline is False and none.baseline_reason == "no validation data"


@pytest.mark.parametrize("overrides,where", [
    (["method.kind=dpo", "data.format=preference", "evaluation.metrics=[perplexity]"],
     "is no perplexity"),
    (["method.kind=dpo", "data.format=preference", "evaluation.metrics=[bleu]"],
     "preference pairs are scored"),
    (["evaluation.task=chat", "evaluation.metrics=[preference_accuracy]"],
     "needs preference pairs"),
    (["evaluation.label_pattern=(a)(b)"], "has 2 groups"),
    (["evaluation.label_pattern=(unclosed"], "not a regular expression"),
    (["training.early_stopping={enabled: true, metric: accuracy}", "training.save.every=20",
      "evaluation.metrics=[loss]"], "does not compute"),
])
def test_settings_that_cannot_be_measured_are_errors(recipe, overrides, where):
    found = findings(recipe, *overrides)
    assert any(rule == "FTC130" and where in message for rule, message in found), found


@pytest.mark.parametrize("overrides,where", [
    (["evaluation.label_pattern=x", "evaluation.metrics=[bleu]"], "used only by the label"),
    (["training.early_stopping={enabled: true, metric: accuracy}", "training.save.every=20",
      "data.task=classification", "evaluation.every=40"], "cannot stop the run"),
])
def test_settings_without_effect_are_warnings(recipe, overrides, where):
    found = findings(recipe, *overrides)
    assert any(rule == "FTC131" and where in message for rule, message in found), found


def test_rlhf_measures_no_references(recipe):
    c = compiled(recipe, "method.kind=rlhf", "method.rlhf={reward_model: rm}")
    assert c.values["evaluation"]["metrics"] == []
    found = findings(recipe, "method.kind=rlhf", "method.rlhf={reward_model: rm}",
                     "evaluation.metrics=[rouge_l]")
    assert any(rule == "FTC130" and "prompts only" in msg for rule, msg in found)


@pytest.mark.parametrize("override,rule,words", [
    ("evaluation.metrics=[blue]", "FTC012", "bleu"),
    ("evaluation.baseline=sometimes", "FTC012", "auto"),
    ("evaluation.max_samples=0", "FTC014", ">= 1"),
    ("evaluation.tasks=chat", "FTC008", "evaluation.tasks"),
    ("training.eval.compare_base=true", "FTC008", "compare_base"),  # now evaluation.baseline
])
def test_schema_errors_are_plain_messages(recipe, override, rule, words):
    c = compiled(recipe, override)
    errors = [d for d in c.diagnostics if d.is_error]
    assert errors and errors[0].rule == rule, errors
    assert words in errors[0].message + (errors[0].hint or "")


def test_an_unknown_key_in_the_file_gets_a_suggestion(recipe):
    recipe.write_text(recipe.read_text() + "evaluation: {metircs: [bleu]}\n")
    errors = [d for d in compiled(recipe).diagnostics if d.is_error]
    assert errors[0].rule == "FTC010" and "metrics" in (errors[0].hint or "")


def test_lint_cli_exits_1_without_a_traceback(recipe, capsys):
    from ftc.cli import main

    code = main(["lint", str(recipe), "--set", "evaluation.label_pattern=(a)(b)"])
    out = capsys.readouterr()
    assert code == 1 and "FTC130" in out.out + out.err and "Traceback" not in out.err
