"""One process: LoRA, full and QLoRA train for real through `ftc launch` (launch.sh ->
accelerate launch -> python -m ftc.runtime), and leave a complete run directory."""

from __future__ import annotations

import math

import pytest

from .conftest import base_recipe, compile_bundle, ftc, merge, only_run_dir, read_jsonl

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def _launch(workdir, recipe):
    bundle = compile_bundle(workdir, recipe)
    done = ftc("launch", str(bundle), cwd=workdir)
    assert done.returncode == 0, done.stderr[-4000:]
    return bundle, only_run_dir(workdir, recipe["name"]), done


@pytest.fixture(scope="module")
def lora_run(tmp_path_factory, tiny_model, tickets):
    workdir = tmp_path_factory.mktemp("lora")
    recipe = merge(base_recipe("lora-one", tiny_model, tickets),
                   {"data": {"test": str(tickets["test"])}, "export": {"merge_adapters": True}})
    return _launch(workdir, recipe)


def test_run_directory_holds_everything(lora_run):
    bundle, run_dir, _ = lora_run
    assert (run_dir / "recipe.lock.yaml").read_bytes() == (bundle / "recipe.lock.yaml").read_bytes()
    assert (run_dir / "manifest.json").read_bytes() == (bundle / "manifest.json").read_bytes()
    for name in ("adapter_config.json", "adapter_model.safetensors", "tokenizer.json"):
        assert (run_dir / "adapter" / name).is_file(), name
    assert list((run_dir / "tensorboard").glob("events.out.tfevents.*"))
    assert (run_dir / "data" / "train.jsonl").is_file()  # what it trained on, as prepared
    # save every 6 of 12 steps, keep the last 2
    assert sorted(p.name for p in run_dir.glob("checkpoint-*")) == ["checkpoint-12",
                                                                    "checkpoint-6"]
    assert (run_dir / "ranks" / "rank-0.json").is_file()


def test_metrics_has_one_line_per_log_step(lora_run):
    _, run_dir, _ = lora_run
    metrics = read_jsonl(run_dir / "metrics.jsonl")
    train_steps = [m["step"] for m in metrics if "loss" in m]
    eval_steps = [m["step"] for m in metrics if "eval_loss" in m]
    assert train_steps == [1, 2, 4, 6, 8, 10, 12]  # first step, then every logging_steps
    assert eval_steps == [0, 6, 12]  # before training, then every eval.every
    for m in metrics:
        if "eval_loss" in m:
            assert m["eval_perplexity"] == pytest.approx(math.exp(m["eval_loss"]))


def test_summary_reports_falling_losses_and_throughput(lora_run):
    import json

    _, run_dir, done = lora_run
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["steps"] == 12 and summary["world_size"] == 1
    assert summary["train_loss"]["last"] < summary["train_loss"]["first"]
    assert summary["eval_loss"]["last"] < summary["eval_loss"]["first"]
    last_tokens = [m["num_input_tokens_seen"] for m in read_jsonl(run_dir / "metrics.jsonl")]
    assert summary["tokens_trained"] == last_tokens[-1] > 12 * 4 * 50
    assert summary["tokens_per_second"] > 0
    assert summary["tokens_per_second_after_first_step"] > 0  # without the warm-up step
    assert summary["outputs"]["adapter"] == str(run_dir / "adapter")
    assert summary["examples"]["test"] == 16 and summary["test_loss"] > 0  # held-out, at the end
    # ftc launch prints it at the end
    assert "validation loss:" in done.stdout and str(run_dir / "adapter") in done.stdout


def test_adapter_loads_with_peft_and_generates(lora_run, tiny_model):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    _, run_dir, _ = lora_run
    tokenizer = AutoTokenizer.from_pretrained(run_dir / "adapter")
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model),
                                      run_dir / "adapter")
    trained = [p for n, p in model.named_parameters() if "lora_B" in n]
    assert trained and any(p.abs().sum() > 0 for p in trained)  # B starts at zero
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "Where is my order?"}],
                                           add_generation_prompt=True, return_tensors="pt",
                                           return_dict=True)
    with torch.no_grad():
        out = model.generate(**prompt, max_new_tokens=6, do_sample=False)
    assert out.shape[1] > prompt["input_ids"].shape[1]


def test_merged_model_equals_base_plus_adapter(lora_run, tiny_model):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    _, run_dir, _ = lora_run
    merged = AutoModelForCausalLM.from_pretrained(run_dir / "export" / "merged")
    adapted = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model),
                                        run_dir / "adapter")
    ids = torch.tensor([[5, 17, 99, 300, 42, 7]])
    with torch.no_grad():
        assert torch.allclose(merged(ids).logits, adapted(ids).logits, atol=1e-4)
    assert not any("lora" in name for name, _ in merged.named_parameters())


def test_full_fine_tuning_saves_a_whole_model(tmp_path, tiny_model, tickets):
    from transformers import AutoModelForCausalLM

    recipe = merge(base_recipe("full-one", tiny_model, tickets), {
        "method": {"kind": "full"}, "training": {"max_steps": 8, "learning_rate": 1e-3,
                                                 "eval": {"every": 8}, "save": {"every": 8}}})
    recipe["method"].pop("lora")
    _, run_dir, _ = _launch(tmp_path, recipe)
    model = AutoModelForCausalLM.from_pretrained(run_dir / "model")
    base = AutoModelForCausalLM.from_pretrained(tiny_model)
    changed = [n for (n, p), (_, q) in zip(model.named_parameters(), base.named_parameters(),
                                           strict=True) if not p.equal(q)]
    assert len(changed) > 10  # every layer trained, not an adapter
    metrics = read_jsonl(run_dir / "metrics.jsonl")
    evals = [m["eval_loss"] for m in metrics if "eval_loss" in m]
    assert evals[-1] < evals[0]


def test_qlora_trains_on_a_4bit_base(qlora_run):
    """The suite's QLoRA run (tests/conftest.py), also read by the export tests."""
    bundle, run_dir = qlora_run["bundle"], qlora_run["dir"]
    from ftc.runtime.model_loading import load_model
    from ftc.runtime.run_lock import load_run_lock

    lock = load_run_lock(bundle)
    assert lock.get("method.quantization.quant_type") == "nf4"
    model = load_model(lock)  # what the runtime trained: the base in 4 bit
    kinds = {type(m).__name__ for m in model.modules()}
    assert "Linear4bit" in kinds
    assert (run_dir / "adapter" / "adapter_model.safetensors").is_file()
    evals = [m["eval_loss"] for m in read_jsonl(run_dir / "metrics.jsonl") if "eval_loss" in m]
    assert evals[-1] < evals[0]
