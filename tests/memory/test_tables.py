"""Sizes, the GPU table and the model-architecture table."""

from __future__ import annotations

import json

import pytest

from ftc.memory.errors import UNKNOWN_GPU, UNKNOWN_MODEL, MemoryInputError
from ftc.memory.gpus import capacity, lookup_gpu
from ftc.memory.shapes import approximate, from_table, resolve_shape
from ftc.memory.units import GIB, MIB, parse_size


@pytest.mark.parametrize("text,expected", [
    ("24GiB", 24 * GIB), ("80 GB", 80 * 10**9), ("512MiB", 512 * MIB), ("1.5TB", 1.5e12)])
def test_parse_size(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["24", "GiB", "24 gigs", "-1GB"])
def test_parse_size_rejects(text):
    with pytest.raises(ValueError, match="not a memory size"):
        parse_size(text)


@pytest.mark.parametrize("name,canonical", [
    ("A100-80GB", "A100-80GB"), ("a100 80gb", "A100-80GB"), ("A100_40GB", "A100-40GB"),
    ("h100", "H100-80GB"), ("NVIDIA-L4", "L4"), ("4090", "RTX-4090"), ("mi300x", "MI300X"),
    ("V100-32GB", "V100-32GB"), ("H200", "H200"), ("A10G", "A10G"), ("L40S", "L40S"),
    ("T4", "T4")])
def test_gpu_aliases(name, canonical):
    assert lookup_gpu(name).name == canonical


def test_gpu_sizes_are_what_the_driver_reports():
    assert lookup_gpu("A100-80GB").memory_bytes == 81920 * MIB
    assert lookup_gpu("H100-80GB").memory_bytes == 81559 * MIB
    assert lookup_gpu("L4").memory_bytes < 24 * GIB  # 23,034 MiB, not the nominal 24 GB


def test_unknown_gpu_suggests_and_lists():
    with pytest.raises(MemoryInputError) as err:
        lookup_gpu("A100-8GB")
    note = err.value.note
    assert note.rule == UNKNOWN_GPU and note.key == "hardware.gpu"
    assert "did you mean 'A100-80GB'" in note.hint and "H100-80GB" in note.hint


def test_gpu_memory_wins_over_name_and_bad_size_is_an_error():
    assert capacity("T4", "24GiB").memory_bytes == 24 * GIB
    assert capacity(None, None) is None
    with pytest.raises(MemoryInputError) as err:
        capacity(None, "lots")
    assert err.value.note.key == "hardware.gpu_memory"


# The published parameter counts (memory-oracle 2.3 "Base totals").
@pytest.mark.parametrize("name,params", [
    ("meta-llama/Llama-2-7b-hf", 6_738_415_616),
    ("meta-llama/Meta-Llama-3.1-8B-Instruct", 8_030_261_248),
    ("meta-llama/Llama-2-70b-chat-hf", 68_976_648_192),
    ("meta-llama/Llama-3.1-70B", 70_553_706_496),
    ("meta-llama/Llama-3.2-3B", 3_212_749_824),
    ("Qwen/Qwen2.5-7B-Instruct", 7_615_616_512),
    ("bert-base-cased", 108_310_272),          # accelerate estimate-memory: 413.18 MB fp32
    ("mistralai/Mixtral-8x7B-v0.1", 46_702_792_704),
])
def test_table_shapes_give_published_parameter_counts(name, params):
    assert from_table(name).parameters() == params


def test_every_table_row_loads_and_counts():
    from ftc.memory.shapes import known_models

    for name in known_models():
        shape = from_table(name)
        assert shape.parameters() > 10**8, name
        assert shape.largest_layer_parameters() > 0


def test_local_config_json_wins(tmp_path):
    from ftc.runtime.tiny_model import TinySpec

    config = TinySpec().config_dict(vocab_size=1000)  # hidden 128, 2 layers, 4/2 heads, mlp 344
    (tmp_path / "config.json").write_text(json.dumps(config))
    shape = resolve_shape(str(tmp_path))
    assert (shape.hidden, shape.layers, shape.kv_width, shape.vocab) == (128, 2, 64, 1000)
    assert shape.source == "config.json"
    # embed 1000*128 + 2 layers * (q,o 128*128 + k,v 128*64 + mlp 3*128*344 + 2 norms) + norm
    per_layer = 2 * 128 * 128 + 2 * 128 * 64 + 3 * 128 * 344 + 2 * 128
    assert shape.parameters() == 1000 * 128 + 2 * per_layer + 128


