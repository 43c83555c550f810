"""The curated method recipes: one realistic and one tiny CPU recipe per kind, every
default of the kind visible with its provenance, and each tiny recipe really training
(a couple of steps, with the session's tiny models in place of models/)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KINDS = ("prefix", "adapter", "distill", "dpo", "reward", "rlhf")
RECIPES = {kind: sorted((ROOT / "recipes").glob(f"{kind}-*.yaml")) for kind in KINDS}
TABLE_KEYS = {  # what each kind's block gets from ftc/tables/hyperparameters.yaml
    "prefix": ["num_virtual_tokens", "projection"],
    "adapter": ["type", "adapter_len", "adapter_layers"],
    "distill": ["temperature", "alpha"],
    "dpo": ["beta", "loss"],
    "reward": ["center_rewards_coefficient"],
    "rlhf": ["num_generations", "max_completion_length", "beta", "temperature"],
}


def _compile(path: Path, *overrides: str):
    from ftc.compiler import compile_recipe

    compiled = compile_recipe(path, overrides)
    assert compiled.ok, [d.text() for d in compiled.diagnostics if d.is_error]
    return compiled


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_has_a_realistic_and_a_tiny_recipe(kind):
    names = [p.name for p in RECIPES[kind]]
    assert f"{kind}-tiny.yaml" in names and any("llama-3.1-8b" in n for n in names), names
    tiny = _compile(ROOT / "recipes" / f"{kind}-tiny.yaml")
    assert tiny.values["hardware"]["accelerator"] == "cpu"
    assert tiny.values["model"]["base"].endswith("models/tiny-llama")


@pytest.mark.parametrize("path", [p for paths in RECIPES.values() for p in paths],
                         ids=lambda p: p.name)
def test_every_default_of_the_kind_is_resolved_with_its_source(path):
    compiled = _compile(path)
    kind = compiled.values["method"]["kind"]
    block = compiled.values["method"][kind]
    for key in TABLE_KEYS[kind]:
        assert key in block, f"method.{kind}.{key} missing from the lock"
        source = compiled.provenance[f"method.{kind}.{key}"]
        assert source in ("user", f"table:{kind}") or source.startswith("extends:"), source
    if kind in ("distill", "dpo", "reward", "rlhf"):
        assert compiled.values["method"]["tuning"] in ("full", "lora", "qlora")
        if compiled.values["method"]["tuning"] != "full":
            assert compiled.values["method"]["lora"]["target_modules"]
    unused = {"prefix", "adapter", "distill", "dpo", "reward", "rlhf"} - {kind}
    assert not unused & set(compiled.values["method"])


def test_explain_shows_the_defaults_a_kind_used(capsys):
    from ftc.cli import main

    assert main(["explain", str(ROOT / "recipes" / "dpo-tiny.yaml")]) == 0
    out = capsys.readouterr().out
    for line in ("method.dpo.beta", "method.dpo.loss", "method.tuning", "method.lora.r"):
        assert line in out
    assert "table:dpo" in out and "table:tuning" in out


def _validation_slice(path: Path) -> str:
    """`data.validation` as a tenth of the recipe's own file (still evaluated at the end).

    The final evaluation is not what this test checks, and on the whole file it was most
    of its time: GRPO answers each of rlhf-tiny's 150 prompts 4 times (199 of the rlhf
    case's 205 s in a profile on a busy machine, before OMP_WAIT_POLICY=PASSIVE)."""
    import yaml

    validation = yaml.safe_load(path.read_text())["data"]["validation"]
    return f"data.validation=[{{path: {(path.parent / validation).resolve()}, weight: 0.1}}]"


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("kind", KINDS)
def test_the_tiny_recipe_trains(kind, tmp_path, models, reward_run):
    from ftc.compiler import write_bundle
    from ftc.runtime.methods.run import build_job, prepare_inputs, train_job
    from ftc.runtime.run_lock import load_run_lock

    overrides = [f"model.base={models['student']}", "training.max_steps=2",
                 "training.epochs=1", f"output_dir={tmp_path / 'runs'}",
                 "training.eval.strategy=no", "training.save.strategy=no",
                 "logging.report_to=[none]"]
    if kind == "distill":
        overrides += [f"method.distill.teacher={models['teacher']}",
                      "method.distill.generate.max_new_tokens=6"]
    if kind == "rlhf":
        overrides += [f"method.rlhf.reward_model={reward_run['outputs']['model']}",
                      "method.rlhf.max_completion_length=4"]
    overrides.append(_validation_slice(ROOT / "recipes" / f"{kind}-tiny.yaml"))
    compiled = _compile(ROOT / "recipes" / f"{kind}-tiny.yaml", *overrides)
    lock = load_run_lock(write_bundle(compiled, tmp_path / "bundle"))
    tokenizer, splits, args = prepare_inputs(lock, tmp_path / "run")
    args.disable_tqdm = True
    result = train_job(build_job(lock, tokenizer, splits, args), tmp_path / "run")
    assert result.steps == 2 * (2 if kind == "adapter" else 1)
    assert result.outputs and all(Path(p).exists() for p in result.outputs.values())
    if kind == "distill":
        synthetic = tmp_path / "runs" / "distill-tiny" / "synthetic.jsonl"
        assert synthetic.is_file() and len(synthetic.read_text().splitlines()) == 48
