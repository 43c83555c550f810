"""Helpers for the runtime tests that compile real recipes into real bundles and
launch them the way a user does (ftc launch -> launch.sh -> accelerate launch).
The tiny model and the ticket data they train on are session fixtures of
tests/conftest.py (tiny_model, tickets), shared with the export tests.
"""

from __future__ import annotations

import copy
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def base_recipe(name: str, model: Path, data: dict[str, Path]) -> dict:
    """LoRA on the tiny model, a dozen steps; tests override what they exercise."""
    return {
        "name": name,
        "model": {"base": str(model), "max_seq_length": 256},
        "method": {"kind": "lora", "lora": {"r": 8, "target_modules": "attention+mlp"}},
        "data": {"train": str(data["train"]), "validation": str(data["validation"])},
        "training": {
            "max_steps": 12, "learning_rate": 2e-3, "micro_batch_size": 4,
            "gradient_accumulation": 1, "logging_steps": 2, "seed": 7,
            "eval": {"strategy": "steps", "every": 6},
            "save": {"strategy": "steps", "every": 6, "keep_last": 2},
        },
        "hardware": {"accelerator": "cpu"},
        "output_dir": "runs",  # beside the recipe
    }


def merge(base: dict, extra: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def compile_bundle(workdir: Path, recipe: dict) -> Path:
    """Write recipe.yaml into workdir and compile it to workdir/bundle (the real compiler)."""
    from ftc.compiler import compile_recipe, write_bundle

    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / f"{recipe['name']}.yaml"
    path.write_text(json.dumps(recipe, indent=2), encoding="utf-8")  # JSON is YAML 1.2
    compiled = compile_recipe(path)
    errors = [d.text() for d in compiled.diagnostics if d.is_error]
    assert compiled.ok, errors
    bundle = write_bundle(compiled, workdir / "bundle")
    _cpu_processes_fix(bundle)
    return bundle


def _cpu_processes_fix(bundle: Path) -> None:
    """Until the emitter writes it: accelerate forks N CPU processes only for MULTI_GPU.

    `accelerate launch` sends distributed_type MULTI_CPU to its single-process
    launcher; MULTI_GPU with use_cpu: true starts N gloo processes. A no-op once
    ftc/emit/accelerate_config.py emits that itself.
    """
    path = bundle / "accelerate.yaml"
    text = path.read_text(encoding="utf-8")
    if '"MULTI_CPU"' in text:
        path.write_text(text.replace('"MULTI_CPU"', '"MULTI_GPU"'), encoding="utf-8")


def runtime_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "FTC_PYTHON": PYTHON, "OMP_NUM_THREADS": "1",
           "TOKENIZERS_PARALLELISM": "false", "PYTHONUNBUFFERED": "1", **extra}
    env.pop("FTC_RUN_INFO_OUT", None)
    env.pop("FTC_QUIET_SUMMARY", None)
    return env


def ftc(*args: str, cwd: Path | None = None, timeout: int = 480,
        **popen) -> subprocess.CompletedProcess:
    """Run the real CLI in a subprocess (as a user would)."""
    return subprocess.run([PYTHON, "-m", "ftc.cli", *args], cwd=cwd, env=runtime_env(),
                          capture_output=True, text=True, timeout=timeout, **popen)


def only_run_dir(workdir: Path, name: str) -> Path:
    runs = sorted((workdir / "runs" / name).glob("run-*"))
    assert len(runs) == 1, runs
    return runs[0]


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_trained(run_dir: Path, tiny_model: Path):
    """(model, tokenizer) from a run's adapter/ (PEFT, merged) or model/ (from_pretrained)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if (run_dir / "adapter").is_dir():
        from peft import PeftModel

        path = run_dir / "adapter"
        base = AutoModelForCausalLM.from_pretrained(tiny_model)
        model = PeftModel.from_pretrained(base, path).merge_and_unload()
    else:
        path = run_dir / "model"
        model = AutoModelForCausalLM.from_pretrained(path)
    return model, AutoTokenizer.from_pretrained(path)


def assert_generates(model, tokenizer, text: str = "My card was charged.") -> None:
    """Greedy generation from a chat prompt adds tokens."""
    import torch

    prompt = tokenizer.apply_chat_template([{"role": "user", "content": text}],
                                           add_generation_prompt=True, return_tensors="pt",
                                           return_dict=True)
    with torch.no_grad():
        out = model.generate(**prompt, max_new_tokens=6, do_sample=False)
    assert out.shape[1] > prompt["input_ids"].shape[1]


def assert_trained_and_generates(run_dir: Path, tiny_model: Path) -> None:
    """The saved result loads back, differs from the base model, and generates."""
    from transformers import AutoModelForCausalLM

    model, tokenizer = load_trained(run_dir, tiny_model)
    base = AutoModelForCausalLM.from_pretrained(tiny_model).state_dict()
    trained = model.state_dict()
    assert set(trained) == set(base)
    assert max((trained[k].float() - base[k].float()).abs().max().item() for k in base) > 1e-4
    assert_generates(model, tokenizer)


def short_run(name: str, model: Path, data: dict[str, Path], kind: str = "lora",
              steps: int = 4, **hardware) -> dict:
    """A recipe for a short run on several processes: `steps` steps of 2 x 2 examples per
    process, evaluated and saved at the end; `hardware` as given (accelerator cpu)."""
    recipe = merge(base_recipe(name, model, data), {
        "method": {"kind": kind},
        "training": {"max_steps": steps, "micro_batch_size": 2, "gradient_accumulation": 2,
                     "eval": {"every": steps}, "save": {"every": steps}},
        "hardware": hardware,
    })
    if kind == "full":
        recipe["method"].pop("lora")
    return recipe


def rank_records(run_dir: Path, world_size: int, steps: int) -> list[dict]:
    """ranks/rank-N.json of every process: each trained `steps` steps in one world."""
    records = [json.loads((run_dir / "ranks" / f"rank-{r}.json").read_text())
               for r in range(world_size)]
    for rank, record in enumerate(records):
        assert record["rank"] == rank and record["world_size"] == world_size
        assert record["steps"] == steps
    return records
