"""The oracle's formula rows (strength F) reproduce exactly, at the precision printed.

Numbers are read from ../shared/corpus/memory-oracle.md; the test fails if a
formula in ftc.memory drifts from the published output.
"""

from __future__ import annotations

import re

import pytest

from ftc.memory.estimator import base_weight_bytes
from ftc.memory.lora import lora_parameters, target_modules
from ftc.memory.oracle import parse_figure, read_oracle
from ftc.memory.shapes import from_table
from ftc.memory.workload import Workload
from ftc.memory.zero import ds_zero2, ds_zero3, paper_model_states, zero_paper_activations

GB, GIB, MIB = 1e9, 2**30, 2**20


def close(value: float, printed: str) -> bool:
    """value is the printed figure to its last printed digit (rounded or truncated:
    the ZeRO paper prints 1.875 as 1.88 but 257.75 as 257)."""
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    return abs(value - float(printed.replace(",", ""))) < 10 ** -decimals


def numbers(text: str) -> list[str]:
    return re.findall(r"[0-9][0-9,]*(?:\.[0-9]+)?", text)


@pytest.fixture
def rows(oracle_path):
    return read_oracle(oracle_path)


def test_row51_zero_paper_figure1(rows):
    # Psi = 7.5B, K = 12, N_d = 64: baseline, P_os, P_os+g, P_os+g+p.
    printed = [f.replace("GB", "").strip() for f in rows[51].figures()]
    for stage, text in enumerate(printed):
        assert close(paper_model_states(7.5e9, stage, 64) / GB, text), (stage, text)


def _table1(text: str, params: float):
    """'P_os a/b/c/d/e/f; P_os+g ...; P_os+g+p ...' at DP 1/4/16/64/256/1024."""
    groups = [g for g in re.findall(r"[0-9./]+(?:/[0-9.]+){5}", text)]
    assert len(groups) == 3
    for stage, group in enumerate(groups, start=1):
        for dp, printed in zip((1, 4, 16, 64, 256, 1024), group.split("/"), strict=True):
            assert close(paper_model_states(params, stage, dp) / GB, printed), \
                (params, stage, dp, printed)


def test_row52_zero_table1_7_5b(rows):
    _table1(rows[52].reported, 7.5e9)


def test_row53_zero_table1_128b_and_1t(rows):
    text = rows[53].reported
    head, _, tail = text.partition("1T:")
    _table1(head, 128e9)
    _table1(tail, 1e12)


def test_row54_gpt2_model_states_and_activation_rule(rows):
    psi = 1.5e9
    assert paper_model_states(psi, 0, 1) / GB == 24  # 16 Psi
    assert 2 * psi / GB == 3  # fp16 parameters alone
    # "activations at seq 1K, bs 32 ~60 GB" (GPT-2 1.5B: 48 layers, hidden 1600)
    assert round(zero_paper_activations(1600, 32, 1024, 48) / GB) == 60


def test_row55_deepspeed_zero2_t5_3b(rows):
    t5 = from_table("t5-3b").parameters()
    gpu_legacy, _ = ds_zero2(t5, 8, 1, legacy=True)
    gpu_off, cpu_off = ds_zero2(t5, 8, 1, offload=True)
    figures = rows[55].figures()
    assert close(gpu_legacy / GIB, figures[0].replace("GB", ""))
    assert close(gpu_off / GIB, figures[2].replace("GB", ""))
    assert close(cpu_off / GIB, "127.48")  # "per CPU 127.48GB"
    assert "127.48GB" in rows[55].reported


def test_row56_deepspeed_zero3_t5_3b(rows):
    shape = from_table("t5-3b")
    args = (shape.parameters(), shape.largest_layer_parameters(), 8, 1)
    gpu = [ds_zero3(*args)[0], ds_zero3(*args, offload_optimizer=True)[0],
           ds_zero3(*args, offload_optimizer=True, offload_params=True)[0]]
    for value, printed in zip(gpu, rows[56].figures(), strict=True):
        assert close(value / GIB, printed.replace("GB", ""))
    cpu = [ds_zero3(*args)[1], ds_zero3(*args, offload_optimizer=True)[1],
           ds_zero3(*args, offload_optimizer=True, offload_params=True)[1]]
    printed_cpu = numbers(rows[56].reported.split("CPU")[1])[:3]  # 1.47 / 63.74 / 71.71
    for value, printed in zip(cpu, printed_cpu, strict=True):
        assert close(value / GIB, printed)
    no_init = ds_zero3(*args, offload_optimizer=True, offload_params=True, zero_init=False)[1]
    assert close(no_init / GIB, "127.48")


def test_row57_deepspeed_zero3_t5_large(rows):
    shape = from_table("t5-large")
    args = (shape.parameters(), shape.largest_layer_parameters(), 4, 1)
    values = [ds_zero3(*args)[0], ds_zero3(*args, True, True)[0], ds_zero3(*args, True)[0]]
    for value, printed in zip(values, rows[57].figures(), strict=True):
        # DeepSpeed prints whole MB, truncated
        assert int(value / MIB) == int(printed.replace("MB", "")), (value / MIB, printed)


