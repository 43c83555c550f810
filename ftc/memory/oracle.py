"""Published memory figures (../shared/corpus/memory-oracle.md) and ftc's error on them.

The markdown file is the source of truth for the numbers: its tables are
parsed here.  How each measured row maps onto an ftc Workload (model, method,
batch, what the source measured) is data in oracle_cases.yaml beside this
file.  Tests and `make bench` both use `compare_all`.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from ftc.memory.accelerate_rule import training_bytes
from ftc.memory.data import table
from ftc.memory.estimator import base_weight_bytes, estimate
from ftc.memory.shapes import from_table
from ftc.memory.units import UNITS
from ftc.memory.workload import Workload

ORACLE = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "memory-oracle.md"
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_NUMBER = re.compile(r"([0-9][0-9,]*(?:\.[0-9]+)?)\s*([KMGT]i?B)?")


@dataclass
class OracleRow:
    number: int
    cells: list[str]

    @property
    def reported(self) -> str:
        """The 'Reported' cell of a measured row, or the 'Output' cell of a formula row."""
        return self.cells[9] if len(self.cells) >= 11 else self.cells[-1]

    def figures(self) -> list[str]:
        """Bold figures of the reported cell, in order."""
        return _BOLD.findall(self.reported)


def read_oracle(path: Path = ORACLE) -> dict[int, OracleRow]:
    """Rows of every table in the oracle file, by their row number."""
    rows: dict[int, OracleRow] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\|\s*(\d+)\s*\|", line)
        if match:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            rows[int(match.group(1))] = OracleRow(int(match.group(1)), cells)
    return rows


def parse_figure(text: str, unit: str | None = None) -> list[float]:
    """Bytes of each number in a figure such as '14,949 MB' or '41 / 21 / 10 / 6 GB'.

    `unit` overrides the written one (nvidia-smi writes MB for MiB).
    """
    numbers = _NUMBER.findall(text)
    written = next((u for _, u in reversed(numbers) if u), None)
    scale = UNITS[(unit or written or "B").upper()]
    return [float(n.replace(",", "")) * scale for n, _ in numbers]


# --------------------------------------------------------------------------- cases


@dataclass
class Case:
    row: int
    label: str
    metric: str  # reserved | allocated | weights | fits
    unit: str | None
    workload: Workload
    figure: int = 0  # which bold figure of the reported cell
    item: int = 0  # which number inside it ('41 / 21 / 10 / 6 GB')
    capacity: str | None = None  # metric fits: the GPU memory the source names
    calibration: bool = False  # an ftc constant was fitted on this row
    note: str = ""


def workload_from_spec(spec: dict) -> Workload:
    spec = dict(spec)
    shape = from_table(spec.pop("model"))
    if shape is None:
        raise KeyError("oracle case names a model missing from models.yaml")
    if "framework_mib" in spec:
        spec["framework_bytes"] = spec.pop("framework_mib") * 2**20
    for key in ("lora_targets",):
        if key in spec:
            spec[key] = tuple(spec[key])
    return Workload(shape=shape, **spec)


def cases() -> list[Case]:
    out = []
    for row in table("oracle_cases")["cases"]:
        row = dict(row)
        out.append(Case(row=row["row"], label=row["label"], metric=row["metric"],
                        unit=row.get("unit"), workload=workload_from_spec(row["workload"]),
                        figure=row.get("figure", 0), item=row.get("item", 0),
                        capacity=row.get("capacity"), calibration=row.get("calibration", False),
                        note=row.get("note", "")))
    return out


# --------------------------------------------------------------------------- comparison


def four_x_rule(w: Workload, load_only: bool = False) -> float:
    """accelerate estimate-memory: 4 x the model's bytes at the run's dtype (1 x to load).

    Its "Training using Adam" figure; the dtype a user would pick: float32 for
    fp32 runs, float16 for mixed/bf16 runs, int4/int8 for quantized bases.
    """
    params = w.shape.parameters()
    if w.quantized:
        width = 1.0 if w.base_dtype == "int8" else 0.5
    else:
        width = 4.0 if (w.precision == "fp32" or (load_only and w.base_dtype == "fp32")) else 2.0
    size = params * width
    return size if load_only else training_bytes(size)


# LLaMA-Factory's hardware table (README "Hardware Requirement"): GB per billion
# parameters by method and precision (memory-oracle 2.1: 18x AMP, 8x pure 16-bit,
# 2x for 16-bit LoRA/freeze, x and x/2 for 8/4-bit QLoRA).  No activations.
LLAMAFACTORY_GB_PER_B = {"full-amp": 18, "full-16": 8, "lora-16": 2, "qlora-8": 1,
                         "qlora-4": 0.5}


def llamafactory_rule(w: Workload) -> float | None:
    """LLaMA-Factory's multiplier for the run (bytes), or None where its table has no row
    (fp32 training, prefix tuning...)."""
    if w.tuning == "full":
        key = "full-amp" if w.autocast else "full-16" if w.base_dtype in ("bf16", "fp16") \
            else None
    elif w.tuning == "lora":
        key = "lora-16" if w.base_dtype in ("bf16", "fp16") else None
    elif w.tuning == "qlora":
        key = "qlora-8" if w.base_dtype == "int8" else "qlora-4"
    else:
        key = None
    return None if key is None else LLAMAFACTORY_GB_PER_B[key] * w.shape.parameters()


@dataclass
class Comparison:
    case: Case
    published: float
    ftc: float
    rule: float | None
    low: float = 0.0
    high: float = 0.0
    details: dict = field(default_factory=dict)
    llamafactory: float | None = None

    @property
    def llamafactory_error(self) -> float | None:
        return None if self.llamafactory is None else self.llamafactory / self.published - 1

    @property
    def error(self) -> float:
        return self.ftc / self.published - 1

    @property
    def rule_error(self) -> float | None:
        return None if self.rule is None else self.rule / self.published - 1


def compare(case: Case, rows: dict[int, OracleRow]) -> Comparison:
    """ftc's figure for one case against the published one (same quantity, same unit)."""
    text = rows[case.row].figures()[case.figure]
    published = parse_figure(text, case.unit)[case.item]
    w = case.workload
    est = estimate(w)
    if case.metric == "weights":
        return Comparison(case, published, base_weight_bytes(w), four_x_rule(w, load_only=True))
    if case.metric == "allocated":
        value, low, high = est.tensors, est.tensors, est.tensors
    elif case.metric == "fits":
        from ftc.memory.gpus import lookup_gpu

        capacity = lookup_gpu(case.capacity).memory_bytes
        value = est.expected - est.evictable
        return Comparison(case, float(capacity), value, None,
                          details={"fits": value <= capacity, "expected": est.expected,
                                   "evictable": est.evictable})
    else:
        value, low, high = est.expected, est.low, est.high
    return Comparison(case, published, value, four_x_rule(w), low, high,
                      llamafactory=llamafactory_rule(w))


def compare_all(path: Path = ORACLE) -> list[Comparison]:
    rows = read_oracle(path)
    return [compare(c, rows) for c in cases()]


def median_abs_error(comparisons: list[Comparison], rule: bool | str = False) -> float:
    """Median |error| of ftc, of the 4x rule (rule=True) or of LLaMA-Factory's multipliers
    (rule="llamafactory", over the rows its table covers)."""
    def err(c: Comparison) -> float | None:
        if rule == "llamafactory":
            return c.llamafactory_error
        return c.rule_error if rule else c.error

    errs = [abs(e) for c in comparisons if c.case.metric != "fits"
            and (e := err(c)) is not None]
    return statistics.median(errs)
