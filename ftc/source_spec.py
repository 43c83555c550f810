"""Data source entries as recipes and locks write them: a path, or an object with a path.

`data.train`, `data.validation` and `data.test` list entries that are either a path
string or a source object (path, name, split, revision, data_files, type, fields,
roles, system_prompt, weight, shuffle).  This module is pure (the compiler, the data
pipeline and the runtime share it): where an entry's path is, how a split slice
reads, which rows a slice keeps, and how weights turn into row counts.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

# Source types and the column names each reads by default.
TYPE_FIELDS: dict[str, dict[str, str]] = {
    "messages": {"messages": "messages", "role": "role", "content": "content"},
    "sharegpt": {"messages": "conversations", "role": "from", "content": "value"},
    "alpaca": {"instruction": "instruction", "input": "input", "output": "output"},
    "completion": {"prompt": "prompt", "completion": "completion"},
    "preference": {"prompt": "prompt", "chosen": "chosen", "rejected": "rejected"},
    "template": {},
}
SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
                  "system": "system", "model": "assistant", "bot": "assistant"}
_SLICE = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+)(?:\[(?P<start>-?\d*)(?P<sp>%?):"
                    r"(?P<stop>-?\d*)(?P<tp>%?)\])?$")


def source_type(spec: dict) -> str:
    """A source's type; `auto` with a field or role mapping reads as the type those
    fields belong to (messages, alpaca, preference, completion)."""
    kind = spec.get("type") or "auto"
    if kind != "auto":
        return kind
    keys = set(spec.get("fields") or {})
    if spec.get("roles") or keys & {"messages", "role", "content"}:
        return "messages"
    for kind, names in (("alpaca", {"instruction", "input", "output"}),
                        ("preference", {"chosen", "rejected"}),
                        ("completion", {"prompt", "completion"})):
        if keys & names:
            return kind
    return "auto"


def entries(value: object) -> list:
    """The entries of a data key (a path or a list of paths and source objects)."""
    if not value:
        return []
    return [value] if isinstance(value, (str, dict)) else list(value)


def entry_path(entry: object) -> str | None:
    """The path of an entry: the string itself, or a source object's `path`."""
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict) and isinstance(entry.get("path"), str):
        return entry["path"]
    return None


def with_path(entry: object, path: str) -> object:
    """The entry with its path replaced (a copy for a source object)."""
    return {**entry, "path": path} if isinstance(entry, dict) else path


@dataclass(frozen=True)
class SplitSlice:
    """`train[10:20]`, `train[:1%]`: the split's name and the slice's bounds."""

    name: str
    start: int | None = None
    stop: int | None = None
    percent: bool = False

    def bounds(self, rows: int) -> tuple[int, int]:
        """[lo, hi) row indices of a split of `rows` rows (as `datasets` reads a slice)."""
        def at(value: int | None, default: int) -> int:
            if value is None:
                return default
            if self.percent:  # datasets' "closest" rounding (Python's round)
                value = int(round(value * rows / 100.0))
            if value < 0:
                value = max(rows + value, 0)
            return min(value, rows)
        lo, hi = at(self.start, 0), at(self.stop, rows)
        return lo, max(lo, hi)

    @property
    def sliced(self) -> bool:
        return self.start is not None or self.stop is not None


class SliceError(ValueError):
    """A split string that is not `name` or `name[start:stop]` with one unit."""


def parse_split(text: str) -> SplitSlice:
    """`train`, `train[:1%]`, `train[100:200]`, `test[-10%:]`; SliceError says what is wrong."""
    match = _SLICE.match(text.strip())
    if not match:
        raise SliceError(f"split {text!r} is not NAME or NAME[start:stop] "
                         "(e.g. train, train[:1%], train[100:200])")
    start, stop = match["start"], match["stop"]
    units = {u for v, u in ((start, match["sp"]), (stop, match["tp"])) if v}
    if (match["sp"] and not start) or (match["tp"] and not stop):
        raise SliceError(f"split {text!r}: '%' needs a number before it")
    if len(units) > 1:
        raise SliceError(f"split {text!r} mixes rows and percents; use one unit")
    percent = units == {"%"}
    bounds = [int(v) if v else None for v in (start, stop)]
    if percent and any(v is not None and abs(v) > 100 for v in bounds):
        raise SliceError(f"split {text!r}: a percent is between -100% and 100%")
    if all(v is not None and v >= 0 for v in bounds) and bounds[0] > bounds[1]:
        raise SliceError(f"split {text!r} is empty: start {bounds[0]} is after stop "
                         f"{bounds[1]}")
    return SplitSlice(match["name"], bounds[0], bounds[1], percent)


def template_columns(text: str) -> list[str]:
    """Column names a `template` format string reads; ValueError for anything but plain
    `{column}` fields (no attribute or index access, no conversions)."""
    from string import Formatter  # its import compiles a regex: not on every lint

    names = []
    for _literal, field, spec, conversion in Formatter().parse(text):
        if field is None:
            continue
        if not field or not re.fullmatch(r"[A-Za-z_][\w -]*", field) or spec or conversion:
            raise ValueError(f"template field {{{field}}} must name a column: {{column}}")
        names.append(field)
    return names


def kept_counts(sizes: list[int], weights: list[float | None]) -> list[int]:
    """Rows each source keeps.  Weights that sum to 1 over every source of a split are
    mixing ratios (the largest mix in which source i is weight_i of the rows); otherwise
    a weight is the fraction of its own source kept (no weight: all of it)."""
    if len(sizes) > 1 and all(w is not None for w in weights) \
            and abs(sum(weights) - 1.0) < 1e-6:
        total = min(n / w for n, w in zip(sizes, weights, strict=True))
        return [min(n, int(math.floor(total * w + 0.5))) for n, w in
                zip(sizes, weights, strict=True)]
    return [n if w is None else min(n, int(math.floor(n * w + 0.5)))
            for n, w in zip(sizes, weights, strict=True)]
