"""A provider recipe compiles to a provider bundle; what the provider cannot run is refused."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from openai.types.fine_tuning.job_create_params import JobCreateParams

from tests.providers.conftest import chat, pair, write_jsonl
from tests.providers.sdk_types import mismatches


def compile_bundle(ftc, recipe, out, *sets):
    args = [a for s in sets for a in ("--set", s)]
    code, stdout, err = ftc("compile", recipe, "-o", out, *args)
    assert code == 0, stdout + err
    return out


def test_bundle_has_the_provider_files_and_a_job_body_the_sdk_accepts(ftc, recipe, tmp_path):
    out = compile_bundle(ftc, recipe, tmp_path / "b")
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md", "estimate.json", "job.json", "manifest.json", "recipe.lock.yaml",
        "training.jsonl", "validation.jsonl"]
    body = json.loads((out / "job.json").read_text())
    assert body == {
        "model": "gpt-4.1-mini-2025-04-14", "training_file": "training.jsonl",
        "validation_file": "validation.jsonl", "seed": 42, "suffix": "support-openai",
        "method": {"type": "supervised", "supervised": {"hyperparameters": {
            "n_epochs": "auto", "batch_size": "auto", "learning_rate_multiplier": "auto"}}}}
    assert mismatches(body, JobCreateParams) == []
    lines = (out / "training.jsonl").read_text().splitlines()
    assert len(lines) == 60 and json.loads(lines[0]) == chat(0)


def test_a_renamed_field_is_caught_by_the_sdk_types():
    body = {"model": "m", "training_file": "f",
            "method": {"type": "supervised", "supervised": {"hyperparameters": {"epochs": 3}}}}
    assert mismatches(body, JobCreateParams) == [
        "body.method.supervised.hyperparameters.epochs: not a field of "
        "SupervisedHyperparametersParam"]
    assert mismatches({"model": "m"}, JobCreateParams) == [
        "body.training_file: required by JobCreateParams, missing"]


def test_hyperparameters_follow_training_values_or_are_set_directly(ftc, recipe, tmp_path):
    out = compile_bundle(ftc, recipe, tmp_path / "b", "training.epochs=2",
                         "training.batch_size=8",
                         "backend.hyperparameters.learning_rate_multiplier=0.5",
                         "training.seed=7", "backend.suffix=tickets-v2")
    body = json.loads((out / "job.json").read_text())
    assert body["method"]["supervised"]["hyperparameters"] == {
        "n_epochs": 2, "batch_size": 8, "learning_rate_multiplier": 0.5}
    assert (body["seed"], body["suffix"]) == (7, "tickets-v2")
    code, text, _ = ftc("explain", recipe, "backend", "--set", "training.epochs=2")
    assert code == 0 and "rule:from-training.epochs" in text and "table:provider" in text


def test_estimate_is_billed_tokens_times_epochs_at_the_dated_rate(ftc, recipe, tmp_path):
    out = compile_bundle(ftc, recipe, tmp_path / "b", "backend.hyperparameters.epochs=3")
    est = json.loads((out / "estimate.json").read_text())
    from ftc.providers.tokens import example_tokens

    per_epoch = sum(example_tokens(json.loads(line))[1]
                    for line in (out / "training.jsonl").read_text().splitlines())
    assert est["tokens_per_epoch"] == per_epoch and est["epochs"] == 3
    assert est["billed_tokens"] == 3 * per_epoch
    assert est["usd_per_million_training_tokens"] == 5.0
    assert est["estimated_cost_usd"] == round(3 * per_epoch / 1e6 * 5.0, 4)
    assert est["price_table_as_of"] == "2025-06-01"


def test_auto_epochs_follow_the_documented_rule():
    from ftc.providers.estimate import auto_epochs

    rule = {"target": 3, "min_examples_seen": 100, "max_examples_seen": 25000, "min": 1,
            "max": 25}
    assert auto_epochs(60, rule) == 3
    assert auto_epochs(10, rule) == 10  # tiny data: more passes
    assert auto_epochs(20_000, rule) == 1  # huge data: fewer


def test_same_inputs_same_bytes_and_no_absolute_paths_or_keys(ftc, recipe, tmp_path,
                                                               monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-proj-" + "A" * 40)
    a = compile_bundle(ftc, recipe, tmp_path / "a")
    b = compile_bundle(ftc, recipe, tmp_path / "b")
    for path in a.iterdir():
        data = path.read_bytes()
        assert data == (b / path.name).read_bytes(), path.name
        assert str(tmp_path).encode() not in data and b"sk-proj-" not in data, path.name


def test_split_holds_validation_out_when_no_file_is_given(ftc, write, tmp_path):
    write_jsonl(tmp_path / "data" / "all.jsonl", [chat(i) for i in range(100)])
    recipe = write("r.yaml", """\
        name: split
        model: {base: gpt-4o-mini}
        method: {kind: full}
        data: {train: data/all.jsonl}
        backend: {kind: openai}
        """)
    out = compile_bundle(ftc, recipe, tmp_path / "b")
    train = (out / "training.jsonl").read_text().splitlines()
    val = (out / "validation.jsonl").read_text().splitlines()
    assert (len(train), len(val)) == (90, 10) and not set(train) & set(val)
    out = compile_bundle(ftc, recipe, tmp_path / "c", "data.split.validation=0",
                         "data.split.train=1")
    assert not (out / "validation.jsonl").exists()
    assert "validation_file" not in json.loads((out / "job.json").read_text())


def test_dpo_bundle_converts_pairs_and_sends_beta(ftc, write, tmp_path):
    write_jsonl(tmp_path / "p.jsonl", [pair(i) for i in range(20)])
    recipe = write("r.yaml", """\
        name: prefs
        model: {base: gpt-4.1-mini-2025-04-14}
        method: {kind: dpo, dpo: {beta: 0.2}}
        data: {train: p.jsonl, split: {train: 1.0, validation: 0.0, test: 0.0}}
        backend: {kind: openai}
        """)
    out = compile_bundle(ftc, recipe, tmp_path / "b")
    body = json.loads((out / "job.json").read_text())
    assert body["method"] == {"type": "dpo", "dpo": {"hyperparameters": {
        "n_epochs": "auto", "batch_size": "auto", "learning_rate_multiplier": "auto",
        "beta": 0.2}}}
    assert mismatches(body, JobCreateParams) == []
    first = json.loads((out / "training.jsonl").read_text().splitlines()[0])
    assert first == {"input": {"messages": [{"role": "user", "content": "Where is order #1000?"}]},
                     "preferred_output": [{"role": "assistant", "content": "It ships today (0)."}],
                     "non_preferred_output": [{"role": "assistant", "content": "No idea."}]}


def test_azure_bundle_has_a_bom_and_no_cost_without_a_rate(ftc, recipe, tmp_path):
    out = compile_bundle(ftc, recipe, tmp_path / "b", "backend.kind=azure-openai",
                         "model.base=gpt-4o-mini-2024-07-18")
    assert (out / "training.jsonl").read_bytes().startswith(b"\xef\xbb\xbf")
    est = json.loads((out / "estimate.json").read_text())
    assert est["estimated_cost_usd"] is None and est["billed_tokens"] > 0
    assert "no rate in ftc's price table" in (out / "README.md").read_text()


def test_one_recipe_compiles_to_both_backends(ftc, tmp_path):
    from pathlib import Path

    quickstart = Path(__file__).resolve().parents[2] / "recipes" / "quickstart.yaml"
    code, out, err = ftc("compile", quickstart, "-o", tmp_path / "p", "--set",
                         "backend.kind=openai", "--set", "model.base=gpt-4.1-mini")
    assert code == 0, out + err
    assert "FTC141 method.lora.r means nothing to OpenAI" in err
    body = json.loads((tmp_path / "p" / "job.json").read_text())
    assert body["method"]["supervised"]["hyperparameters"]["n_epochs"] == 1  # training.epochs


@pytest.mark.parametrize("sets,expected", [
    (["method.kind=qlora"], "FTC140 method.kind qlora cannot run on OpenAI: the provider "
                            "trains on its own full-precision weights"),
    (["hardware.strategy=zero3"], "FTC140 hardware.strategy zero3 asks for a DeepSpeed/FSDP "
                                  "setup"),
    (["model.base=gpt-4.5-preview"], "FTC140 'gpt-4.5-preview' is not a fine-tunable OpenAI "
                                     "model"),
    (["model.base=gpt-3.5-turbo", "method.kind=dpo"],
     "FTC140 gpt-3.5-turbo-0125 offers supervised fine-tuning at OpenAI, not dpo"),
    (["model.base=meta-llama/Llama-3.1-8B"], "is not a fine-tunable OpenAI model"),
    (["method.kind=prefix"], "FTC140 method.kind prefix cannot run on OpenAI"),
    (["training.epochs=2.5"], "FTC140 OpenAI takes a whole number of epochs (got 2.5)"),
    (["training.batch_size=512"], "FTC140 batch size 512 is outside what OpenAI accepts"),
    (["data.train=org/tickets"], "FTC140 'org/tickets' is not a local file: OpenAI jobs upload"),
    (["hardware.deepspeed_config=ds.json"], "FTC140 a DeepSpeed config cannot be given"),
])
def test_what_the_provider_cannot_do_is_an_error_with_the_reason(ftc, recipe, sets, expected):
    args = [a for s in sets for a in ("--set", s)]
    code, out, err = ftc("lint", recipe, *args)
    assert code == 1 and expected in out, out


def test_keys_that_mean_nothing_are_warnings(ftc, recipe):
    code, out, _ = ftc("lint", recipe, "--set", "training.learning_rate=1e-4", "--set",
                       "hardware.gpus=8", "--set", "training.precision=bf16")
    assert code == 0
    assert "warning: FTC141 training.learning_rate means nothing to OpenAI" in out
    assert "learning_rate_multiplier" in out
    assert "FTC141 hardware.gpus" in out and "FTC141 training.precision" in out


@pytest.mark.parametrize("rows,expected", [
    ([chat(i) for i in range(5)], "error: FTC370 OpenAI needs at least 10 training examples, "
                                  "got 5"),
    ([chat(i) for i in range(12)] + [{"messages": [{"role": "user", "content": "x" * 300_000},
                                                   {"role": "assistant", "content": "ok"}]}],
     "error: FTC372 about 75,010 tokens, over gpt-4.1-mini's 65,536-token training context"),
    ([chat(i) for i in range(12)] + [{"messages": [{"role": "user", "content": "hi"}]}],
     "error: FTC373 no assistant message with weight 1"),
    ([chat(i) for i in range(12)] + [{"messages": [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "a", "weight": 0.5}]}],
     "error: FTC376 messages[1].weight must be 0 or 1 (got 0.5)"),
])
def test_data_the_provider_refuses_is_a_lint_error(ftc, write, tmp_path, rows, expected):
    write_jsonl(tmp_path / "data" / "train.jsonl", rows)
    recipe = write("r.yaml", """\
        name: d
        model: {base: gpt-4.1-mini}
        method: {kind: lora}
        data: {train: data/train.jsonl, split: {train: 1.0, validation: 0.0, test: 0.0}}
        backend: {kind: openai}
        """)
    code, out, _ = ftc("lint", recipe)
    assert code == 1 and expected in out, out
    code, _, err = ftc("compile", recipe, "-o", tmp_path / "b")
    assert code == 1 and not (tmp_path / "b").exists()


def test_a_key_in_the_recipe_is_refused_without_echoing_it(ftc, recipe, write, tmp_path):
    key = "sk-proj-" + "Zq9" * 15
    bad = write("bad.yaml", recipe.read_text() + f"  suffix: {key}\n")
    code, out, _ = ftc("lint", bad)
    assert code == 1 and key not in out
    assert "error: FTC015 backend.suffix holds a secret-shaped string (an OpenAI key)" in out
    bad = write("bad2.yaml", recipe.read_text() + f"  api_key: {key}\n")
    code, out, _ = ftc("lint", "--format", "json", bad)
    assert code == 1 and key not in out and "FTC015" in out and "FTC010" in out
    code, out, err = ftc("compile", bad, "-o", tmp_path / "b")
    assert code == 1 and key not in out + err and not (tmp_path / "b").exists()


def test_lint_and_compile_do_not_import_the_sdk(recipe, tmp_path):
    probe = ("import sys\nfrom ftc.cli import main\n"
             f"main(['compile', {str(recipe)!r}, '-o', {str(tmp_path / 'b')!r}])\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] in "
             "{'openai', 'torch', 'transformers', 'httpx2'}))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
