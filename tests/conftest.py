"""What the whole suite shares: the hypothesis profile of the fuzz tests, and the
session-scoped pieces that several test folders train on (built once per session here:
a fixture imported into two conftest files would be built once for each).

A fixed seed (derandomize) and FTC_FUZZ_EXAMPLES examples per property test:
200 in `make test`, 10,000 in `make fuzz`.  No example database is written.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

# What the runtime does before torch loads (ftc/runtime/__main__.py), for the tests that
# train in this process (pytest loads this file before any test module imports torch):
# OpenMP threads that spin while waiting made a training loop 10-20x slower on a busy
# 2-core machine (30 steps of the tiny Llama: 41-100 s spinning, 4.5 s passive).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "ftc", max_examples=int(os.environ.get("FTC_FUZZ_EXAMPLES", "200")), derandomize=True,
    database=None, deadline=None, print_blob=True, suppress_health_check=list(HealthCheck))
settings.load_profile("ftc")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """The tiny Llama, built once per session exactly as `ftc init-tiny-model` does."""
    from ftc.runtime import example_data
    from ftc.runtime.tiny_model import init_tiny_model

    out = tmp_path_factory.mktemp("models") / "tiny-llama"
    texts = example_data.texts(example_data.default_splits()["train"])
    return init_tiny_model(out, texts)


@pytest.fixture(scope="session")
def tickets(tmp_path_factory) -> dict[str, Path]:
    """A small slice of the ticket task (fast to prepare and to train on)."""
    from ftc.runtime import example_data

    root = tmp_path_factory.mktemp("data")
    files = {"train": root / "train.jsonl", "validation": root / "validation.jsonl",
             "test": root / "test.jsonl"}
    example_data.write_jsonl(files["train"], list(example_data.generate(160, seed=11)))
    example_data.write_jsonl(files["validation"], list(example_data.generate(32, seed=12)))
    example_data.write_jsonl(files["test"], list(example_data.generate(16, seed=13)))
    return files


QUICKSTART_STEPS = 40


@pytest.fixture(scope="session")
def quickstart_run(tmp_path_factory, tiny_model) -> dict:
    """One `ftc run recipes/quickstart.yaml` (the tiny model, 40 steps, exporting merged,
    GGUF and ONNX) that the CLI test (tests/runtime/test_cli_run.py) and the export tests
    (tests/export/test_run_export.py) both read: the same run, trained once.

    {'tmp', 'args' (the run's arguments after the recipe), 'done', 'dir', 'summary'}."""
    from tests.runtime.conftest import REPO, ftc

    tmp = tmp_path_factory.mktemp("quickstart")
    args = ["-o", str(tmp / "bundle"), "--set", f"model.base={tiny_model}",
            "--set", f"training.max_steps={QUICKSTART_STEPS}",
            "--set", "export.formats=[merged, gguf, onnx]",
            "--set", "export.model_card={license: apache-2.0}",
            "--set", f"output_dir={tmp / 'runs'}"]
    done = ftc("run", str(REPO / "recipes/quickstart.yaml"), *args, cwd=tmp)
    assert done.returncode == 0, done.stderr[-4000:]
    (run_dir,) = (tmp / "runs" / "quickstart").glob("run-*")
    return {"tmp": tmp, "args": args, "done": done, "dir": run_dir,
            "summary": json.loads((run_dir / "summary.json").read_text())}


@pytest.fixture(scope="session")
def qlora_run(tmp_path_factory, tiny_model, tickets) -> dict:
    """One QLoRA `ftc launch` (8 steps, evaluated and saved at the end, exported merged)
    that the training test (tests/runtime/test_train_one_process.py) and the export test
    (tests/export/test_run_export.py) both read: one launch instead of two alike.

    {'bundle', 'done', 'dir'}."""
    from tests.runtime.conftest import base_recipe, compile_bundle, ftc, merge, only_run_dir

    workdir = tmp_path_factory.mktemp("qlora")
    recipe = merge(base_recipe("qlora", tiny_model, tickets), {
        "method": {"kind": "qlora"},
        "training": {"max_steps": 8, "eval": {"every": 8}, "save": {"every": 8}},
        "export": {"formats": ["merged"]}})
    bundle = compile_bundle(workdir, recipe)
    done = ftc("launch", str(bundle), cwd=workdir)
    assert done.returncode == 0, done.stderr[-4000:]
    return {"bundle": bundle, "done": done, "dir": only_run_dir(workdir, "qlora")}
