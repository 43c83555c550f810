"""Prefix tuning and named adapters on a frozen base: what trains, what must not move,
and that two adapters on one base behave differently and can be switched."""

from __future__ import annotations

import pytest
import torch

from .conftest import prepared_job, recipe, state_dict_on_disk

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def _base_params(peft_model) -> dict[str, torch.Tensor]:
    """The frozen base's weights inside a PeftModel, named as in model.safetensors."""
    base = peft_model.get_base_model()
    return {name.replace(".base_layer", "").replace("self_attn.model.", "self_attn."):
            p.detach().clone()
            for name, p in base.state_dict().items()
            if not any(tag in name for tag in ("prompt_encoder", "adaption_", "ia3_"))}


def _assert_base_untouched(peft_model, model_dir) -> None:
    on_disk = state_dict_on_disk(model_dir)
    now = _base_params(peft_model)
    compared = 0
    for name, tensor in on_disk.items():
        key = name if name in now else next((k for k in now if k.endswith(name)), None)
        assert key is not None, name
        assert torch.equal(now[key], tensor), f"base weight {name} changed"
        compared += 1
    assert compared == len(on_disk) > 0


def test_prefix_tuning_trains_only_the_prefix(tmp_path, models, data):
    lock, job, run_dir = prepared_job(tmp_path, recipe(
        "prefix", models["student"], {"kind": "prefix", "prefix": {"num_virtual_tokens": 8}},
        data["reply-train"], data["reply-val"], learning_rate=3e-2, max_steps=12))
    trainer = job.stages[0].trainer
    model = trainer.model
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all("prompt_encoder" in n for n in trainable), trainable
    before = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    first = trainer.evaluate()["eval_loss"]

    from ftc.runtime.methods.run import train_job

    result = train_job(job, run_dir)
    assert result.stages["prefix"]["eval_loss"] < first
    _assert_base_untouched(model, models["student"])
    after = dict(model.named_parameters())
    assert all(not torch.equal(before[n], after[n]) for n in before), "the prefix did not train"
    # the saved adapter is the prefix alone and reproduces the trained model
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    reloaded = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(models["student"]),
                                         result.outputs["adapter"]).eval()
    ids = torch.tensor([[5, 17, 42, 99, 7]])
    model.eval()
    with torch.no_grad():
        assert torch.allclose(reloaded(input_ids=ids).logits, model(input_ids=ids).logits,
                              atol=1e-5)


def test_ia3_adapter_changes_only_its_scaling_vectors(tmp_path, models, data):
    lock, job, run_dir = prepared_job(tmp_path, recipe(
        "ia3", models["student"], {"kind": "adapter", "adapter": {"type": "ia3"}},
        data["classify-train"], data["classify-val"], learning_rate=2e-2, max_steps=8))
    trainer = job.stages[0].trainer
    model = trainer.model
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    from ftc.runtime.methods.run import train_job

    train_job(job, run_dir)
    changed = {n for n, p in model.named_parameters() if not torch.equal(before[n], p)}
    assert changed and all("ia3_l" in n for n in changed), changed
    _assert_base_untouched(model, models["student"])
    assert {"k_proj", "v_proj", "down_proj"} == {n.split(".")[-3] for n in changed}


def test_two_named_adapters_share_one_base_and_switch(tmp_path, models, data):
    method = {"kind": "adapter", "adapter": {"type": "llama-adapter", "adapter_len": 6,
                                             "adapter_layers": 2, "adapters": [
        {"name": "classify", "train": str(data["classify-train"]),
         "validation": str(data["classify-val"])},
        {"name": "reply", "train": str(data["reply-train"]),
         "validation": str(data["reply-val"])}]}}
    _, job, run_dir = prepared_job(tmp_path, recipe(
        "adapters", models["student"], method, data["classify-train"], learning_rate=3e-2,
        max_steps=12))
    assert [s.name for s in job.stages] == ["classify", "reply"]

    # each stage trains its own adapter and leaves the other one as it was
    model = None
    for stage, other in ((job.stages[0], "reply"), (job.stages[1], "classify")):
        model = stage.trainer.model
        mine, theirs = _adapter_state(model, stage.name), _adapter_state(model, other)
        stage.trainer.train()
        assert all(torch.equal(v, theirs[k]) for k, v in _adapter_state(model, other).items())
        assert any(not torch.equal(v, mine[k])
                   for k, v in _adapter_state(model, stage.name).items())
    _assert_base_untouched(model, models["student"])
    outputs = job.save(run_dir)

    # each adapter learned its own task: on a task's validation data, its own adapter
    # has the lower loss
    for stage, other in ((job.stages[0], "reply"), (job.stages[1], "classify")):
        model.set_adapter(stage.name)
        own = stage.trainer.evaluate()["eval_loss"]
        model.set_adapter(other)
        assert own < stage.trainer.evaluate()["eval_loss"], stage.name

    # one prompt, two adapters: different answers; switching back gives the same again
    tokenizer = job.stages[0].trainer.processing_class
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "My parcel never arrived and the tracking is stuck."}],
        add_generation_prompt=True, return_tensors="pt", return_dict=True)
    model.eval()
    answers = {}
    for name in ("classify", "reply", "classify"):
        model.set_adapter(name)
        answers.setdefault(name, []).append(_greedy(model, tokenizer, prompt))
    assert answers["classify"][0] == answers["classify"][1]
    assert answers["classify"][0] != answers["reply"][0]

    # saved together, loaded by name from the run directory: the same answers per adapter
    from transformers import AutoModelForCausalLM

    from ftc.runtime.methods.prefix_adapter import load_adapters

    loaded = load_adapters(AutoModelForCausalLM.from_pretrained(models["student"]),
                           outputs["adapters"]).eval()
    for name in ("classify", "reply"):
        loaded.set_adapter(name)
        assert _greedy(loaded, tokenizer, prompt) == answers[name][0]


def _greedy(model, tokenizer, prompt) -> str:
    with torch.no_grad():
        ids = model.generate(**prompt, max_new_tokens=8, do_sample=False)
    return tokenizer.decode(ids[0, prompt["input_ids"].shape[1]:], skip_special_tokens=True)


def _adapter_state(model, name: str) -> dict[str, torch.Tensor]:
    """Parameters of one adapter, active or cached (LLaMA-Adapter swaps modules out)."""
    from peft import get_peft_model_state_dict

    return {k: v.detach().clone() for k, v in
            get_peft_model_state_dict(model, adapter_name=name).items()}
