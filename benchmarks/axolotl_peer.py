"""axolotl as a measured peer for the compiler benchmark.

Two halves that run in different Pythons:

- `python benchmarks/axolotl_peer.py CONFIG...` runs in axolotl's own venv
  (`make bench-peers` makes .venv-peers): it validates each config the way
  `axolotl train` does before loading anything (yaml.safe_load, then
  `axolotl.utils.config.validate_config`, axolotl's pydantic model) and prints
  one JSON line: how many passed and failed.  It imports nothing from ftc.
- `translate` (ftc's venv) writes the same settings as an ftc recipe, so that
  `ftc lint` checks the same configs: model, adapter and its rank/alpha/dropout/
  targets, sequence length, learning rate, epochs/steps, batch split, optimizer,
  schedule, warmup, weight decay, precision, checkpointing and packing.  Values
  ftc does not name (an optimizer outside its enum) are left out rather than
  turned into errors, which would end ftc's checks early and flatter it.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PEER_PYTHON = ROOT / ".venv-peers" / "bin" / "python"
CORPUS = ROOT.parent / "shared" / "corpus" / "axolotl-examples"
NOT_MEASURED = "not measured (make bench-peers installs axolotl in .venv-peers)"


def corpus_configs(corpus: Path = CORPUS) -> list[Path]:
    return sorted(p for p in corpus.rglob("*") if p.suffix in (".yml", ".yaml"))


def peer_available() -> bool:
    return PEER_PYTHON.is_file() and bool(corpus_configs())


def _number(value) -> float | None:
    try:
        number = float(value)  # PyYAML (YAML 1.1) reads 2e-5 as a string
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None


def _enum(schema: dict, *path: str) -> list:
    node = schema
    for key in path:
        node = node["properties"][key]
    return node.get("enum", [])


def _lora(cfg: dict) -> dict:
    lora: dict = {}
    if isinstance(cfg.get("lora_r"), int) and cfg["lora_r"] >= 1:
        lora["r"] = cfg["lora_r"]
    if isinstance(cfg.get("lora_alpha"), int) and cfg["lora_alpha"] >= 1:
        lora["alpha"] = cfg["lora_alpha"]
    if _number(cfg.get("lora_dropout")) is not None:
        lora["dropout"] = _number(cfg["lora_dropout"])
    targets = cfg.get("lora_target_modules")
    if cfg.get("lora_target_linear"):
        lora["target_modules"] = "all-linear"
    elif isinstance(targets, list) and targets and all(isinstance(t, str) for t in targets):
        lora["target_modules"] = list(dict.fromkeys(targets))
    return lora


def _training(cfg: dict, schema: dict) -> dict:
    tr: dict = {}
    ints = {"num_epochs": "epochs", "max_steps": "max_steps",
            "micro_batch_size": "micro_batch_size",
            "gradient_accumulation_steps": "gradient_accumulation"}
    for theirs, ours in ints.items():
        value = _number(cfg.get(theirs))
        if value is not None and value >= 1 and value == int(value):
            tr[ours] = int(value)
    for theirs, ours in {"learning_rate": "learning_rate", "weight_decay": "weight_decay",
                         "warmup_ratio": "warmup_ratio"}.items():
        if _number(cfg.get(theirs)) is not None and 0 <= _number(cfg[theirs]) < 1:
            tr[ours] = _number(cfg[theirs])
    if cfg.get("optimizer") in _enum(schema, "training", "optimizer"):
        tr["optimizer"] = cfg["optimizer"]
    if cfg.get("lr_scheduler") in _enum(schema, "training", "scheduler"):
        tr["scheduler"] = cfg["lr_scheduler"]
    if cfg.get("bf16") is True:
        tr["precision"] = "bf16"
    if isinstance(cfg.get("gradient_checkpointing"), bool):
        tr["gradient_checkpointing"] = cfg["gradient_checkpointing"]
    return tr


def translate(name: str, cfg: dict, schema: dict, data: str) -> dict:
    """The axolotl config's settings as an ftc recipe (data: a file ftc can check)."""
    kind = {"lora": "lora", "qlora": "qlora"}.get(cfg.get("adapter") or "", "full")
    model: dict = {"base": str(cfg.get("base_model") or "meta-llama/Llama-3.1-8B")}
    seq = _number(cfg.get("sequence_len"))
    if seq is not None and seq >= 1 and seq == int(seq):
        model["max_seq_length"] = int(seq)
    method: dict = {"kind": kind}
    if kind != "full" and _lora(cfg):
        method["lora"] = _lora(cfg)
    recipe = {"name": re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "x",
              "model": model, "method": method,
              "data": {"train": data, "packing": bool(cfg.get("sample_packing"))},
              "training": _training(cfg, schema),
              "hardware": {"accelerator": "gpu", "gpu": "H100-80GB", "gpus": 1}}
    if not recipe["training"]:
        del recipe["training"]
    return recipe


def write_recipes(configs: list[Path], out: Path, data: Path) -> list[Path]:
    """One ftc recipe per axolotl config, in `out` (JSON is YAML)."""
    from ruamel.yaml import YAML

    schema = json.loads((ROOT / "schemas" / "recipe.schema.json").read_text())
    paths = []
    for i, config in enumerate(configs):
        cfg = YAML(typ="safe", pure=True).load(config.read_text(encoding="utf-8")) or {}
        recipe = translate(f"{config.parent.name}-{config.stem}", cfg, schema, str(data))
        path = out / f"axolotl_{i:03d}.yaml"
        path.write_text(json.dumps(recipe, indent=1), encoding="utf-8")
        paths.append(path)
    return paths


def validate(paths: list[str]) -> dict:
    """In axolotl's venv: validate each config as `axolotl train` does first."""
    import logging
    import warnings

    import yaml
    from axolotl.utils.config import validate_config
    from axolotl.utils.dict import DictDefault

    logging.disable(logging.WARNING)
    passed = failed = 0
    for path in paths:
        with open(path, encoding="utf-8") as f:
            cfg = DictDefault(yaml.safe_load(f))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                validate_config(cfg)
            passed += 1
        except Exception:  # noqa: BLE001 - a rejected config is a result, not a crash
            failed += 1
    return {"passed": passed, "failed": failed}


if __name__ == "__main__":
    print(json.dumps(validate(sys.argv[1:])))
