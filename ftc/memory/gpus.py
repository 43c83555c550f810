"""GPU memory and bf16 support by name (the table in gpus.yaml), or memory by an explicit size."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cache

from ftc.memory.data import table
from ftc.memory.errors import BAD_SETTING, UNKNOWN_GPU, MemoryInputError
from ftc.memory.units import MIB, parse_size


@dataclass(frozen=True)
class Gpu:
    name: str
    memory_bytes: int
    nominal: str = ""
    warning: str | None = None  # e.g. an ambiguous name resolved to its smaller size
    bf16: bool | None = None  # native bfloat16 (None: not known)


def _key(name: str) -> str:
    key = re.sub(r"[\s_\-]", "", str(name)).lower()
    key = re.sub(r"^(nvidia|amd)", "", key)
    return key


def known_gpus() -> list[str]:
    return list(table("gpus")["gpus"])


@cache  # the table is loaded once; so is its index of names
def _index() -> dict[str, str]:
    index: dict[str, str] = {}
    for name, row in table("gpus")["gpus"].items():
        for alias in [name, *row.get("aliases", [])]:
            index.setdefault(_key(alias), name)
    return index


def lookup_gpu(name: str, key: str = "hardware.gpu") -> Gpu:
    """The table entry for a GPU name; MemoryInputError with did-you-mean and the list."""
    index = _index()
    found = index.get(_key(name)) or index.get(_key(re.sub(r"(?i)gb$", "", str(name))))
    sizes = {_key(k): v for k, v in (table("gpus").get("ambiguous") or {}).items()}
    if found is None and _key(name) in sizes:
        choices = sizes[_key(name)]
        gpu = lookup_gpu(choices[0], key)
        return Gpu(gpu.name, gpu.memory_bytes, gpu.nominal,
                   f"{name!r} comes as {' or '.join(choices)}; checking against "
                   f"{choices[0]} (name the larger one if that is yours)", gpu.bf16)
    if found is None:
        close = difflib.get_close_matches(_key(name), list(index), n=1, cutoff=0.5)
        guess = f"did you mean {index[close[0]]!r}? " if close else ""
        raise MemoryInputError(key, UNKNOWN_GPU, f"unknown GPU {name!r}",
                               f"{guess}known: {', '.join(known_gpus())}; or give "
                               "hardware.gpu_memory (e.g. 24GiB)")
    row = table("gpus")["gpus"][found]
    return Gpu(found, int(row["memory_mib"]) * MIB, row.get("nominal", ""), bf16=row.get("bf16"))


def bf16_support(name: str) -> tuple[str, bool] | None:
    """(table name, whether it computes in bf16) for a GPU name; None when not in the table."""
    try:
        gpu = lookup_gpu(name)
    except MemoryInputError:
        return None
    return None if gpu.bf16 is None else (gpu.name, gpu.bf16)


def capacity(gpu: str | None = None, gpu_memory: str | None = None) -> Gpu | None:
    """The memory to check against: gpu_memory wins over the table; None when neither."""
    if gpu_memory:
        try:
            size = parse_size(gpu_memory)
        except ValueError as exc:
            raise MemoryInputError("hardware.gpu_memory", BAD_SETTING, str(exc)) from None
        return Gpu(gpu or f"a {gpu_memory} GPU", size)
    if gpu:
        return lookup_gpu(gpu)
    return None
