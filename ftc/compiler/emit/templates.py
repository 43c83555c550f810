"""Render the text templates in launch/ ({{NAME}} placeholders, nothing clever)."""

from __future__ import annotations

import re
import shlex
import sys

from ftc import SCHEMA_VERSION, __version__
from ftc.compiler.emit.accelerate_config import distributed_type
from ftc.resources import read_text


def render(name: str, fields: dict[str, object]) -> str:
    text = read_text("launch", name)  # package data: ftc/share/launch
    out = re.sub(r"\{\{([A-Z_]+)\}\}", lambda m: str(fields[m.group(1)]), text)
    return out


def summary(values: dict) -> str:
    m, hw = values["method"], values["hardware"]
    where = f"{hw['nodes']} node(s) x {hw['gpus']} {hw['accelerator']}"
    return f"{m['kind']} on {values['model']['base']}, {where}, {hw['strategy']}"


def common_fields(values: dict, lock: dict) -> dict[str, object]:
    hw = values["hardware"]
    return {
        "NAME": values["name"],
        "SUMMARY": summary(lock),
        "NODES": hw["nodes"],
        "WORLD_SIZE": hw["world_size"],
        "LAST_RANK": hw["nodes"] - 1,
    }


def launch_sh(values: dict, lock: dict) -> str:
    """launch.sh, naming the Python that compiled it: it has ftc, so the runtime too."""
    return render("launch.sh.tmpl", {**common_fields(values, lock),
                                     "PYTHON": shlex.quote(sys.executable or "python3")})


def slurm_sbatch(values: dict, lock: dict) -> str:
    hw = values["hardware"]
    slurm = hw.get("slurm", {})
    gpu_line = f"#SBATCH --gpus-per-node={hw['gpus']}\n" if hw["accelerator"] == "gpu" else ""
    extra = "".join(f"#SBATCH --{flag}={slurm[key]}\n" for key, flag in (
        ("partition", "partition"), ("account", "account"), ("time", "time"),
        ("cpus_per_task", "cpus-per-task"), ("mem", "mem")) if key in slurm)
    return render("slurm.sbatch.tmpl", {**common_fields(values, lock), "GPU_LINE": gpu_line,
                                         "EXTRA_SBATCH": extra, "GPUS": hw["gpus"]})


def _training_line(tr: dict, hw: dict) -> str:
    length = f"{tr['max_steps']} steps" if tr.get("max_steps") else f"{tr['epochs']} epochs"
    return (f"{length}, lr {tr['learning_rate']:g}, batch {tr['batch_size']} = "
            f"{tr['micro_batch_size']} x {tr['gradient_accumulation']} x {hw['world_size']}, "
            f"{tr['precision']}")


def bundle_readme(values: dict, lock: dict) -> str:
    m, tr, hw, data = lock["method"], lock["training"], lock["hardware"], lock["data"]
    kind = distributed_type(values)
    return render("README.md.tmpl", {
        **common_fields(values, lock),
        "DESCRIPTION": values.get("description", "A fine-tuning job compiled by ftc."),
        "MODEL": f"`{lock['model']['base']}` (max {lock['model']['max_seq_length']} tokens)",
        "METHOD": m["kind"] + (f" (r={m['lora']['r']}, alpha={m['lora']['alpha']})"
                               if "lora" in m else ""),
        "DATA": ", ".join(f"`{f}`" for f in data["train"]) + f" ({data['format']})",
        "TRAINING": _training_line(tr, hw),
        "HARDWARE": summary(lock).split(", ", 1)[1],
        "DISTRIBUTED": kind,
        "DS_ROW": "| deepspeed.json | DeepSpeed ZeRO config |\n" if kind == "DEEPSPEED" else "",
        "FTC_VERSION": __version__,
        "SCHEMA_VERSION": SCHEMA_VERSION,
    })
