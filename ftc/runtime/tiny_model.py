"""A tiny Llama and its tokenizer, made locally, loadable like a hub model.

No model hub is reachable in tests or on a fresh machine, yet the quickstart must
run the whole job. This builds a randomly initialised Llama from a LlamaConfig,
trains a byte-level BPE tokenizer with `tokenizers` on the example data, gives it
a ChatML template whose assistant turns sit in a `{% generation %}` block (what
TRL's assistant-only loss reads), and saves both with save_pretrained, so the
runtime loads it through the same from_pretrained path as a real model.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

BOS, EOS, PAD = "<|endoftext|>", "<|im_end|>", "<|pad|>"
IM_START = "<|im_start|>"
SPECIAL_TOKENS = [BOS, IM_START, EOS, PAD]

# ChatML; the assistant's text and its end-of-turn token are inside the
# generation block, so the model learns to stop.
CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{%- if message['role'] == 'assistant' %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- generation %}{{- message['content'] + '<|im_end|>' }}{%- endgeneration %}"
    "{{- '\\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)


@dataclass(frozen=True)
class TinySpec:
    """Shape of the tiny model; the defaults train the quickstart in about a minute."""

    hidden_size: int = 128
    layers: int = 2
    heads: int = 4
    kv_heads: int = 2
    intermediate_size: int = 344
    vocab_size: int = 1024
    max_positions: int = 2048
    seed: int = 0

    def config_dict(self, vocab_size: int | None = None) -> dict:
        """The LlamaConfig fields of this shape: the one place the tiny model's shape is
        spelled (build_model and tests both read it)."""
        return {"model_type": "llama", "vocab_size": vocab_size or self.vocab_size,
                "hidden_size": self.hidden_size, "intermediate_size": self.intermediate_size,
                "num_hidden_layers": self.layers, "num_attention_heads": self.heads,
                "num_key_value_heads": self.kv_heads,
                "max_position_embeddings": self.max_positions, "tie_word_embeddings": True}


def train_tokenizer(texts: Iterable[str], vocab_size: int):
    """A byte-level BPE tokenizer (transformers fast tokenizer) trained on texts."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(texts, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        additional_special_tokens=[IM_START],
        model_max_length=None,
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def build_model(tokenizer, spec: TinySpec):
    """A randomly initialised LlamaForCausalLM sized by spec, ids agreeing with tokenizer."""
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    fields = spec.config_dict(vocab_size=len(tokenizer))
    fields.pop("model_type")
    config = LlamaConfig(
        **fields,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        # 1/sqrt(hidden): logits start with a usable range, so LoRA on this
        # untrained base can still move the loss far (0.02 caps it near ln(vocab) - 3).
        initializer_range=spec.hidden_size**-0.5,
    )
    torch.manual_seed(spec.seed)
    model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return model


def init_tiny_model(out_dir: Path, texts: Iterable[str], spec: TinySpec = TinySpec()) -> Path:
    """Build and save model + tokenizer into out_dir (written aside, then moved in whole)."""
    tokenizer = train_tokenizer(texts, spec.vocab_size)
    model = build_model(tokenizer, spec)
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        staging.chmod(0o755)  # mkdtemp makes it private; a model directory is not
        for file in staging.iterdir():
            file.chmod(0o644)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        staging.rename(out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out_dir
