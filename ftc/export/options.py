"""What to export: from the CLI's flags or from a lock's `export:` block.

Both roads end in one ExportOptions, so `ftc export RUN_DIR` with no flags and
the end of `ftc run` do exactly the same thing. The lock's keys
(schemas/recipe.schema.json, `export`):

- merge_adapters: true, or `merged` in formats -> a standalone merged model;
- formats: `safetensors` is the trained weights (adapter/ or model/), which
  training always writes, so it asks for nothing more here; `gguf` and `onnx`
  each ask for their file;
- gguf_quantization: the GGUF tensor type (f32, f16, bf16, q8_0);
- model_card: true/false, or an object with Hub metadata (license, language,
  tags, datasets, intended_use) -> README.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

GGUF_TYPES = ("f32", "f16", "bf16", "q8_0")
DEFAULT_GGUF = "f16"


@dataclass(frozen=True)
class ExportOptions:
    merge: bool = False
    gguf: tuple[str, ...] = ()
    onnx: bool = False
    card: dict | None = field(default_factory=dict)  # None: no model card
    check: bool = True  # load every file back and compare it with the trained model

    @property
    def needs_model(self) -> bool:
        """Whether the weights must be loaded (anything beyond the card and serving notes)."""
        return self.merge or bool(self.gguf) or self.onnx


def from_lock(values: dict | None) -> ExportOptions:
    """ExportOptions for a lock's resolved `export:` block (absent keys: the table defaults)."""
    from ftc.export.card import card_settings

    block = (values or {}).get("export") or {}
    formats = list(block.get("formats") or [])
    gguf_type = block.get("gguf_quantization") or DEFAULT_GGUF
    return ExportOptions(
        merge=bool(block.get("merge_adapters")) or "merged" in formats,
        gguf=(gguf_type,) if "gguf" in formats else (),
        onnx="onnx" in formats,
        card=card_settings(block),
    )
