"""Training options (issue 13) on the compiler side: defaults with provenance, aliases,
the rules that derive values, and clear messages for bad values."""

from __future__ import annotations

import json

import pytest

from ftc.compiler import SCHEMA_FILE, compile_recipe
from ftc.tables import hyperparameters


def compiled(recipe, *overrides):
    result = compile_recipe(recipe, list(overrides))
    assert result.ok, result.diagnostics
    return result


def value_and_source(result, path):
    from ftc.dotted import get_dotted

    return get_dotted(result.values, path), result.provenance.get(path)


def test_schema_accepts_exactly_the_canonical_names_and_the_aliases():
    schema = json.loads(SCHEMA_FILE.read_text())
    names = set(schema["properties"]["training"]["properties"]["optimizer"]["enum"])
    aliases = hyperparameters()["optimizer_aliases"]
    assert set(aliases.values()) <= names  # every alias points at a name the schema offers
    from transformers.training_args import OptimizerNames

    # every name ftc passes on is one transformers knows
    assert (names - set(aliases)) <= {o.value for o in OptimizerNames}


@pytest.mark.parametrize("alias", sorted(hyperparameters()["optimizer_aliases"]))
def test_optimizer_aliases_are_normalised_and_say_so(recipe, alias):
    result = compiled(recipe, f"training.optimizer={alias}")
    value, source = value_and_source(result, "training.optimizer")
    assert value == hyperparameters()["optimizer_aliases"][alias]
    assert source == f"--set (alias {alias})"


def test_canonical_optimizer_keeps_its_source(recipe):
    result = compiled(recipe, "training.optimizer=paged_lion_8bit")
    assert value_and_source(result, "training.optimizer") == ("paged_lion_8bit", "--set")
    assert value_and_source(result, "training.betas") == ([0.9, 0.999], "table:training")
    assert not result.resolved.has("training.epsilon")  # Lion has no epsilon


@pytest.mark.parametrize("optimizer", ["sgd", "adafactor"])
def test_no_betas_or_epsilon_for_optimizers_that_ignore_them(recipe, optimizer):
    result = compiled(recipe, f"training.optimizer={optimizer}")
    assert not result.resolved.has("training.betas")
    assert not result.resolved.has("training.epsilon")


def test_adam_gets_the_table_betas_and_epsilon(recipe):
    result = compiled(recipe)
    assert value_and_source(result, "training.betas") == ([0.9, 0.999], "table:training")
    assert value_and_source(result, "training.epsilon") == (1e-8, "table:training")


def test_cosine_with_a_floor_becomes_cosine_with_min_lr(recipe):
    result = compiled(recipe, "training.min_lr_ratio=0.05")
    assert value_and_source(result, "training.scheduler") == ("cosine_with_min_lr",
                                                              "rule:min-lr-ratio")
    result = compiled(recipe, "training.scheduler=cosine_with_min_lr")
    assert value_and_source(result, "training.min_lr_ratio") == (0.1, "table:training")


def test_warmup_steps_replace_the_table_ratio(recipe):
    result = compiled(recipe, "training.warmup_steps=25")
    assert value_and_source(result, "training.warmup_steps") == (25, "--set")
    assert not result.resolved.has("training.warmup_ratio")
    assert compiled(recipe).resolved.get("training.warmup_ratio") == 0.03


def test_pure_bf16_loads_bf16_weights_and_does_not_autocast(recipe, tmp_path):
    from ftc.compiler import write_bundle

    result = compiled(recipe, "training.precision=pure_bf16")
    assert value_and_source(result, "model.dtype") == ("bf16", "rule:dtype-follows-precision")
    out = write_bundle(result, tmp_path / "bundle")
    assert 'mixed_precision: "no"' in (out / "accelerate.yaml").read_text()


def test_loss_kernel_default_only_where_the_head_is_fused(recipe):
    assert value_and_source(compiled(recipe), "training.loss_kernel") == ("chunked",
                                                                          "table:training")
    result = compile_recipe(recipe, ["method.kind=distill", "method.distill.teacher=org/t"])
    assert not result.resolved.has("training.loss_kernel")


def test_tracker_project_defaults_to_the_recipe_name(recipe):
    plain = compiled(recipe)
    recipe.write_text(recipe.read_text() + "logging:\n  report_to: [wandb, mlflow]\n"
                      "  mlflow: {tracking_uri: 'file:./mlruns'}\n")
    result = compiled(recipe)
    assert value_and_source(result, "logging.project") == ("support-bot-lora",
                                                           "rule:project-from-name")
    uri, _ = value_and_source(result, "logging.mlflow.tracking_uri")
    assert uri == "file:" + str(recipe.parent / "mlruns")
    assert not plain.resolved.has("logging.project")  # tensorboard only


@pytest.mark.parametrize("override,rule,words", [
    ("training.optimizer=adamw_bnb_8bitt", "FTC012", "adamw_bnb_8bit"),
    ("training.betas=[0.9]", "FTC014", "a list of 2 numbers (each >= 0 and < 1)"),
    ("training.betas=[0.9, 1.5]", "FTC014", "betas"),
    ("training.gradient_checkpointing=yes", "FTC011", "gradient_checkpointing"),
    ("training.neftune_noise_alpha=0", "FTC014", "neftune_noise_alpha"),
    ("training.loss_kernel=fused", "FTC012", "loss_kernel"),
    ("training.precision=bf32", "FTC012", "pure_bf16"),
    ("logging.wandb.mode=sometimes", "FTC012", "offline"),
])
def test_bad_values_are_located_messages(recipe, ftc, override, rule, words):
    code, out, err = ftc("lint", recipe, "--set", override)
    assert code == 1 and "Traceback" not in out + err
    line = next(x for x in out.splitlines() if "error:" in x)
    assert line.startswith("--set:1:") and rule in line and words in out, out
