"""Byte sizes as people write them ('24GiB', '80GB') and as ftc prints them."""

from __future__ import annotations

import math
import re

KB, MB, GB, TB = 10**3, 10**6, 10**9, 10**12
KIB, MIB, GIB, TIB = 2**10, 2**20, 2**30, 2**40
MAX_SIZE = 10**15

UNITS = {"B": 1, "KB": KB, "MB": MB, "GB": GB, "TB": TB,
         "KIB": KIB, "MIB": MIB, "GIB": GIB, "TIB": TIB}

_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]+)\s*$")


def parse_size(text: str) -> int:
    """Bytes in '24GiB', '80 GB', '512MiB'; ValueError for anything else."""
    match = _SIZE.match(str(text))
    unit = match.group(2).upper() if match else ""
    if not match or unit not in UNITS:
        raise ValueError(f"not a memory size: {text!r} (write e.g. 24GiB or 80GB)")
    size = float(match.group(1)) * UNITS[unit]
    if not math.isfinite(size) or size > MAX_SIZE:
        raise ValueError(f"memory size {text[:40]!r} is beyond any GPU (at most 1 PB)")
    return int(size)


def gib(n: float) -> float:
    return n / GIB


def fmt(n: float) -> str:
    """GiB with one decimal (MiB below 1 GiB): the unit CUDA tools report in."""
    if abs(n) < GIB:
        return f"{n / MIB:,.0f} MiB"
    return f"{n / GIB:,.1f} GiB"


def fmt_range(low: float, high: float) -> str:
    """'55.2-70.3 GiB': a range in one unit."""
    if high < GIB:
        return f"{low / MIB:,.0f}-{high / MIB:,.0f} MiB"
    return f"{low / GIB:,.1f}-{high / GIB:,.1f} GiB"
