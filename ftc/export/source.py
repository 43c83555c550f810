"""What is being exported: a finished run directory, a model directory or an adapter.

`find_source(path)` accepts what a user points at and refuses, with the reason,
what cannot be exported yet: a path that is not there, a run that has not
finished (no summary.json: interrupted or still training), weights that are
half-written. The runtime builds its Source from the outputs it has just saved
(`run_source`), since summary.json is written after the export.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ftc.export.errors import problem

RUN_INFO = "ftc_run.json"  # ftc.runtime.run_dir.RUN_INFO: marks a run directory
SUMMARY = "summary.json"
LOCK = "recipe.lock.yaml"
ADAPTERS_INDEX = "adapters.json"  # ftc.runtime.methods.prefix_adapter: named adapters
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                "pytorch_model.bin.index.json")
ADAPTER_FILES = ("adapter_model.safetensors", "adapter_model.bin")
# PEFT types whose weights fold into the base; prompt-learning types add tokens instead
MERGEABLE = {"LORA", "LOHA", "LOKR", "IA3", "OFT", "BOFT", "ADALORA", "VERA", "FOURIERFT"}


@dataclass(frozen=True)
class Source:
    """The trained weights and what is known about how they were trained."""

    weights: Path                 # the adapter directory, or the model directory
    name: str                     # names the GGUF file and the card
    adapter: bool = False
    base: str | None = None       # an adapter's base (local path or hub id)
    peft_type: str | None = None  # LORA, PREFIX_TUNING, ADAPTION_PROMPT, IA3, ...
    run_dir: Path | None = None
    lock: dict | None = None      # the run's resolved recipe (card, export block)
    adapter_names: tuple[str, ...] = ()  # several named adapters: none is merged

    def load_kwargs(self) -> dict:
        """from_pretrained options the recipe gave the base (remote code, hub revision)."""
        model = (self.lock or {}).get("model") or {}
        out = {"trust_remote_code": bool(model.get("trust_remote_code", False))}
        if model.get("revision"):
            out["revision"] = model["revision"]
        return out


def find_source(path: str | Path) -> Source:
    """A Source for a run directory, model directory or adapter directory (or ExportError)."""
    path = Path(path).expanduser()
    if not path.exists():
        raise problem(path, "FTC601", "nothing to export here: the path does not exist",
                      "pass a run directory (output_dir/<name>/run-*), a model directory "
                      "or an adapter directory")
    if (path / RUN_INFO).is_file() or (path / LOCK).is_file() and not _is_weights(path):
        return _run_source(path.resolve())
    if (path / "adapter_config.json").is_file():
        return _adapter(path.resolve(), path.resolve().name)
    if (path / "config.json").is_file():
        return _model(path.resolve(), path.resolve().name)
    raise problem(path, "FTC601",
                  "not a run, model or adapter directory (no ftc_run.json, config.json "
                  "or adapter_config.json)",
                  "pass output_dir/<name>/run-*, or a directory saved with save_pretrained")


def run_source(lock: dict, run_dir: Path, outputs: dict[str, str]) -> Source:
    """The runtime's Source: the outputs _save_outputs (or a method's save) just wrote."""
    name = lock.get("name") or run_dir.parent.name
    for key in ("adapter", "adapters", "model"):
        if key in outputs:
            return _from_weights(Path(outputs[key]), name, run_dir, lock)
    raise problem(run_dir, "FTC602", "the run saved no adapter or model to export")


def _run_source(run_dir: Path) -> Source:
    lock = _read_lock(run_dir)
    name = (lock or {}).get("name") or run_dir.parent.name
    if not (run_dir / SUMMARY).is_file():
        raise problem(run_dir, "FTC602",
                      "this run has not finished (no summary.json): it was interrupted or "
                      "is still training",
                      "resume it with `ftc launch BUNDLE --resume`, or export a "
                      "checkpoint-N directory's weights once the run ends")
    for sub in ("adapter", "adapters", "model"):
        if (run_dir / sub).is_dir():
            return _from_weights(run_dir / sub, name, run_dir, lock)
    raise problem(run_dir, "FTC602", "the run directory holds no adapter/, adapters/ or "
                  "model/ directory", "was it written by `ftc run`? Its outputs may have "
                  "been moved")


def _from_weights(weights: Path, name: str, run_dir: Path | None, lock: dict | None) -> Source:
    if (weights / ADAPTERS_INDEX).is_file():
        return _named_adapters(weights, name, run_dir, lock)
    if (weights / "adapter_config.json").is_file() or weights.name == "adapter":
        return _adapter(weights, name, run_dir, lock)
    return _model(weights, name, run_dir, lock)


def _model(path: Path, name: str, run_dir=None, lock=None) -> Source:
    if not (path / "config.json").is_file() or not _is_weights(path):
        raise problem(path, "FTC602", "the model directory is incomplete (no config.json "
                      "or no weights file): it looks half-written",
                      "export a complete save_pretrained directory")
    return Source(weights=path, name=name, run_dir=run_dir, lock=lock)


def _adapter(path: Path, name: str, run_dir=None, lock=None) -> Source:
    config = _read_json(path / "adapter_config.json")
    if config is None or not any((path / f).is_file() for f in ADAPTER_FILES):
        raise problem(path, "FTC602", "the adapter directory is incomplete (no readable "
                      "adapter_config.json or no adapter_model.safetensors): it looks "
                      "half-written", "export a complete adapter (save_pretrained)")
    base = config.get("base_model_name_or_path")
    if not base:
        raise problem(path / "adapter_config.json", "FTC609",
                      "the adapter does not name its base model (base_model_name_or_path)",
                      "set base_model_name_or_path in adapter_config.json")
    return Source(weights=path, name=name, adapter=True, base=str(base),
                  peft_type=str(config.get("peft_type", "")).upper(), run_dir=run_dir,
                  lock=lock)


def _named_adapters(path: Path, name: str, run_dir, lock) -> Source:
    index = _read_json(path / ADAPTERS_INDEX) or {}
    subdirs = dict(index.get("adapters") or {})
    if len(subdirs) == 1:
        (only,) = subdirs.values()
        return _adapter((path / only).resolve(), name, run_dir, lock)
    first = _adapter((path / next(iter(subdirs.values()), ".")).resolve(), name, run_dir, lock)
    return Source(weights=path, name=name, adapter=True, base=first.base,
                  peft_type=first.peft_type, run_dir=run_dir, lock=lock,
                  adapter_names=tuple(subdirs))


def _is_weights(path: Path) -> bool:
    return any((path / f).is_file() for f in WEIGHT_FILES) or any(path.glob("*.safetensors"))


def _read_json(path: Path) -> dict | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _read_lock(run_dir: Path) -> dict | None:
    """The run's copy of its lock, as plain values (None when it is missing or unreadable)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        tree = YAML(typ="safe", pure=True).load((run_dir / LOCK).read_text(encoding="utf-8"))
    except (OSError, YAMLError):
        return None
    return tree if isinstance(tree, dict) else None
