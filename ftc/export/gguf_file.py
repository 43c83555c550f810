"""A GGUF file llama.cpp loads, written with the gguf package (GGUFWriter, TensorNameMap,
quants), then read back with GGUFReader.

What llama.cpp's convert_hf_to_gguf.py does for these architectures, for the
model already in memory: hyperparameters as `<arch>.*` keys, each Hugging Face
tensor renamed through gguf's TensorNameMap, Llama's q/k projections permuted
into llama.cpp's rotary layout, a tied lm_head left out (llama.cpp reuses
token_embd), Llama 3.1's rope scaling as the rope_freqs tensor, 1-D tensors kept
in f32 and the rest in the asked type; q8_0
quantizes with gguf.quants, and a tensor whose rows are not a multiple of the
32-value block falls back to f16 exactly as llama.cpp's converter does.
Architectures not listed in ftc/tables/export.yaml are refused with the reason (FTC605).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ftc.export.errors import problem
from ftc.export.gguf_vocab import add_vocab
from ftc.tables import load_table


@dataclass(frozen=True)
class Arch:
    gguf_name: str       # gguf.MODEL_ARCH member name
    permute_qk: bool     # HF rotary halves -> llama.cpp interleaved (Llama family)


# Hugging Face architecture (config.json "architectures") -> how to write it
ARCHS = {name: Arch(entry["arch"], bool(entry["permute_qk"]))
         for name, entry in load_table("export")["gguf_architectures"].items()}
SKIPPED = (".rotary_emb.inv_freq",)
ROPE_TYPES = ("default", "linear", "llama3")
FILE_TYPES = {"f32": "ALL_F32", "f16": "MOSTLY_F16", "bf16": "MOSTLY_BF16",
              "q8_0": "MOSTLY_Q8_0"}
TENSOR_TYPES = {"f32": "F32", "f16": "F16", "bf16": "BF16", "q8_0": "Q8_0"}


def supported_architectures() -> list[str]:
    return sorted(ARCHS)


def arch_for(config, where: Path) -> Arch:
    """The Arch for a transformers config, or FTC605 naming what is supported."""
    names = list(getattr(config, "architectures", None) or [])
    for name in names:
        if name in ARCHS:
            _check_rope(config, where)
            return ARCHS[name]
    what = ", ".join(names) or getattr(config, "model_type", "unknown")
    raise problem(where, "FTC605", f"GGUF export does not support the architecture {what}",
                  f"supported: {', '.join(supported_architectures())}; for others convert "
                  "the merged model with llama.cpp's convert_hf_to_gguf.py")


def write_gguf(model, tokenizer, path: Path, qtype: str, name: str) -> dict:
    """Write model (fp32, no adapter layers) to path; returns {tensor: (shape, type)} and more."""
    import gguf

    config = model.config
    arch = arch_for(config, path)
    writer = gguf.GGUFWriter(str(path), gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH[arch.gguf_name]])
    _add_hparams(writer, config, name, qtype)
    vocab = add_vocab(writer, tokenizer, int(config.vocab_size), path)
    tensors, fallbacks = _add_tensors(writer, model, arch, qtype, path)
    try:
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
    finally:
        writer.close()
    return {"tensors": tensors, "f16_fallback": fallbacks, "vocab": vocab,
            "architecture": writer.arch}


def _add_hparams(writer, config, name: str, qtype: str) -> None:
    import gguf

    heads = int(config.num_attention_heads)
    head_dim = int(getattr(config, "head_dim", None) or config.hidden_size // heads)
    writer.add_type(gguf.GGUFType.MODEL)
    writer.add_name(name)
    writer.add_file_type(int(gguf.LlamaFileType[FILE_TYPES[qtype]]))
    if qtype == "q8_0":
        writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    writer.add_vocab_size(int(config.vocab_size))
    writer.add_context_length(int(config.max_position_embeddings))
    writer.add_embedding_length(int(config.hidden_size))
    writer.add_block_count(int(config.num_hidden_layers))
    writer.add_feed_forward_length(int(config.intermediate_size))
    writer.add_head_count(heads)
    writer.add_head_count_kv(int(getattr(config, "num_key_value_heads", None) or heads))
    writer.add_layer_norm_rms_eps(float(config.rms_norm_eps))
    writer.add_rope_dimension_count(head_dim)
    if head_dim != config.hidden_size // heads:
        writer.add_key_length(head_dim)
        writer.add_value_length(head_dim)
    rope = _rope(config)
    writer.add_rope_freq_base(float(rope.get("rope_theta", 10000.0)))
    if rope.get("rope_type") == "linear":
        writer.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
        writer.add_rope_scaling_factor(float(rope["factor"]))


def _rope(config) -> dict:
    """transformers 5 keeps rope settings in rope_parameters; older configs in rope_scaling."""
    params = dict(getattr(config, "rope_parameters", None) or {})
    if not params:
        params = dict(getattr(config, "rope_scaling", None) or {})
        params.setdefault("rope_theta", getattr(config, "rope_theta", 10000.0))
    params.setdefault("rope_type", params.get("type", "default"))
    return params


def _check_rope(config, where: Path) -> None:
    kind = _rope(config).get("rope_type")
    if kind not in ROPE_TYPES:
        raise problem(where, "FTC605", f"GGUF export does not support rope scaling {kind!r} "
                      "yet (default, linear and llama3)", "convert the merged model with "
                      "llama.cpp's convert_hf_to_gguf.py")


def llama3_rope_factors(config):
    """Llama 3.1's frequency-dependent rope scaling as llama.cpp's rope_freqs tensor (the
    per-frequency divisor), computed as convert_hf_to_gguf.py computes it."""
    import math

    import torch

    rope = _rope(config)
    heads = int(config.num_attention_heads)
    dim = int(getattr(config, "head_dim", None) or config.hidden_size // heads)
    freqs = 1.0 / (float(rope.get("rope_theta", 10000.0))
                   ** (torch.arange(0, dim, 2, dtype=torch.float32) / dim))
    factor = float(rope.get("factor", 8.0))
    low, high = float(rope.get("low_freq_factor", 1.0)), float(rope.get("high_freq_factor", 4.0))
    old_context = float(rope.get("original_max_position_embeddings", 8192))
    out = []
    for freq in freqs.tolist():
        wavelen = 2 * math.pi / freq
        if wavelen < old_context / high:
            out.append(1.0)
        elif wavelen > old_context / low:
            out.append(factor)
        else:
            smooth = (old_context / wavelen - low) / (high - low)
            out.append(1 / ((1 - smooth) / factor + smooth))
    return torch.tensor(out, dtype=torch.float32)


def _add_tensors(writer, model, arch: Arch, qtype: str, where: Path):
    import gguf

    config = model.config
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH[arch.gguf_name],
                                     int(config.num_hidden_layers))
    tied = bool(getattr(config, "tie_word_embeddings", False))
    heads = int(config.num_attention_heads)
    kv_heads = int(getattr(config, "num_key_value_heads", None) or heads)
    written, fallbacks = {}, []
    for hf_name, tensor in model.state_dict().items():
        if hf_name.endswith(SKIPPED) or (tied and hf_name == "lm_head.weight"):
            continue
        new_name = names.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if new_name is None:
            raise problem(where, "FTC605", f"tensor {hf_name} has no llama.cpp name for "
                          f"{arch.gguf_name.lower()}: this model is a variant ftc cannot "
                          "write", "convert with llama.cpp's convert_hf_to_gguf.py")
        data = tensor.detach().float()
        if arch.permute_qk and hf_name.endswith(("q_proj.weight", "q_proj.bias")):
            data = permute(data, heads)
        elif arch.permute_qk and hf_name.endswith(("k_proj.weight", "k_proj.bias")):
            data = permute(data, kv_heads)
        array, kind = _encode(data.numpy(), qtype)
        if kind != TENSOR_TYPES[qtype] and data.ndim > 1:
            fallbacks.append(new_name)
        writer.add_tensor(new_name, array, raw_dtype=gguf.GGMLQuantizationType[kind])
        written[new_name] = (list(data.shape), kind)
    if _rope(config).get("rope_type") == "llama3":
        factors = llama3_rope_factors(config)
        name = gguf.TENSOR_NAMES[gguf.MODEL_TENSOR.ROPE_FREQS] + ".weight"
        writer.add_tensor(name, factors.numpy(), raw_dtype=gguf.GGMLQuantizationType.F32)
        written[name] = ([int(factors.shape[0])], "F32")
    return written, fallbacks


def permute(weights, n_head: int):
    """Hugging Face's rotary layout (two halves) -> llama.cpp's (interleaved pairs)."""
    return (weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
            .swapaxes(1, 2).reshape(weights.shape))


def _encode(array, qtype: str):
    """(data, GGML type name): 1-D in f32; q8_0 falls back to f16 where rows do not fit."""
    import numpy as np
    from gguf import GGMLQuantizationType as Q
    from gguf import quants

    if array.ndim <= 1 or qtype == "f32":
        return array.astype(np.float32), "F32"
    if qtype == "f16":
        return array.astype(np.float16), "F16"
    kind = TENSOR_TYPES[qtype]
    try:
        return quants.quantize(array.astype(np.float32), Q[kind]), kind
    except quants.QuantError:
        return array.astype(np.float16), "F16"


def read_back(path: Path, expected: dict, vocab: dict) -> dict:
    """GGUFReader: every tensor present with its shape and type, the metadata complete."""
    from gguf import GGUFReader

    reader = GGUFReader(str(path))
    found = {t.name: ([int(d) for d in reversed(t.shape.tolist())], t.tensor_type.name)
             for t in reader.tensors}
    problems = [f"{name}: wrote {want}, read {found.get(name)}"
                for name, want in expected.items() if found.get(name) != want]
    problems += [f"unexpected tensor {name}" for name in found if name not in expected]
    arch = _field(reader, "general.architecture")
    keys = ["general.architecture", "general.name", "general.file_type",
            f"{arch}.context_length", f"{arch}.embedding_length", f"{arch}.block_count",
            f"{arch}.feed_forward_length", f"{arch}.attention.head_count",
            f"{arch}.attention.head_count_kv", f"{arch}.rope.dimension_count",
            f"{arch}.attention.layer_norm_rms_epsilon", "tokenizer.ggml.model",
            "tokenizer.ggml.pre", "tokenizer.ggml.tokens", "tokenizer.ggml.token_type",
            "tokenizer.ggml.merges"]
    missing = [k for k in keys if reader.get_field(k) is None]
    tokens = reader.get_field("tokenizer.ggml.tokens")
    if tokens is not None and len(tokens.data) != vocab["tokens"]:
        problems.append(f"{len(tokens.data)} tokens read, {vocab['tokens']} written")
    return {"tensors": len(found), "missing_metadata": missing, "problems": problems,
            "ok": not problems and not missing}


def _field(reader, key: str):
    field = reader.get_field(key)
    return field.contents() if field is not None else None