def test_row58_accelerate_estimate_memory_bert_base(rows):
    from ftc.memory.accelerate_rule import accelerate_sizes, convert_bytes

    sizes = accelerate_sizes(from_table("bert-base-cased"))
    text = rows[58].reported
    assert convert_bytes(sizes["float32"]["total"]) == "413.18 MB"
    assert convert_bytes(sizes["float32"]["largest"]) == "84.95 MB"
    assert convert_bytes(sizes["float32"]["training"]) == "1.61 GB"
    for dtype, (total, train) in {"float16": ("206.59 MB", "826.36 MB"),
                                  "int8": ("103.29 MB", "413.18 MB"),
                                  "int4": ("51.65 MB", "206.59 MB")}.items():
        assert convert_bytes(sizes[dtype]["total"]) == total
        assert convert_bytes(sizes[dtype]["training"]) == train
        assert total.split()[0] in text and train.split()[0] in text


def test_row59_accelerate_rule_idefics(rows):
    from ftc.memory.accelerate_rule import convert_bytes, training_bytes

    fp32_total = 297.12 * GIB
    assert convert_bytes(training_bytes(fp32_total)) == "1.16 TB"
    assert convert_bytes(fp32_total / 2) == "148.56 GB"
    assert convert_bytes(training_bytes(fp32_total / 2)) == "594.24 GB"
    assert "1.16 TB" in rows[59].reported and "594.24 GB" in rows[59].reported


def test_rows60_61_peft_trainable_counts(rows):
    llama2 = from_table("meta-llama/Llama-2-7b")
    n = lora_parameters(llama2, 8, target_modules(["q_proj", "v_proj"]))
    assert f"{n:,}" == rows[60].figures()[0]
    assert f"{n + llama2.parameters():,}" in rows[60].reported  # "/ 6,742,609,920 all"
    llama3 = from_table("meta-llama/Meta-Llama-3-8B")
    n = lora_parameters(llama3, 16, target_modules("all-linear"))
    assert f"{n:,}" == rows[61].figures()[0]
    assert f"{n + llama3.parameters():,}" in rows[61].reported


LORA_TABLE_MODELS = {
    "Llama-2-7B": "meta-llama/Llama-2-7b", "Llama-2-13B": "meta-llama/Llama-2-13b",
    "Llama-3.1-8B / Mistral-7B": "meta-llama/Llama-3.1-8B",
    "Llama-3.1-70B / Llama-2-70B": "meta-llama/Llama-3.1-70B",
    "Llama-3.2-3B": "meta-llama/Llama-3.2-3B", "Llama-3.2-1B": "meta-llama/Llama-3.2-1B",
    "Qwen2.5-7B": "Qwen/Qwen2.5-7B",
}


def test_lora_table_section_2_3(oracle_path):
    text = oracle_path.read_text(encoding="utf-8")
    seen = 0
    for label, model in LORA_TABLE_MODELS.items():
        line = next(ln for ln in text.splitlines() if ln.startswith(f"| {label} | "))
        printed = [c.strip() for c in line.strip("|").split("|")[1:]]
        shape = from_table(model)
        got = [lora_parameters(shape, 8, ("q_proj", "v_proj")),
               lora_parameters(shape, 8, target_modules("all-linear")),
               lora_parameters(shape, 16, target_modules("all-linear")),
               lora_parameters(shape, 64, target_modules("all-linear"))]
        assert [f"{n:,}" for n in got] == printed, label
        seen += 1
        if "/" in label:  # the second model of the row has the same counts
            other = from_table("mistralai/Mistral-7B-v0.1" if "Mistral" in label
                               else "meta-llama/Llama-2-70b")
            assert lora_parameters(other, 16, target_modules("all-linear")) == got[2]
    assert seen == 7


NF4_MODELS = {"Llama-2-7B": "meta-llama/Llama-2-7b", "Llama-3.1-8B": "meta-llama/Llama-3.1-8B",
              "Llama-2-70B": "meta-llama/Llama-2-70b", "Llama-3.1-70B": "meta-llama/Llama-3.1-70B",
              "Qwen2.5-7B": "Qwen/Qwen2.5-7B"}


def test_nf4_double_quant_footprints_section_2_2(oracle_path):
    """Linear layers at 4.127 bits, the rest bf16 (no PEFT upcast, no loading residue)."""
    text = oracle_path.read_text(encoding="utf-8")
    for label, model in NF4_MODELS.items():
        line = next(ln for ln in text.splitlines() if ln.strip().startswith(f"| {label} | "))
        printed = parse_figure(line.split("|")[2])[0] / GB
        w = Workload(from_table(model), kind="qlora", tuning="qlora", base_dtype="nf4",
                     precision="bf16", kbit_upcast=False, bnb_loading=False)
        assert close(base_weight_bytes(w) / GB, f"{printed:.2f}" if printed < 10
                     else f"{printed:.1f}"), label
