"""SERVING.md and an Ollama Modelfile: how to serve what was exported, ready to paste.

Commands name the files by paths relative to the export folder (run them from
there). An adapter that was not merged is served on its base (vLLM
`--enable-lora`, TGI `--lora-adapters`, PEFT). Ollama's Modelfile needs the
chat template in Go template syntax: when the model's Jinja template renders
a probe conversation exactly like ChatML or Llama 3, the matching Go template
is written; otherwise the Modelfile says so and Ollama falls back to the
template stored in the GGUF metadata.
"""

from __future__ import annotations

import os
from pathlib import Path

PROBE = [{"role": "system", "content": "S"}, {"role": "user", "content": "U"},
         {"role": "assistant", "content": "A"}, {"role": "user", "content": "V"}]
GO_TEMPLATES = {
    "chatml": ('{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n'
               '{{ end }}<|im_start|>assistant\n'),
    "llama3": ('{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n'
               '{{ .Content }}<|eot_id|>\n{{- end }}<|start_header_id|>assistant'
               '<|end_header_id|>\n\n'),
}


def known_template(tokenizer) -> str | None:
    """'chatml' or 'llama3' when the tokenizer's template renders like it, else None."""
    if not getattr(tokenizer, "chat_template", None):
        return None
    ours = _render(tokenizer, None)
    if ours is None:
        return None
    for name in GO_TEMPLATES:
        if _render(tokenizer, _jinja(name)) == ours:
            return name
    return None


def modelfile(gguf_name: str, tokenizer) -> str:
    """An Ollama Modelfile for the GGUF file beside it."""
    lines = [f"FROM ./{gguf_name}"]
    template = known_template(tokenizer)
    if template:
        lines.append(f'TEMPLATE """{GO_TEMPLATES[template]}"""')
    else:
        lines.append("# The chat template is not one ftc can translate to Go template syntax;"
                     " Ollama uses the one in the GGUF metadata when it recognises it.")
    for stop in _stops(tokenizer):
        lines.append(f'PARAMETER stop "{stop}"')
    return "\n".join(lines) + "\n"


def serving_text(name: str, out: Path, files: dict, base: str | None, lora_rank: int | None
                 ) -> str:
    """SERVING.md: one section per server, for the files that exist."""
    rel = {k: [relative(out, p) for p in (v if isinstance(v, list) else [v])]
           for k, v in files.items() if v}
    parts = [f"# Serving {name}", "",
             "Run these from this folder. Each server exposes an OpenAI-compatible API.", ""]
    standalone = (rel.get("merged") or rel.get("model") or [None])[0]
    if standalone:
        parts += _section("vLLM", f"vllm serve {standalone} --served-model-name {name}")
        parts += _section("Text Generation Inference (Docker)",
                          f"docker run --rm -p 8080:80 -v \"$PWD/{standalone}:/model\" \\\n"
                          "  ghcr.io/huggingface/text-generation-inference:latest "
                          "--model-id /model")
    elif rel.get("adapter") and base:
        adapter = rel["adapter"][0]
        rank = f" --max-lora-rank {max(8, lora_rank)}" if lora_rank else ""
        parts += _section("vLLM (adapter on its base)",
                          f"vllm serve {base} --enable-lora \\\n"
                          f"  --lora-modules {name}={adapter}{rank}",
                          f"Requests name the adapter: `\"model\": \"{name}\"`.")
        parts += _section("Text Generation Inference (Docker, adapter on its base)",
                          f"docker run --rm -p 8080:80 -v \"$PWD/{adapter}:/adapter\" \\\n"
                          "  ghcr.io/huggingface/text-generation-inference:latest \\\n"
                          f"  --model-id {base} --lora-adapters {name}=/adapter")
        parts += _section("transformers + PEFT", _peft_snippet(base, adapter), lang="python")
    for gguf in rel.get("gguf", []):
        parts += _section(f"llama.cpp ({Path(gguf).name})",
                          f"llama-server -m {gguf} --jinja --port 8080",
                          "`--jinja` applies the chat template stored in the file.")
    if rel.get("gguf"):
        parts += _section("Ollama", f"ollama create {name} -f Modelfile\nollama run {name}",
                          "The Modelfile beside this file points at the first GGUF file.")
    for folder in rel.get("onnx", []):
        parts += _section("onnxruntime", _onnx_snippet(folder), lang="python")
    return "\n".join(parts).rstrip() + "\n"


def _section(title: str, command: str, note: str | None = None, lang: str = "sh") -> list[str]:
    return [f"## {title}", "", f"```{lang}", command, "```", *([note, ""] if note else [""])]


def _peft_snippet(base: str, adapter: str) -> str:
    return ("from peft import AutoPeftModelForCausalLM\n"
            "from transformers import AutoTokenizer\n"
            f"model = AutoPeftModelForCausalLM.from_pretrained({adapter!r})  # base: {base}\n"
            f"tokenizer = AutoTokenizer.from_pretrained({adapter!r})")


def _onnx_snippet(folder: str) -> str:
    return ("import numpy as np, onnxruntime as ort\n"
            "from transformers import AutoTokenizer\n"
            f"tokenizer = AutoTokenizer.from_pretrained({folder!r})\n"
            f"session = ort.InferenceSession({folder + '/model.onnx'!r})\n"
            "batch = tokenizer([\"Hello\"], return_tensors=\"np\")\n"
            "logits = session.run([\"logits\"], {\"input_ids\": batch[\"input_ids\"],\n"
            "                     \"attention_mask\": batch[\"attention_mask\"]})[0]\n"
            "next_token = int(np.argmax(logits[0, -1]))  # no KV cache: feed the whole "
            "sequence each step")


def relative(out: Path, path) -> str:
    """Relative to the export folder when that stays short, else absolute."""
    path = Path(path)
    rel = os.path.relpath(path, out)
    return rel if rel.count("..") <= 1 else str(path)


def _render(tokenizer, template: str | None) -> str | None:
    for messages in (PROBE, PROBE[1:]):
        try:
            return tokenizer.apply_chat_template(messages, chat_template=template,
                                                 add_generation_prompt=True, tokenize=False)
        except Exception:  # noqa: BLE001 - templates raise for roles they do not take
            continue
    return None


def _jinja(name: str) -> str:
    from ftc.runtime.chat_template import builtin

    return builtin(name)


def _stops(tokenizer) -> list[str]:
    stops = [tokenizer.eos_token] if tokenizer.eos_token else []
    for extra in ("<|im_end|>", "<|eot_id|>"):
        if extra in tokenizer.get_vocab() and extra not in stops:
            stops.append(extra)
    return stops
