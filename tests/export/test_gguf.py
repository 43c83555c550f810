"""GGUF: written with the gguf package, read back with GGUFReader, then run in llama.cpp.

llama.cpp (llama-cpp-python) builds from source; where it is not installed the
llama.cpp tests skip with the reason, and the GGUFReader tests still run.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from .conftest import cli, exported, greedy_pair, llama_cpp_or_skip, logits

PROBE_TEXT = "Hi, my parcel never arrived. Order #5512, can you check?"


@pytest.fixture(scope="module")
def gguf_export(lora_adapter, tmp_path_factory):
    return exported(tmp_path_factory, "gguf", lora_adapter, "--gguf", "f32", "--gguf", "f16",
                    "--gguf", "bf16", "--gguf", "q8_0", "--no-check")


@pytest.fixture(scope="module")
def merged(lora_adapter, tiny_model):
    """The reference: base + adapter merged in fp32 with PEFT (independently of ftc)."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model),
                                      lora_adapter).merge_and_unload().eval()
    return model, AutoTokenizer.from_pretrained(lora_adapter)


def expected_tensors(model, qtype: str) -> dict[str, tuple[list[int], str]]:
    """llama.cpp names, GGML shapes (reversed) and types for the tiny Llama."""
    per_block = {"self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
                 "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output",
                 "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
                 "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm",
                 "post_attention_layernorm": "ffn_norm"}
    out = {}
    for name, tensor in model.state_dict().items():
        if name == "lm_head.weight":
            continue  # tied to the embeddings: llama.cpp reuses token_embd
        if name == "model.embed_tokens.weight":
            new = "token_embd.weight"
        elif name == "model.norm.weight":
            new = "output_norm.weight"
        else:
            block, rest = name.split(".")[2], ".".join(name.split(".")[3:-1])
            new = f"blk.{block}.{per_block[rest]}.weight"
        shape = list(reversed(tensor.shape))
        kind = "F32" if tensor.ndim == 1 else {"f32": "F32", "f16": "F16", "bf16": "BF16",
                                               "q8_0": "Q8_0"}[qtype]
        if kind == "Q8_0" and shape[0] % 32:
            kind = "F16"  # rows not a multiple of the 32-value block: llama.cpp's fallback
        out[new] = (shape, kind)
    return out


@pytest.mark.parametrize("qtype", ["f32", "f16", "bf16", "q8_0"])
def test_reader_finds_every_tensor_with_its_shape_and_type(gguf_export, merged, qtype):
    from gguf import GGUFReader

    reader = GGUFReader(str(gguf_export / f"adapter-{qtype}.gguf"))
    found = {t.name: ([int(d) for d in t.shape], t.tensor_type.name) for t in reader.tensors}
    assert found == expected_tensors(merged[0], qtype)


def test_metadata_is_complete(gguf_export, merged):
    from gguf import GGUFReader

    model, tokenizer = merged
    reader = GGUFReader(str(gguf_export / "adapter-f16.gguf"))

    def value(key):
        field = reader.get_field(key)
        assert field is not None, key
        return field.contents()

    assert value("general.architecture") == "llama"
    assert value("general.file_type") == 1  # MOSTLY_F16
    config = model.config
    assert value("llama.block_count") == config.num_hidden_layers
    assert value("llama.embedding_length") == config.hidden_size
    assert value("llama.feed_forward_length") == config.intermediate_size
    assert value("llama.attention.head_count") == config.num_attention_heads
    assert value("llama.attention.head_count_kv") == config.num_key_value_heads
    assert value("llama.context_length") == config.max_position_embeddings
    assert value("llama.rope.dimension_count") == config.hidden_size // config.num_attention_heads
    assert value("llama.rope.freq_base") == pytest.approx(10000.0)
    assert value("llama.attention.layer_norm_rms_epsilon") == pytest.approx(config.rms_norm_eps)
    assert value("tokenizer.ggml.model") == "gpt2"
    assert value("tokenizer.ggml.pre") == "gpt-2"
    vocab = {i: t for t, i in tokenizer.get_vocab().items()}
    assert value("tokenizer.ggml.tokens") == [vocab[i] for i in range(len(vocab))]
    merges = json.loads((gguf_export.parent / "out").joinpath("export.json").read_text())
    assert len(value("tokenizer.ggml.merges")) == merges["gguf"]["adapter-f16.gguf"]["vocab"][
        "merges"] == 764  # 1024 tokens - 256 bytes - 4 special
    assert value("tokenizer.ggml.bos_token_id") == tokenizer.bos_token_id
    assert value("tokenizer.ggml.eos_token_id") == tokenizer.eos_token_id
    assert value("tokenizer.ggml.padding_token_id") == tokenizer.pad_token_id
    assert value("tokenizer.ggml.add_bos_token") is False  # the tiny tokenizer adds none
    assert value("tokenizer.chat_template") == tokenizer.chat_template
    types = value("tokenizer.ggml.token_type")
    assert [i for i, t in enumerate(types) if t == 3] == [0, 1, 2, 3]  # CONTROL: specials


