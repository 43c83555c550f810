"""GGUF beyond the tiny Llama: the other supported architectures and pre-tokenizers load in
llama.cpp and agree with transformers; an unsupported architecture is refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from .conftest import cli, llama_cpp_or_skip, logits

TEXT = "Refund for order 1234?\n  It's   been 3 weeks... ÜBER café 🚀 'ok' you'll SEE"


def save_tiny(kind: str, tokenizer, out: Path, **extra) -> Path:
    """A randomly initialised tiny model of `kind` with non-zero biases, saved like a hub one."""
    import torch
    from transformers import (
        AutoModelForCausalLM,
        GPT2Config,
        LlamaConfig,
        MistralConfig,
        Qwen2Config,
    )

    common = {"vocab_size": len(tokenizer), "bos_token_id": tokenizer.bos_token_id,
              "eos_token_id": tokenizer.eos_token_id, "pad_token_id": tokenizer.pad_token_id}
    shape = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
             "num_attention_heads": 4, "num_key_value_heads": 2,
             "max_position_embeddings": 256, "initializer_range": 0.125, **extra}
    config = {"qwen2": lambda: Qwen2Config(**common, **shape, tie_word_embeddings=False),
              "mistral": lambda: MistralConfig(**common, **shape, sliding_window=None),
              "llama": lambda: LlamaConfig(**common, **shape),
              "gpt2": lambda: GPT2Config(**common, n_embd=64, n_layer=2, n_head=4)}[kind]()
    torch.manual_seed(5)
    model = AutoModelForCausalLM.from_config(config)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".bias"):
                p.normal_(0, 0.2)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def tokenizer(tiny_model):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model)


@pytest.mark.parametrize("kind", ["qwen2", "mistral"])
def test_other_architectures_load_in_llama_cpp(kind, tokenizer, tmp_path):

    model_dir = save_tiny(kind, tokenizer, tmp_path / kind)
    code, _, err = cli("export", model_dir, "--gguf", "f32", "--no-check", "-o", tmp_path / "o")
    assert code == 0, err
    assert max_logit_gap(model_dir, tmp_path / "o" / f"{kind}-f32.gguf",
                         tokenizer(TEXT)["input_ids"]) < 1e-4


def max_logit_gap(model_dir, gguf_path, ids: list[int]) -> float:
    """Largest gap between transformers' logits and llama.cpp's on the f32 GGUF (f32 KV
    cache, so that only the export is compared)."""
    from transformers import AutoModelForCausalLM

    llama_cpp_or_skip()
    from llama_cpp import GGML_TYPE_F32, Llama

    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    llm = Llama(model_path=str(gguf_path), n_ctx=128, logits_all=True, verbose=False,
                type_k=GGML_TYPE_F32, type_v=GGML_TYPE_F32)
    try:
        llm.eval(ids)
        got = np.array(llm.scores[: len(ids)])
    finally:
        llm.close()
    return float(np.abs(logits(model, [ids])[0].numpy() - got).max())


def test_llama3_rope_scaling_matches_in_llama_cpp(tokenizer, tmp_path):
    """Llama 3.1's rope scaling (rope_type llama3) travels as the rope_freqs tensor. A short
    original context (64) gives the tiny head all three cases: kept, smoothed, scaled."""

    rope = {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0,
            "low_freq_factor": 1.0, "high_freq_factor": 4.0,
            "original_max_position_embeddings": 64}
    model_dir = save_tiny("llama", tokenizer, tmp_path / "l3", rope_parameters=rope)
    code, _, err = cli("export", model_dir, "--gguf", "f32", "--no-check", "-o", tmp_path / "o")
    assert code == 0, err
    from gguf import GGUFReader

    factors = {t.name: t for t in GGUFReader(str(tmp_path / "o" / "l3-f32.gguf")).tensors}[
        "rope_freqs.weight"].data
    assert len(factors) == 8 and factors[0] == 1.0 and factors[-1] == 8.0  # head_dim 16 / 2
    assert 1.0 < factors[1] < 8.0
    assert max_logit_gap(model_dir, tmp_path / "o" / "l3-f32.gguf",
                         tokenizer(TEXT * 3)["input_ids"][:96]) < 1e-4


def test_unsupported_architecture_is_refused_before_anything_is_written(tokenizer, tmp_path):
    model_dir = save_tiny("gpt2", tokenizer, tmp_path / "gpt2")
    code, out, err = cli("export", model_dir, "--merge", "--gguf", "f16", "-o", tmp_path / "o")
    assert code == 1 and "Traceback" not in err
    code, out, err = cli("export", model_dir, "--gguf", "f16", "-o", tmp_path / "o")
    assert code == 1
    assert "FTC605 GGUF export does not support the architecture GPT2LMHeadModel" in err
    assert "LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM" in err
    assert list(tmp_path.iterdir()) == [model_dir]  # no output, no temporary folder left


# ------------------------------------------------------------------ pre-tokenizers


def split_tokenizer(pattern: str):
    """A byte-level BPE with a Split pre-tokenizer, as Llama 3 and Qwen2 ship theirs."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    from ftc.runtime import example_data

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(pattern), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    core.decoder = decoders.ByteLevel()
    texts = example_data.texts(list(example_data.generate(300, 3)))
    core.train_from_iterator(texts, trainers.BpeTrainer(
        vocab_size=512, special_tokens=["<|endoftext|>", "<|pad|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
    return PreTrainedTokenizerFast(tokenizer_object=core, bos_token="<|endoftext|>",
                                  eos_token="<|endoftext|>", pad_token="<|pad|>")


@pytest.mark.parametrize("name", ["llama-bpe", "qwen2"])
def test_split_pre_tokenizers_tokenize_alike_in_llama_cpp(name, tmp_path):
    """Llama 3's and Qwen2's split regexes. (transformers 5 gives a qwen2 model directory
    Qwen2Tokenizer, which imposes Qwen2's regex: the export follows what AutoTokenizer loads,
    as training did.)"""
    from transformers import AutoTokenizer

    from ftc.export.gguf_vocab import LLAMA3_REGEX, QWEN2_REGEX

    tok = split_tokenizer(LLAMA3_REGEX if name == "llama-bpe" else QWEN2_REGEX)
    model_dir = save_tiny("llama" if name == "llama-bpe" else "qwen2", tok, tmp_path / "m")
    tok = AutoTokenizer.from_pretrained(model_dir)
    code, _, err = cli("export", model_dir, "--gguf", "f16", "--no-check", "-o", tmp_path / "o")
    assert code == 0, err
    from gguf import GGUFReader

    reader = GGUFReader(str(tmp_path / "o" / "m-f16.gguf"))
    assert reader.get_field("tokenizer.ggml.pre").contents() == name
    llama_cpp_or_skip()
    from llama_cpp import Llama

    llm = Llama(model_path=str(tmp_path / "o" / "m-f16.gguf"), vocab_only=True, verbose=False)
    try:
        got = llm.tokenize(TEXT.encode(), add_bos=False, special=True)
    finally:
        llm.close()
    assert got == tok(TEXT)["input_ids"]


def test_unknown_pre_tokenizer_is_refused_and_nothing_is_left(tmp_path):
    """The merge is written (into the temporary folder) before the GGUF vocabulary fails:
    the output must not appear, and the temporary folder must be gone."""
    from .conftest import make_adapter

    tok = split_tokenizer(r"\s+|\w+|[^\s\w]+")  # a regex llama.cpp has no name for
    base = save_tiny("llama", tok, tmp_path / "m")
    adapter = make_adapter(base, tmp_path / "adapter", "lora")
    code, _, err = cli("export", adapter, "--merge", "--gguf", "f16", "-o", tmp_path / "o")
    assert code == 1 and "FTC605" in err and "pre-tokenizer" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adapter", "m"]
