"""Load a GGUF file in llama.cpp (llama-cpp-python) and compare it with the trained model.

Three comparisons on the probe: the logits of every position (against the
fp32 model in transformers), greedy generation of up to 20 tokens (llama.cpp's
own sampler at top_k 1 against transformers' generate with do_sample off, both
stopping at end-of-sequence), and the token ids llama.cpp's tokenizer gives the
probe text against the Hugging Face tokenizer's. llama-cpp-python is an
optional dependency (it builds llama.cpp from source): without it the check is
recorded as skipped, with the reason.
"""

from __future__ import annotations

from pathlib import Path

GREEDY_TOKENS = 20


def unavailable() -> str | None:
    """None when llama_cpp imports, else why not (for the report and skipped tests)."""
    try:
        import llama_cpp  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - a failed native build raises OSError too
        return f"llama-cpp-python is not installed ({type(exc).__name__}: {exc}); " \
               "pip install 'ftc[export]' builds it"
    return None


def check_llama_cpp(path: Path, model, tokenizer, probe: list[int], text: str) -> dict:
    """Logit and greedy agreement of the GGUF file in llama.cpp with `model` (fp32)."""
    import numpy as np
    import torch
    from llama_cpp import GGML_TYPE_F32, Llama

    from ftc.export.model import compare

    # an f32 KV cache (llama.cpp's default is f16) so that the difference measured is the
    # file's own: an f32 file then matches transformers to ~1e-5
    llm = Llama(model_path=str(path), n_ctx=len(probe) + GREEDY_TOKENS + 8, n_batch=512,
                logits_all=True, verbose=False, seed=0, n_threads=_threads(),
                type_k=GGML_TYPE_F32, type_v=GGML_TYPE_F32)
    try:
        llm.eval(probe)
        scores = np.array(llm.scores[: len(probe)], dtype=np.float32)
        with torch.no_grad():
            expected = model(torch.tensor([probe])).logits[0]
        result = compare(expected, torch.from_numpy(scores))
        llm.reset()
        ours = _llama_greedy(llm, probe, tokenizer.eos_token_id)
        theirs = hf_greedy(model, probe, tokenizer)
        result.update(greedy_llama_cpp=ours, greedy_transformers=theirs,
                      greedy_match=ours == theirs,
                      tokenizer_match=_tokenize(llm, text, tokenizer) == tokenizer(text)[
                          "input_ids"])
    finally:
        llm.close()  # now, not in __del__ at interpreter exit (which raises there)
    return result


def hf_greedy(model, probe: list[int], tokenizer) -> list[int]:
    """transformers' greedy continuation: at most GREEDY_TOKENS, ending at EOS if produced."""
    import torch

    with torch.no_grad():
        out = model.generate(torch.tensor([probe]), attention_mask=torch.ones(1, len(probe),
                             dtype=torch.long), do_sample=False, max_new_tokens=GREEDY_TOKENS,
                             eos_token_id=tokenizer.eos_token_id,
                             pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id)
    return [int(t) for t in out[0, len(probe):]]


def _llama_greedy(llm, probe: list[int], eos: int | None) -> list[int]:
    out: list[int] = []
    for token in llm.generate(probe, top_k=1, top_p=1.0, min_p=0.0, temp=0.0,
                              repeat_penalty=1.0, reset=True):
        out.append(int(token))
        if token == eos or len(out) >= GREEDY_TOKENS:
            break
    return out


def _tokenize(llm, text: str, tokenizer) -> list[int]:
    add_bos = bool(tokenizer.bos_token_id is not None and
                   tokenizer("a")["input_ids"][:1] == [tokenizer.bos_token_id])
    return [int(t) for t in llm.tokenize(text.encode("utf-8"), add_bos=add_bos, special=True)]


def _threads() -> int:
    import os

    return max(1, min(4, os.cpu_count() or 1))
