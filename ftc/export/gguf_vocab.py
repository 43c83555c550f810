"""The tokenizer as GGUF metadata: tokens, types, merges, special tokens, chat template.

llama.cpp re-implements the tokenizer from this metadata, so only tokenizers
it can reproduce exactly are written: byte-level BPE (GPT-2, Llama 3, Qwen2
and the tiny model's) whose pre-tokenizer is one llama.cpp knows by name.
convert_hf_to_gguf.py recognises pre-tokenizers by hashing a test encoding;
here the tokenizer.json structure is matched instead (the regex a Split
pre-tokenizer uses), and anything else is refused with the reason (FTC605).
Merges, special token ids, add-BOS/EOS flags and the chat template are read
by gguf's own SpecialVocab.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from ftc.export.errors import problem

# Split-regex of tokenizer.json -> llama.cpp's tokenizer.ggml.pre name
LLAMA3_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?"
                r"[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?"
               r"[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
SPLIT_PRE = {LLAMA3_REGEX: "llama-bpe", QWEN2_REGEX: "qwen2"}


def pre_tokenizer_name(tokenizer_json: dict) -> str | None:
    """llama.cpp's name for this byte-level BPE pre-tokenizer, or None when unknown."""
    pre = tokenizer_json.get("pre_tokenizer") or {}
    if pre.get("type") == "ByteLevel" and pre.get("use_regex", True):
        return "gpt-2"  # ByteLevel's own regex is GPT-2's
    if pre.get("type") == "Sequence":
        steps = pre.get("pretokenizers") or []
        if (len(steps) == 2 and steps[0].get("type") == "Split"
                and steps[1].get("type") == "ByteLevel" and not steps[1].get("use_regex", True)):
            return SPLIT_PRE.get((steps[0].get("pattern") or {}).get("Regex"))
    return None


def add_vocab(writer, tokenizer, vocab_size: int, where: Path) -> dict:
    """Write the tokenizer metadata; returns what was written (for the export report)."""
    import gguf

    with tempfile.TemporaryDirectory(prefix="ftc-tokenizer-") as tmp:
        tokenizer.save_pretrained(tmp)
        tree = _tokenizer_json(Path(tmp), where)
        pre = _check_supported(tree, where)
        tokens, types = _tokens(tokenizer, vocab_size, where)
        writer.add_tokenizer_model("gpt2")
        writer.add_tokenizer_pre(pre)
        writer.add_token_list(tokens)
        writer.add_token_types(types)
        special = gguf.SpecialVocab(tmp, load_merges=True, n_vocab=len(tokens))
        special.add_special_token.setdefault("bos", _adds_bos(tokenizer))
        special.add_special_token.setdefault("eos", False)
        special.add_to_gguf(writer, quiet=True)
    return {"model": "gpt2", "pre": pre, "tokens": len(tokens), "merges": len(special.merges),
            "special": dict(special.special_token_ids),
            "chat_template": special.chat_template is not None}


def _tokenizer_json(directory: Path, where: Path) -> dict:
    try:
        return json.loads((directory / "tokenizer.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise problem(where, "FTC605", "GGUF export needs a fast tokenizer (tokenizer.json); "
                      "this model has none", "export onnx or merged instead, or convert "
                      "with llama.cpp's convert_hf_to_gguf.py") from None


def _check_supported(tree: dict, where: Path) -> str:
    model, decoder = tree.get("model") or {}, tree.get("decoder") or {}
    if model.get("type") != "BPE" or model.get("byte_fallback") or \
            decoder.get("type") != "ByteLevel":
        kind = f"{model.get('type', '?')} (decoder {decoder.get('type', '?')})"
        raise problem(where, "FTC605", f"GGUF export supports byte-level BPE tokenizers "
                      f"(GPT-2, Llama 3, Qwen2); this tokenizer is {kind}",
                      "export onnx or merged instead, or convert the merged model with "
                      "llama.cpp's convert_hf_to_gguf.py")
    pre = pre_tokenizer_name(tree)
    if pre is None:
        raise problem(where, "FTC605", "the tokenizer's pre-tokenizer is not one llama.cpp "
                      "knows (GPT-2 ByteLevel, Llama 3 or Qwen2 split regex), so llama.cpp "
                      "would split text differently", "convert the merged model with "
                      "llama.cpp's convert_hf_to_gguf.py, which knows more tokenizers")
    return pre


def _tokens(tokenizer, vocab_size: int, where: Path) -> tuple[list[str], list[int]]:
    """Token strings in id order with their types; ids the tokenizer lacks are padding."""
    import gguf

    by_id = {i: t for t, i in tokenizer.get_vocab().items()}
    beyond = sorted(i for i in by_id if i >= vocab_size)
    if beyond:
        raise problem(where, "FTC605", f"the tokenizer has {len(beyond)} token id(s) at or "
                      f"above the model's vocab_size {vocab_size} (first: {beyond[0]})",
                      "resize the model's embeddings to the tokenizer "
                      "(resize_token_embeddings) before exporting")
    added = tokenizer.added_tokens_decoder
    tokens, types = [], []
    for i in range(vocab_size):
        if i not in by_id:
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
        elif i in added:
            tokens.append(by_id[i])
            types.append(gguf.TokenType.CONTROL if added[i].special
                         else gguf.TokenType.USER_DEFINED)
        else:
            tokens.append(by_id[i])
            types.append(gguf.TokenType.NORMAL)
    return tokens, [int(t) for t in types]


def _adds_bos(tokenizer) -> bool:
    bos = tokenizer.bos_token_id
    ids = tokenizer("a")["input_ids"]
    return bos is not None and bool(ids) and ids[0] == bos
