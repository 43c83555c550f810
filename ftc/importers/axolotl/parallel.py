"""axolotl's `deepspeed` and `fsdp`/`fsdp_config` as ftc's hardware.strategy and friends.

axolotl names a DeepSpeed JSON (its own deepspeed_configs/*.json, or a file of the user's);
ftc writes its DeepSpeed config itself from hardware.strategy and hardware.offload, so the
file's ZeRO stage and offload settings are what carries over.
"""

from __future__ import annotations

import json
from pathlib import Path

from ftc.compiler.loader import Node
from ftc.importers.axolotl import tables
from ftc.importers.mapping import Mapping

_FSDP_KEEP = {"auto_wrap_policy", "transformer_layer_cls_to_wrap", "cpu_ram_efficient_loading",
              "sync_module_states", "use_orig_params", "limit_all_gathers", "forward_prefetch",
              "backward_prefetch", "cpu_offload_pin_memory", "min_num_params"}


def map_parallel(m: Mapping, found: dict[str, Node], config_dir: Path) -> None:
    if "deepspeed" in found:
        _deepspeed(m, found["deepspeed"], config_dir)
    fsdp_keys = {k: v for k, v in found.items() if k != "deepspeed"}
    if fsdp_keys:
        _fsdp(m, fsdp_keys)


def _deepspeed(m: Mapping, node: Node, config_dir: Path) -> None:
    key = "deepspeed"
    if node.kind == "map":
        zero = node.plain().get("zero_optimization") or {}
        return _zero(m, key, node, zero, "inline DeepSpeed config")
    name = Path(str(node.value)).name
    if name in tables.DEEPSPEED_FILES:
        strategy, offload = tables.DEEPSPEED_FILES[name]
        m.put("hardware.strategy", strategy, key, node, f"axolotl's {name}")
        if offload != "none":
            m.put("hardware.offload", offload, key, node)
        return None
    if name == "zero3_bf16_cpuoffload_params.json":
        m.put("hardware.strategy", "zero3", key, node)
        m.unsupported(key, node, "parameter offload without optimizer offload: ftc offloads "
                      "the optimizer, or the optimizer and parameters", changes=False)
        return None
    zero = _read_zero(config_dir, str(node.value))
    if zero is None:
        m.unsupported(key, node, f"DeepSpeed config {node.value!r} is neither one of axolotl's "
                      "nor readable here; set hardware.strategy (zero1/2/3)", changes=False)
        return None
    return _zero(m, key, node, zero, node.value)


def _read_zero(config_dir: Path, value: str) -> dict | None:
    for base in (Path.cwd(), config_dir):
        try:
            data = json.loads((base / value).read_text(encoding="utf-8")[:1_000_000])
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and isinstance(data.get("zero_optimization"), dict):
            return data["zero_optimization"]
    return None


def _zero(m: Mapping, key: str, node: Node, zero: dict, what: str) -> None:
    stage = zero.get("stage")
    if stage not in (1, 2, 3):
        m.unsupported(key, node, f"{what}: no ZeRO stage 1-3", changes=False)
        return
    m.put("hardware.strategy", f"zero{stage}", key, node)
    opt = (zero.get("offload_optimizer") or {}).get("device") in ("cpu", "nvme")
    par = (zero.get("offload_param") or {}).get("device") in ("cpu", "nvme")
    if opt or par:
        if par and not opt:
            m.unsupported(key, node, "parameter offload alone: ftc offloads the optimizer, "
                          "or the optimizer and parameters", changes=False)
        else:
            m.put("hardware.offload", "optimizer+params" if par else "optimizer", key, node)


def _fsdp(m: Mapping, found: dict[str, Node]) -> None:
    settings: dict = {}
    for key, node in found.items():
        if key == "fsdp":
            _fsdp_list(m, node, settings)
        elif key == "fsdp_version":
            settings["version"] = (key, node, node.value)
        elif node.kind == "map":
            for name, child in node.value.items():
                _fsdp_option(m, f"{key}.{name}", name.removeprefix("fsdp_"), child, settings)
        else:
            m.unsupported(key, node, "expected a mapping", changes=False)
    first_key, first_node = next(iter(found.items()))
    m.put("hardware.strategy", "fsdp", first_key, first_node)
    if "version" not in settings:  # accelerate's FSDP plugin defaults to version 1
        m.put("hardware.fsdp.version", 1, first_key, first_node, "axolotl's default FSDP1")
    for name, (key, node, value) in settings.items():
        target = {"version": "hardware.fsdp.version", "sharding": "hardware.fsdp.sharding",
                  "state_dict_type": "hardware.fsdp.state_dict_type",
                  "offload": "hardware.offload",
                  "checkpointing": "training.gradient_checkpointing"}[name]
        m.put(target, value, key, node)


def _fsdp_list(m: Mapping, node: Node, settings: dict) -> None:
    items = node.value if node.kind == "seq" else [node]
    for index, item in enumerate(items):
        word = str(item.value)
        sub = f"fsdp[{index}]"
        if word in tables.FSDP_SHARDING:
            settings["sharding"] = (sub, item, tables.FSDP_SHARDING[word])
        elif word == "offload":
            settings["offload"] = (sub, item, "optimizer+params")
        elif word == "auto_wrap":
            m.drop(sub, item, "ftc wraps each decoder layer (its default)")
        else:
            m.unsupported(sub, item, f"FSDP option {word!r}", changes=False)


def _fsdp_option(m: Mapping, key: str, name: str, node: Node, settings: dict) -> None:
    value = node.value
    if value is None:
        m.drop(key, node, "null")
    elif name == "version" and value in (1, 2):
        settings["version"] = (key, node, value)
    elif name == "sharding_strategy" and str(value).lower() in tables.FSDP_SHARDING:
        settings["sharding"] = (key, node, tables.FSDP_SHARDING[str(value).lower()])
    elif name == "reshard_after_forward" and isinstance(value, bool):
        settings["sharding"] = (key, node, "full_shard" if value else "shard_grad_op")
    elif name == "state_dict_type" and str(value).startswith(("FULL", "SHARDED")):
        settings["state_dict_type"] = (key, node, "full" if str(value).startswith("FULL")
                                       else "sharded")
    elif name == "offload_params" and isinstance(value, bool):
        if value:
            settings["offload"] = (key, node, "optimizer+params")
        else:
            m.drop(key, node, "false: ftc's default")
    elif name == "activation_checkpointing" and isinstance(value, bool):
        settings["checkpointing"] = (key, node, value)
    elif name in _FSDP_KEEP:
        m.drop(key, node, "FSDP wrapping/loading detail that ftc sets itself")
    else:
        m.unsupported(key, node, f"FSDP option {name!r} has no ftc equivalent", changes=False)
