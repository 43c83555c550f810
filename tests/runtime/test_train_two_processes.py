"""Two CPU processes (gloo) from a compiled bundle: DDP and DeepSpeed ZeRO-2, with
full, LoRA and QLoRA between them. Both ranks must train, the launcher's exit
status must be 0 (no SIGABRT at teardown), and the result must load and generate."""

from __future__ import annotations

import json

import pytest

from .conftest import base_recipe, compile_bundle, ftc, merge, only_run_dir

pytestmark = [pytest.mark.slow, pytest.mark.distributed, pytest.mark.timeout(900)]

CASES = {
    # name: (method.kind, hardware.strategy, what the runtime reports on every rank)
    "ddp-lora": ("lora", "ddp", "MULTI_CPU"),
    "ddp-qlora": ("qlora", "ddp", "MULTI_CPU"),
    "zero2-full": ("full", "zero2", "DEEPSPEED"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_two_processes_train_and_the_result_generates(name, tmp_path, tiny_model, tickets):
    kind, strategy, distributed_type = CASES[name]
    recipe = merge(base_recipe(name, tiny_model, tickets), {
        "method": {"kind": kind},
        "training": {"max_steps": 6, "micro_batch_size": 2, "gradient_accumulation": 2,
                     "eval": {"every": 6}, "save": {"every": 6}},
        "hardware": {"gpus": 2, "strategy": strategy},
    })
    if kind == "full":
        recipe["method"].pop("lora")
    bundle = compile_bundle(tmp_path, recipe)
    done = ftc("launch", str(bundle), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-4000:]
    assert "terminate called" not in done.stderr

    run_dir = only_run_dir(tmp_path, name)
    ranks = [json.loads((run_dir / "ranks" / f"rank-{r}.json").read_text()) for r in (0, 1)]
    for rank, record in enumerate(ranks):
        assert record["rank"] == rank and record["world_size"] == 2
        assert record["steps"] == 6
        assert record["distributed_type"].endswith(distributed_type)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["world_size"] == 2 and summary["steps"] == 6
    assert summary["eval_loss"]["last"] < summary["eval_loss"]["first"]
    _generates(run_dir, tiny_model, adapter=kind != "full")
    if kind != "qlora":  # a 4-bit base answers otherwise than the fp32 one
        _evaluated_as_one_process_would(summary, tiny_model, run_dir)


def _evaluated_as_one_process_would(summary, tiny_model, run_dir) -> None:
    """Both ranks answered half the baseline's prompts; put back in order, they score as
    one process's answers do."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from ftc.evaluation import scoring
    from ftc.evaluation.examples import examples_of
    from ftc.evaluation.generation import answer

    from .conftest import read_jsonl

    ev = summary["evaluation"]
    examples = examples_of(read_jsonl(run_dir / "data" / "validation.jsonl"), ev["max_samples"],
                           seed=7)
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    outputs = answer(model, AutoTokenizer.from_pretrained(tiny_model), examples, 128, 16, 256)
    alone = scoring.score(["bleu", "rouge_l"], outputs, [e.reference for e in examples])
    assert ev["base"]["rouge_l"] == pytest.approx(alone["rouge_l"], rel=1e-6)
    assert ev["base"]["bleu"] == pytest.approx(alone["bleu"], rel=1e-6)


def _generates(run_dir, tiny_model, adapter: bool) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if adapter:
        from peft import PeftModel

        path = run_dir / "adapter"
        model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model), path)
    else:
        path = run_dir / "model"
        model = AutoModelForCausalLM.from_pretrained(path)
    tokenizer = AutoTokenizer.from_pretrained(path)
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "My card was charged."}],
                                           add_generation_prompt=True, return_tensors="pt",
                                           return_dict=True)
    with torch.no_grad():
        out = model.generate(**prompt, max_new_tokens=6, do_sample=False)
    assert out.shape[1] > prompt["input_ids"].shape[1]