# ------------------------------------------------------------------ llama.cpp


def load_llama(path, n_ctx: int = 128, f32_cache: bool = True):
    from llama_cpp import GGML_TYPE_F32, Llama

    cache = {"type_k": GGML_TYPE_F32, "type_v": GGML_TYPE_F32} if f32_cache else {}
    return Llama(model_path=str(path), n_ctx=n_ctx, logits_all=True, verbose=False, seed=0,
                 n_threads=2, **cache)


def probe(tokenizer) -> list[int]:
    return tokenizer.apply_chat_template([{"role": "user", "content": PROBE_TEXT}],
                                         add_generation_prompt=True, tokenize=True,
                                         return_dict=False)


def llama_logits(path, ids) -> np.ndarray:
    llm = load_llama(path)
    try:
        llm.eval(ids)
        return np.array(llm.scores[: len(ids)], dtype=np.float32)
    finally:
        llm.close()


# max |logit diff| (llama.cpp with an f32 KV cache vs transformers fp32), measured on the
# tiny model whose largest logit is about 4.5: f32 6e-6, f16 9e-3, bf16 9e-2, q8_0 0.23
BOUNDS = {"f32": 1e-4, "f16": 2e-2, "bf16": 0.15, "q8_0": 0.35}


@pytest.mark.parametrize("qtype", ["f32", "f16", "bf16", "q8_0"])
def test_llama_cpp_logits_match_transformers(gguf_export, merged, qtype):
    llama_cpp_or_skip()
    model, tokenizer = merged
    ids = probe(tokenizer)
    want = logits(model, [ids])[0].numpy()
    got = llama_logits(gguf_export / f"adapter-{qtype}.gguf", ids)
    diff = float(np.abs(want - got).max())
    assert diff < BOUNDS[qtype], diff
    agree = float((want.argmax(-1) == got.argmax(-1)).mean())
    assert agree >= (1.0 if qtype in ("f32", "f16") else 0.9), agree


def test_llama_cpp_greedy_equals_transformers_greedy_f16(gguf_export, merged):
    llama_cpp_or_skip()
    model, tokenizer = merged
    want, got = greedy_pair(model, tokenizer, probe(tokenizer), gguf_export / "adapter-f16.gguf")
    assert got == want and len(want) >= 5  # 20 tokens, or fewer ending with end-of-turn


def test_llama_cpp_tokenizes_like_the_model(gguf_export, merged):
    llama_cpp_or_skip()
    _, tokenizer = merged
    text = ("<|im_start|>user\n" + PROBE_TEXT + "  tabs\tand\nnewlines, 1234 numbers, "
            "ÜMLAUTS & émojis 🚀 'quoted' it's<|im_end|>")
    llm = load_llama(gguf_export / "adapter-f16.gguf")
    try:
        got = llm.tokenize(text.encode(), add_bos=False, special=True)
    finally:
        llm.close()
    assert got == tokenizer(text)["input_ids"]


def test_export_check_records_llama_cpp_results(lora_adapter, tmp_path):
    """Without --no-check the export itself runs llama.cpp and records what it measured."""
    llama_cpp_or_skip()
    code, stdout, err = cli("export", lora_adapter, "--gguf", "f16", "-o", tmp_path / "out")
    assert code == 0, err
    check = json.loads((tmp_path / "out" / "export.json").read_text())["checks"]["gguf f16"]
    assert check["greedy_match"] and check["tokenizer_match"]
    assert check["max_abs_diff"] < 2e-2
    assert "check gguf f16: max |logit diff|" in stdout