def test_broken_config_json_is_an_error(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(MemoryInputError) as err:
        resolve_shape(str(tmp_path))
    assert err.value.note.rule == UNKNOWN_MODEL


def test_unknown_model_needs_a_parameter_count():
    with pytest.raises(MemoryInputError) as err:
        resolve_shape("someorg/llama-3.1-8b-finetune-xyz")
    note = err.value.note
    assert note.rule == UNKNOWN_MODEL and "model.parameters" in note.hint
    notes = []
    shape = resolve_shape("someorg/mystery-7b", 7.0, notes, vocab=100352)
    assert shape.approximate and notes and notes[0].key == "model.parameters"
    assert abs(shape.parameters() - 7e9) / 7e9 < 0.01
    assert shape.vocab == 100352 and "100,352" in notes[0].message


def test_hub_ids_read_the_hugging_face_cache(tmp_path, monkeypatch):
    """A hub id whose config.json is in the local cache gets its exact shapes, offline."""
    config = {"model_type": "phi3", "hidden_size": 5120, "intermediate_size": 17920,
              "num_hidden_layers": 40, "num_attention_heads": 40, "num_key_value_heads": 10,
              "vocab_size": 100352, "tie_word_embeddings": False}
    repo = tmp_path / "hub" / "models--someorg--phi-like"
    snap = repo / "snapshots" / "abc123"
    snap.mkdir(parents=True)
    (snap / "config.json").write_text(json.dumps(config))
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("abc123")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    shape = resolve_shape("someorg/phi-like")
    assert shape.vocab == 100352 and shape.hidden == 5120 and not shape.approximate


def test_approximate_shapes_track_the_count():
    for billions in (0.5, 3, 13, 70):
        shape = approximate("x", billions * 1e9)
        assert abs(shape.parameters() / (billions * 1e9) - 1) < 0.02


def test_ambiguous_gpu_name_checks_the_smaller_card_and_warns():
    from ftc.memory.errors import AMBIGUOUS_GPU
    from ftc.memory.fit import check_fit

    from .conftest import lock

    gpu = lookup_gpu("A100")
    assert gpu.name == "A100-40GB" and "A100-80GB" in gpu.warning
    report = check_fit(lock(**{"hardware.gpu": "a100"}))
    assert report.gpu == "A100-40GB" and report.notes[0].rule == AMBIGUOUS_GPU


def test_local_directory_without_config_says_so(tmp_path):
    with pytest.raises(MemoryInputError) as err:
        resolve_shape(str(tmp_path / "models" / "tiny"))
    assert "no config.json" in err.value.note.message


@pytest.mark.parametrize("model,published", [
    ("microsoft/phi-4", 14.66e9), ("Qwen/Qwen3-0.6B", 0.596e9), ("Qwen/Qwen3-8B", 8.19e9),
    ("Qwen/Qwen3-32B", 32.76e9), ("deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B", 1.78e9),
    ("deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", 7.62e9), ("HuggingFaceTB/SmolLM2-135M", 134.5e6),
    ("HuggingFaceTB/SmolLM2-1.7B", 1.71e9), ("deepseek-ai/DeepSeek-R1-Distill-Llama-8B", 8.03e9),
    ("meta-llama/Llama-3.3-70B-Instruct", 70.55e9),
    ("deepseek-ai/DeepSeek-R1-Distill-Qwen-14B", 14.77e9),
])
def test_families_people_fine_tune_now(model, published):
    """Parameter counts from the table's shapes match the model cards (within 1%)."""
    from ftc.memory.shapes import from_table

    shape = from_table(model)
    assert shape is not None, model
    assert abs(shape.parameters() / published - 1) < 0.01, shape.parameters()
