"""Render the text templates in launch/ ({{NAME}} placeholders, nothing clever).

No recipe value can add a line or a command to a script: the schema keeps
control characters out of names, paths and slurm fields, and here, whatever
arrives, a value in a comment has its control characters escaped, an #SBATCH
value outside a plain character set is shell-quoted, the Python path in launch.sh
is shell-quoted, and numbers are ints.
"""

from __future__ import annotations

import re
import shlex
import sys

from ftc import SCHEMA_VERSION, __version__
from ftc.compiler.emit.accelerate_config import distributed_type
from ftc.diagnostics import one_line
from ftc.resources import read_text, shared_path

_PLAIN = re.compile(r"[A-Za-z0-9_.,+:=@%/-]+")

TEMPLATE_DIR = shared_path("launch")  # package data (ftc/share/launch); render reads it


def render(name: str, fields: dict[str, object]) -> str:
    text = read_text("launch", name)  # package data: ftc/share/launch
    out = re.sub(r"\{\{([A-Z_]+)\}\}", lambda m: str(fields[m.group(1)]), text)
    return out


def sbatch_value(value: object) -> str:
    """A value for an `#SBATCH --flag=VALUE` line: as is when plain, else one quoted line."""
    text = str(value)
    return text if _PLAIN.fullmatch(text) else shlex.quote(one_line(text))


def md_cell(text: object) -> str:
    """Text for one cell of a Markdown table: one line, `|` escaped."""
    return one_line(str(text)).replace("|", "\\|")


def _count(value: object) -> int:
    """A number that goes into shell code; only an int can (a bool or str is a bug)."""
    if type(value) is not int:
        raise TypeError(f"expected an integer for a launch script, got {value!r}")
    return value


def summary(values: dict) -> str:
    m, hw = values["method"], values["hardware"]
    where = f"{hw['nodes']} node(s) x {hw['gpus']} {hw['accelerator']}"
    return f"{m['kind']} on {values['model']['base']}, {where}, {hw['strategy']}"


def common_fields(values: dict, lock: dict) -> dict[str, object]:
    hw = values["hardware"]
    return {
        "NAME": one_line(values["name"]),  # in comments; #SBATCH lines use sbatch_value
        "SUMMARY": one_line(summary(lock)),
        "NODES": _count(hw["nodes"]),
        "WORLD_SIZE": _count(hw["world_size"]),
        "LAST_RANK": _count(hw["nodes"]) - 1,
    }


def launch_sh(values: dict, lock: dict) -> str:
    """launch.sh, naming the Python that compiled it: it has ftc, so the runtime too."""
    return render("launch.sh.tmpl", {**common_fields(values, lock),
                                     "PYTHON": shlex.quote(sys.executable or "python3")})


def slurm_sbatch(values: dict, lock: dict) -> str:
    hw = values["hardware"]
    slurm = hw.get("slurm", {})
    gpu_line = f"#SBATCH --gpus-per-node={_count(hw['gpus'])}\n" \
        if hw["accelerator"] == "gpu" else ""
    extra = "".join(f"#SBATCH --{flag}={sbatch_value(slurm[key])}\n" for key, flag in (
        ("partition", "partition"), ("account", "account"), ("time", "time"),
        ("cpus_per_task", "cpus-per-task"), ("mem", "mem")) if key in slurm)
    return render("slurm.sbatch.tmpl", {**common_fields(values, lock), "GPU_LINE": gpu_line,
                                         "EXTRA_SBATCH": extra, "GPUS": _count(hw["gpus"]),
                                         "JOB_NAME": sbatch_value(values["name"])})


def _training_line(tr: dict, hw: dict) -> str:
    length = f"{tr['max_steps']} steps" if tr.get("max_steps") else f"{tr['epochs']} epochs"
    return (f"{length}, lr {tr['learning_rate']:g}, batch {tr['batch_size']} = "
            f"{tr['micro_batch_size']} x {tr['gradient_accumulation']} x {hw['world_size']}, "
            f"{tr['precision']}")


def bundle_readme(values: dict, lock: dict) -> str:
    m, tr, hw, data = lock["method"], lock["training"], lock["hardware"], lock["data"]
    kind = distributed_type(values)
    description = values.get("description", "A fine-tuning job compiled by ftc.")
    return render("README.md.tmpl", {
        **common_fields(values, lock),
        "DESCRIPTION": "\n".join(one_line(part) for part in description.split("\n")),
        "MODEL": md_cell(f"`{lock['model']['base']}` (max {lock['model']['max_seq_length']} "
                         "tokens)"),
        "METHOD": md_cell(m["kind"] + (f" (r={m['lora']['r']}, alpha={m['lora']['alpha']})"
                                       if "lora" in m else "")),
        "DATA": md_cell(", ".join(f"`{f}`" for f in data["train"]) + f" ({data['format']})"),
        "TRAINING": md_cell(_training_line(tr, hw)),
        "HARDWARE": md_cell(summary(lock).split(", ", 1)[1]),
        "DISTRIBUTED": kind,
        "DS_ROW": "| deepspeed.json | DeepSpeed ZeRO config |\n" if kind == "DEEPSPEED" else "",
        "FTC_VERSION": __version__,
        "SCHEMA_VERSION": SCHEMA_VERSION,
    })
