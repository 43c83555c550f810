"""Session-scoped pieces for the method tests: tiny student/teacher models sharing one
tokenizer, small data files for each method, and helpers that compile a real recipe
and prepare a method job from its lock exactly as the runtime would."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from .tiny_models import make_pair


@pytest.fixture(scope="session", autouse=True)
def _modest_threads():
    import torch

    torch.set_num_threads(2)


@pytest.fixture(scope="session")
def models(tmp_path_factory) -> dict[str, Path]:
    """{'student', 'teacher', 'raw'}: same tokenizer; student and teacher warmed up."""
    return make_pair(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def data(tmp_path_factory) -> dict[str, Path]:
    """Small data files: adapter tasks, preference pairs, fluency pairs, prompts, tickets."""
    from ftc.runtime import example_data as tickets
    from ftc.runtime.methods import example_data as ed

    root = tmp_path_factory.mktemp("data")
    files: dict[str, Path] = {}

    def put(name: str, rows: list[dict]) -> None:
        files[name] = write_jsonl(root / f"{name}.jsonl", rows)

    train, val = ed.adapter_tasks(96, 31), ed.adapter_tasks(16, 32)
    for task in train:
        put(f"{task}-train", train[task])
        put(f"{task}-val", val[task])
    put("pref-train", ed.preference_pairs(96, 33))
    put("pref-val", ed.preference_pairs(24, 34))
    put("category-train", category_pairs(128, 35))
    put("category-val", category_pairs(24, 36))
    put("tickets-train", list(tickets.generate(96, 37)))
    put("tickets-val", list(tickets.generate(16, 38)))
    put("prompts", ed.prompts(12, 39))
    return files


PREFERRED = "technical"


def category_pairs(n: int, seed: int) -> list[dict]:
    """Pairs for a reward model that likes one category: 'Category: technical' over others.

    A sharp, learnable preference on the first tokens of an answer, where a tiny policy's
    samples vary (six categories), so a short GRPO run can raise its reward visibly.
    """
    import random

    from ftc.runtime.example_data import CATEGORIES, make_example

    rng = random.Random(seed)
    out = []
    for _ in range(n):
        ticket = make_example(rng)["messages"][0]
        other = rng.choice(sorted(c for c in CATEGORIES if c != PREFERRED))
        out.append({"prompt": [ticket],
                    "chosen": [{"role": "assistant", "content": f"Category: {PREFERRED}"}],
                    "rejected": [{"role": "assistant", "content": f"Category: {other}"}]})
    return out


def write_jsonl(path: Path, rows: list) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows),
                    encoding="utf-8")
    return path


def recipe(name: str, model: Path, method: dict, train: Path, validation: Path | None = None,
           **training) -> dict:
    """A CPU recipe on a tiny model; training keys override the small defaults."""
    data = {"train": str(train)}
    if validation:
        data["validation"] = str(validation)
    return {
        "name": name,
        "model": {"base": str(model), "max_seq_length": 128},
        "method": method,
        "data": data,
        "training": {"max_steps": 10, "micro_batch_size": 4, "gradient_accumulation": 2,
                     "logging_steps": 1, "seed": 3, "warmup_ratio": 0.0,
                     "scheduler": "constant", "eval": {"strategy": "no"},
                     "save": {"strategy": "no"}, **training},
        "hardware": {"accelerator": "cpu"},
        "logging": {"report_to": ["none"]},
        "output_dir": "runs",
    }


def merge(base: dict, extra: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and \
            isinstance(out.get(key), dict) else value
    return out


def compile_lock(workdir: Path, recipe_values: dict):
    """Compile with the real compiler into workdir/bundle; the RunLock the runtime reads."""
    from ftc.compiler import compile_recipe, write_bundle
    from ftc.runtime.run_lock import load_run_lock

    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / f"{recipe_values['name']}.yaml"
    path.write_text(json.dumps(recipe_values, indent=2), encoding="utf-8")
    compiled = compile_recipe(path)
    assert compiled.ok, [d.text() for d in compiled.diagnostics if d.is_error]
    return load_run_lock(write_bundle(compiled, workdir / "bundle"))


def prepared_job(workdir: Path, recipe_values: dict):
    """(lock, job, run_dir): data prepared and the method's job built, nothing trained yet."""
    from ftc.runtime.methods.run import build_job, prepare_inputs

    lock = compile_lock(workdir, recipe_values)
    run_dir = workdir / "run"
    tokenizer, splits, args = prepare_inputs(lock, run_dir)
    args.disable_tqdm = True
    return lock, build_job(lock, tokenizer, splits, args), run_dir


def state_dict_on_disk(model_dir: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(model_dir / "model.safetensors"))


def logged(trainer, key: str) -> list[float]:
    return [h[key] for h in trainer.state.log_history if key in h]


@pytest.fixture(scope="session")
def reward_run(tmp_path_factory, models, data) -> dict:
    """A reward model trained by the reward method on category pairs (used by rlhf too).

    {'before', 'after': eval metrics, 'model': standalone model dir, 'run_dir'}.
    """
    from ftc.runtime.methods.run import train_job

    workdir = tmp_path_factory.mktemp("reward")
    _, job, run_dir = prepared_job(workdir, recipe(
        "reward", models["student"], {"kind": "reward"}, data["category-train"],
        data["category-val"], learning_rate=3e-3, max_steps=16))
    trainer = job.stages[0].trainer
    before = trainer.evaluate()
    result = train_job(job, run_dir)
    return {"before": before, "after": result.stages["reward"], "outputs": result.outputs,
            "run_dir": run_dir, "trainer": trainer}
