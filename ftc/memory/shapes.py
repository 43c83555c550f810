"""Model shapes: from a local config.json, the architecture table, or a parameter count.

The estimator needs layer count, widths and vocabulary, not just a parameter
total: activations scale with hidden and intermediate sizes, the logits with
the vocabulary, and LoRA's trainable count with each target module's width.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

from ftc.memory.data import table
from ftc.memory.errors import APPROXIMATE_MODEL, UNKNOWN_MODEL, MemoryInputError, Note
from ftc.safe_files import FileProblem, read_regular

# Module name -> (d_in, d_out) getter, Llama naming; BERT's names map onto them.
DECODER_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
ENCODER_NAMES = {"query": "q_proj", "key": "k_proj", "value": "v_proj", "dense": "o_proj",
                 "attention.output.dense": "o_proj", "intermediate.dense": "up_proj",
                 "output.dense": "down_proj"}
# Assumed for a model known only by its parameter count (Llama-2's tokenizer).
DEFAULT_VOCAB = 32000
MAX_CONFIG_BYTES = 16 * 2**20  # a config.json is a few KB
MAX_DIM = 10**9  # far above any real width, depth or vocabulary


@dataclass(frozen=True)
class ModelShape:
    """What the memory model needs to know about an architecture."""

    name: str
    family: str  # decoder | encoder | params
    hidden: int = 0
    intermediate: int = 0
    layers: int = 0
    heads: int = 0
    kv_heads: int = 0
    head_dim: int = 0
    vocab: int = 0
    tied: bool = False
    experts: int = 1
    experts_per_token: int = 1
    norms_per_layer: int = 2
    qk_norm: bool = False
    qkv_bias: bool = False
    max_positions: int = 0
    type_vocab: int = 0
    fixed_parameters: int = 0  # family params: the published total
    fixed_largest_layer: int = 0
    source: str = "table"
    approximate: bool = False

    # ---- widths
    @property
    def q_width(self) -> int:
        return self.heads * self.head_dim

    @property
    def kv_width(self) -> int:
        return self.kv_heads * self.head_dim

    def module_dims(self) -> dict[str, tuple[int, int]]:
        """(d_in, d_out) of each linear module in one block (one expert for MoE)."""
        h, f = self.hidden, self.intermediate
        return {"q_proj": (h, self.q_width), "k_proj": (h, self.kv_width),
                "v_proj": (h, self.kv_width), "o_proj": (self.q_width, h),
                "gate_proj": (h, f), "up_proj": (h, f), "down_proj": (f, h)}

    def mlp_modules(self) -> tuple[str, ...]:
        return ("gate_proj", "up_proj", "down_proj") if self.family == "decoder" else (
            "up_proj", "down_proj")

    # ---- parameter counts
    def block_linear_parameters(self) -> int:
        """Weights of the linear layers of one block (the part 4-bit quantization touches)."""
        dims = self.module_dims()
        attn = sum(a * b for m, (a, b) in dims.items() if m in DECODER_MODULES[:4])
        mlp = sum(dims[m][0] * dims[m][1] for m in self.mlp_modules())
        return attn + mlp * self.experts

    def linear_parameters(self) -> int:
        if self.family == "params":
            return self.fixed_parameters - self.embedding_parameters()
        return self.layers * self.block_linear_parameters()

    def embedding_parameters(self) -> int:
        """Token embedding plus an untied output head (both stay 16-bit under QLoRA)."""
        if self.family == "params":
            return self.fixed_largest_layer
        emb = self.vocab * self.hidden
        if self.family == "encoder":
            return emb + (self.max_positions + self.type_vocab) * self.hidden
        return emb if self.tied else 2 * emb

    def parameters(self) -> int:
        """All parameters, counted the way the published totals count them."""
        if self.family == "params":
            return self.fixed_parameters
        h = self.hidden
        if self.family == "encoder":
            # BERT: biases on every linear, 2 LayerNorms per block, embedding LN, pooler.
            dims = self.module_dims()
            per = sum(a * b + b for m, (a, b) in dims.items()
                      if m in ("q_proj", "k_proj", "v_proj", "o_proj", "up_proj", "down_proj"))
            per += 2 * 2 * h
            return self.layers * per + self.embedding_parameters() + 2 * h + (h * h + h)
        per = self.block_linear_parameters() + self.norms_per_layer * h
        if self.qkv_bias:
            per += self.q_width + 2 * self.kv_width
        if self.qk_norm:
            per += 2 * self.head_dim
        if self.experts > 1:
            per += h * self.experts  # router
        return self.layers * per + self.embedding_parameters() + h

    def largest_layer_parameters(self) -> int:
        """Largest single module (DeepSpeed's `largest_layer_params` for ZeRO-3 buffers)."""
        if self.family == "params":
            return self.fixed_largest_layer
        dims = self.module_dims()
        return max([self.vocab * self.hidden] + [a * b for a, b in dims.values()])

    def with_dims(self, **changes) -> ModelShape:
        return replace(self, **changes)


# --------------------------------------------------------------------------- lookup


def _normal(name: str) -> str:
    return name.strip().lower()


def _stem(name: str) -> str:
    """Name without org and without a tuned-variant suffix (-Instruct, -chat, -hf, -it)."""
    base = _normal(name).split("/")[-1]
    return re.sub(r"(-(instruct|chat|hf|it|base|pt))+$", "", base)


@cache  # the table is loaded once; so is its index of names
def _index() -> dict[str, str]:
    index: dict[str, str] = {}
    for key, row in table("models")["models"].items():
        for name in [key, *row.get("aliases", [])]:
            for form in (_normal(name), _normal(name).split("/")[-1], _stem(name)):
                index.setdefault(form, key)
    return index


def known_models() -> list[str]:
    return sorted(table("models")["models"])


def from_table(name: str) -> ModelShape | None:
    """The table row for a hub id (tolerant of org, case and -Instruct suffixes)."""
    index = _index()
    key = index.get(_normal(name)) or index.get(_normal(name).split("/")[-1]) \
        or index.get(_stem(name))
    if key is None:
        return None
    row = dict(table("models")["models"][key])
    row.pop("aliases", None)
    return _from_row(key, row, "table")


def _from_row(name: str, row: dict, source: str) -> ModelShape:
    family = row.pop("family", "decoder")
    if family == "params":
        return ModelShape(name, "params", vocab=row.get("vocab", DEFAULT_VOCAB),
                          fixed_parameters=int(row["parameters"]),
                          fixed_largest_layer=int(row["largest_layer"]), source=source)
    heads = int(row["heads"])
    hidden = int(row["hidden"])
    return ModelShape(
        name, family, hidden=hidden, intermediate=int(row["intermediate"]),
        layers=int(row["layers"]), heads=heads, kv_heads=int(row.get("kv_heads", heads)),
        head_dim=int(row.get("head_dim") or hidden // heads), vocab=int(row["vocab"]),
        tied=bool(row.get("tied", family == "encoder")), experts=int(row.get("experts", 1)),
        experts_per_token=int(row.get("experts_per_token", 1)),
        norms_per_layer=int(row.get("norms_per_layer", 2)), qk_norm=bool(row.get("qk_norm")),
        qkv_bias=bool(row.get("qkv_bias")), max_positions=int(row.get("max_positions", 0)),
        type_vocab=int(row.get("type_vocab", 0)), source=source)


def from_config(config: dict, name: str) -> ModelShape:
    """Shapes from a transformers config.json (decoder-only or BERT-style)."""
    cfg = dict(config.get("text_config") or config)  # multimodal: the language tower
    kind = str(cfg.get("model_type", ""))
    hidden = int(cfg.get("hidden_size") or cfg.get("n_embd") or cfg["d_model"])
    heads = int(cfg.get("num_attention_heads") or cfg.get("n_head"))
    row = {
        "family": "encoder" if kind in ("bert", "roberta", "distilbert") else "decoder",
        "hidden": hidden,
        "intermediate": int(cfg.get("intermediate_size") or cfg.get("n_inner") or 4 * hidden),
        "layers": int(cfg.get("num_hidden_layers") or cfg.get("n_layer")),
        "heads": heads,
        "kv_heads": int(cfg.get("num_key_value_heads") or heads),
        "head_dim": int(cfg.get("head_dim") or hidden // heads),
        "vocab": int(cfg["vocab_size"]),
        "tied": bool(cfg.get("tie_word_embeddings", kind in ("bert", "roberta"))),
        "experts": int(cfg.get("num_local_experts") or cfg.get("num_experts") or 1),
        "experts_per_token": int(cfg.get("num_experts_per_tok") or 1),
        "norms_per_layer": 4 if kind.startswith(("gemma2", "gemma3")) else 2,
        "qk_norm": kind.startswith(("gemma3", "qwen3")),
        "qkv_bias": bool(cfg.get("attention_bias")) or kind == "qwen2",
        "max_positions": int(cfg.get("max_position_embeddings", 0)) if kind == "bert" else 0,
        "type_vocab": int(cfg.get("type_vocab_size", 0)),
    }
    return _from_row(name, row, "config.json")


def approximate(name: str, parameters: float, vocab: int = DEFAULT_VOCAB) -> ModelShape:
    """A Llama-shaped stand-in with about `parameters` weights (12*L*h^2 with h = 128*L)."""
    total = int(parameters)
    # Llama-family width/depth ratio is about 128 (7B: 4096/32, 13B: 5120/40).
    hidden = max(128, round(((total * 128) / 12) ** (1 / 3) / 128) * 128)
    layers = max(1, round(total / (12 * hidden * hidden)))
    shape = ModelShape(name, "decoder", hidden=hidden, intermediate=round(8 * hidden / 3),
                       layers=layers, heads=hidden // 128, kv_heads=hidden // 128, head_dim=128,
                       vocab=vocab, tied=False, source="parameter count",
                       approximate=True)
    # Spread the rest over the layers' MLP width so the total comes out right.
    per_layer = (total - shape.embedding_parameters() - hidden) / layers
    attn = 4 * hidden * hidden + 2 * hidden
    intermediate = max(hidden, round((per_layer - attn) / (3 * hidden)))
    return replace(shape, intermediate=intermediate)


def resolve_shape(base: str, parameters: float | None = None,
                  notes: list[Note] | None = None, key: str = "model.base",
                  vocab: int | None = None) -> ModelShape:
    """Shapes for model.base: local config.json, the Hugging Face cache's config.json for
    a hub id, else the table, else model.parameters with model.vocab_size.

    `parameters` is in billions (the recipe's model.parameters).  An unknown hub
    id with a parameter count gives an approximate shape and a warning in
    `notes`; without one it is an error.
    """
    path = Path(base).expanduser()
    config = path / "config.json"
    if not config.is_file() and is_hub_like(base):
        config = hub_cache_config(base) or config
    if config.is_file():
        try:
            data = json.loads(read_regular(config, MAX_CONFIG_BYTES, "config.json"))
            if not isinstance(data, dict):
                raise ValueError("expected a JSON object")
            shape = from_config(data, base)
            dims = (shape.hidden, shape.intermediate, shape.layers, shape.heads, shape.vocab,
                    shape.experts, shape.head_dim)
            if min(dims) < 1 or max(dims) > MAX_DIM:
                raise ValueError(f"sizes must be between 1 and {MAX_DIM:,}")
            return shape
        except (FileProblem, ValueError, KeyError, TypeError, AttributeError,
                ZeroDivisionError, RecursionError, OverflowError) as exc:
            reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            raise MemoryInputError(key, UNKNOWN_MODEL,
                                   f"cannot read the model shapes from {config}: {reason}"
                                   ) from None
    shape = from_table(base)
    if shape is not None:
        return shape
    if (path.is_absolute() or base.startswith((".", "~")) or path.exists()) and not parameters:
        raise MemoryInputError(key, UNKNOWN_MODEL,
                               f"no config.json in the model directory {base}",
                               "create the model first (e.g. `ftc init-tiny-model DIR`), or set "
                               "model.parameters (in billions) for an estimate without it")
    if parameters:
        if not vocab:
            raise MemoryInputError("model.parameters", UNKNOWN_MODEL,
                                   f"model {base!r} is not in ftc's architecture table: a memory "
                                   "estimate from model.parameters also needs model.vocab_size "
                                   "(the logits scale with it: Llama 3 has 128,256 entries, "
                                   "phi-4 100,352, Mistral 7B 32,768)",
                                   "set model.vocab_size (config.json's vocab_size), or point "
                                   "model.base at a directory with config.json")
        if notes is not None:
            notes.append(Note("model.parameters", APPROXIMATE_MODEL,
                              f"model {base!r} is not in ftc's architecture table; memory is "
                              f"estimated from model.parameters ({parameters:g}B) with "
                              f"Llama-like shapes and a vocabulary of {vocab:,}",
                              "point model.base at a local directory with config.json for "
                              "exact shapes"))
        return approximate(base, parameters * 1e9, vocab)
    import difflib

    close = difflib.get_close_matches(_stem(base), [_stem(m) for m in known_models()], n=3)
    hint = ("did you mean " + ", ".join(repr(c) for c in close) + "? " if close else "") + \
        "or set model.parameters (in billions) so that ftc can estimate its memory"
    raise MemoryInputError(key, UNKNOWN_MODEL,
                           f"unknown model {base!r}: no config.json there and not in ftc's "
                           "architecture table", hint)


def is_hub_like(base: str) -> bool:
    """org/name: what the Hugging Face cache could hold."""
    return base.count("/") == 1 and not base.startswith((".", "/", "~"))


def hub_cache_config(repo: str) -> Path | None:
    """config.json of a hub model already in the local Hugging Face cache (no download).

    The cache layout is HF_HUB_CACHE (or HF_HOME/hub, or ~/.cache/huggingface/hub)
    /models--ORG--NAME/snapshots/<commit>/config.json, with refs/main naming the commit.
    """
    import os

    root = os.environ.get("HF_HUB_CACHE") or os.path.join(
        os.environ.get("HF_HOME") or os.path.join(os.path.expanduser("~"), ".cache",
                                                  "huggingface"), "hub")
    folder = Path(root) / ("models--" + repo.replace("/", "--"))
    ref = folder / "refs" / "main"
    if ref.is_file():
        config = folder / "snapshots" / ref.read_text(encoding="utf-8").strip() / "config.json"
        if config.is_file():
            return config
    found = sorted((folder / "snapshots").glob("*/config.json"))
    return found[0] if found else None
