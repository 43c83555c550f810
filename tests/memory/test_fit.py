"""check_fit: the verdict, the ranked fixes with their estimates, auto mode, the compiler hook."""

from __future__ import annotations

import pytest

from ftc.compiler import compile_recipe
from ftc.memory.errors import CANNOT_FIT, DOES_NOT_FIT, UNKNOWN_GPU
from ftc.memory.fit import apply_changes, check_fit, usable

from .conftest import lock

GIB = 2**30


def test_no_gpu_no_check_and_off_mode():
    report = check_fit(lock())
    assert report.capacity_bytes is None and report.fits is None
    assert report.estimate is not None
    off = check_fit(lock(**{"hardware.gpu": "T4"}), "off")
    assert off.estimate is None and off.fits is None


def test_fits_on_a_big_gpu():
    report = check_fit(lock(**{"hardware.gpu": "H100-80GB",
                               "training.gradient_checkpointing": True}))
    assert report.fits is True and report.fixes == []
    assert report.capacity_bytes == 81559 * 2**20 and report.gpu == "H100-80GB"


def test_does_not_fit_ranks_fixes_cheapest_first_with_estimates():
    values = lock(**{"hardware.gpu": "L4"})  # 8B LoRA, micro batch 4 x 2048, no GC
    report = check_fit(values)
    assert report.fits is False
    fitting = [f for f in report.fixes if f.fits]
    assert fitting, report.message()
    costs = [f.cost for f in fitting]
    assert costs == sorted(costs)
    for fix in report.fixes:  # each fix's estimate is the estimate of the changed recipe
        again = check_fit(apply_changes(values, fix.changes))
        assert usable(again.estimate) == pytest.approx(usable(fix.estimate))
        assert fix.fits == (usable(fix.estimate) <= report.capacity_bytes)
    first = fitting[0]
    assert first.changes.get("training.micro_batch_size", 4) * \
        first.changes.get("training.gradient_accumulation", 4) == 16  # batch kept
    text = report.message()
    assert text.startswith("job does not fit: needs about")
    assert "over by" in text and "L4" in text and "fixes, cheapest first" in text


def test_micro_batch_fix_keeps_the_effective_batch():
    values = lock(**{"hardware.gpu_memory": "40GiB", "model.max_seq_length": 4096,
                     "training.micro_batch_size": 8, "training.gradient_accumulation": 2})
    report = check_fit(values)
    fix = next(f for f in report.fixes if f.id == "micro-batch")
    mb = fix.changes["training.micro_batch_size"]
    assert 8 % mb == 0 and mb * fix.changes["training.gradient_accumulation"] == 16


def test_auto_mode_chooses_the_cheapest_fitting_fix():
    report = check_fit(lock(**{"hardware.gpu": "L4"}), "auto")
    assert report.chosen is not None and report.chosen.fits
    assert report.chosen is next(f for f in report.fixes if f.fits)


def test_cannot_fit_even_with_every_fix_says_by_how_much():
    values = lock(**{"model.base": "meta-llama/Llama-3.1-405B", "hardware.gpu": "T4"})
    report = check_fit(values, "auto")
    assert report.fits is False and report.chosen is None
    assert not any(f.fits for f in report.fixes)
    text = report.message()
    assert text.startswith("job cannot fit even with every fix")
    assert "it still needs" in text and "over by" in text


def test_unknown_gpu_is_a_note_not_an_exception():
    report = check_fit(lock(**{"hardware.gpu": "RTX-9090"}))
    assert report.fits is None and report.notes[0].rule == UNKNOWN_GPU


def test_switching_to_qlora_fills_the_blocks_it_needs():
    values = apply_changes(lock(**{"method": {"kind": "full"}}), {"method.kind": "qlora"})
    assert values["method"]["quantization"]["quant_type"] == "nf4"
    assert values["method"]["lora"]["r"] == 16


# --------------------------------------------------------------------------- compiler hook

OOM = """\
name: too-big
model: {base: meta-llama/Llama-3.1-8B, max_seq_length: 4096}
method: {kind: lora}
data: {train: train.jsonl}
training: {micro_batch_size: 4, gradient_accumulation: 4}
hardware: {gpu: L4, fit: %s}
"""


def test_compile_refuses_a_recipe_that_runs_out_of_memory(recipe):
    result = compile_recipe(recipe(OOM % "check"))
    assert not result.ok
    fit = [d for d in result.diagnostics if d.rule in (DOES_NOT_FIT, CANNOT_FIT)]
    assert len(fit) == 1 and fit[0].is_error
    assert fit[0].line == 6  # points at hardware: {gpu: L4}
    assert "fixes, cheapest first" in fit[0].hint


def test_compile_fit_auto_applies_the_fix_with_provenance(recipe):
    result = compile_recipe(recipe(OOM % "auto"))
    assert result.ok, [d.text() for d in result.diagnostics]
    changed = [k for k, v in result.provenance.items() if v == "rule:memory-fit"]
    assert changed
    again = check_fit(result.values)
    assert again.fits is True
    v = result.values["training"]
    assert v["micro_batch_size"] * v["gradient_accumulation"] * \
        result.values["hardware"]["world_size"] == v["batch_size"] == 16


def test_compile_auto_kind_switch_refills_defaults(recipe):
    text = """\
    name: full-on-a100
    model: {base: meta-llama/Llama-3.1-8B, max_seq_length: 2048}
    method: {kind: full}
    data: {train: train.jsonl}
    training: {micro_batch_size: 1, gradient_accumulation: 16, gradient_checkpointing: true}
    hardware: {gpu: A100-80GB, fit: auto}
    """
    result = compile_recipe(recipe(text))
    assert result.ok, [d.text() for d in result.diagnostics]
    kind = result.values["method"]["kind"]
    if result.provenance.get("method.kind") == "rule:memory-fit":
        assert kind in ("lora", "qlora") and "lora" in result.values["method"]
        assert result.values["training"]["learning_rate"] == pytest.approx(2e-4)
    else:  # a cheaper fix (8-bit optimizer, ...) was enough
        assert kind == "full"


def test_oom_advice_for_the_runtime():
    from ftc.memory.fit import oom_advice

    values = lock(**{"model.max_seq_length": 4096})
    ranked = oom_advice(values, 20 * GIB)
    assert ranked.startswith("job does not fit") and "fixes, cheapest first" in ranked
    plain = oom_advice(values)
    lines = plain.splitlines()
    assert lines[0].startswith("out of memory") and "micro batch" in lines[1]
    assert "gradient checkpointing" in lines[2]
