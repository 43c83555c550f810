"""Does the job fit its GPU, and if not, what is the cheapest change that makes it fit?

`check_fit(values, mode)` estimates the resolved recipe, compares the
expected peak (less paged optimizer states, which CUDA may move to the host)
with the GPU's memory, and when it does not fit tries each fix of the
troubleshooting table (fixes.yaml), alone and then stacked, each with its new
estimate.  `fit_diagnostics(resolved)` is the compiler's hook: it turns the
report into diagnostics and, with hardware.fit: auto, applies the cheapest
fix that fits, recorded as `rule:memory-fit`.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ftc.dotted import get_dotted
from ftc.memory.data import table
from ftc.memory.errors import (
    AMBIGUOUS_GPU,
    APPLIED_FIX,
    CANNOT_FIT,
    DOES_NOT_FIT,
    TIGHT_FIT,
    MemoryInputError,
    Note,
)
from ftc.memory.estimator import Estimate, estimate
from ftc.memory.gpus import Gpu, capacity
from ftc.memory.units import fmt, fmt_range
from ftc.memory.workload import (
    TUNED_KINDS,
    from_values,
)

if TYPE_CHECKING:
    from ftc.compiler.resolve import Resolved
    from ftc.diagnostics import Diagnostic

FIT_SOURCE = "rule:memory-fit"
# Defaults a kind switch needs when the recipe had no such block (the same as
# ftc/tables/hyperparameters.yaml; used only if that table cannot be read).
LORA_DEFAULTS = {"r": 16, "alpha": 32, "dropout": 0.05,
                 "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"]}
QUANT_DEFAULTS = {"bits": 4, "quant_type": "nf4", "double_quant": True, "compute_dtype": "bf16"}


@dataclass
class Fix:
    """One change to the recipe (dotted path -> new value) and what it leads to."""

    id: str
    description: str
    changes: dict[str, object]
    estimate: Estimate
    fits: bool
    cost: int

    def summary(self) -> str:
        what = ", ".join(f"{k}: {_yaml(v)}" for k, v in self.changes.items())
        verdict = "fits" if self.fits else "still too big"
        return f"{self.description} [{what}] -> {fmt(usable(self.estimate))}, {verdict}"


@dataclass
class FitReport:
    estimate: Estimate | None
    capacity_bytes: int | None
    gpu: str | None = None
    fits: bool | None = None
    tight: bool = False  # fits, but the high end of the range does not
    fixes: list[Fix] = field(default_factory=list)  # fitting ones first, cheapest first
    everything: Fix | None = None  # every applicable fix at once (when nothing fits)
    chosen: Fix | None = None  # hardware.fit auto: the fix applied
    notes: list[Note] = field(default_factory=list)
    mode: str = "check"

    @property
    def needed(self) -> float:
        return usable(self.estimate) if self.estimate else 0.0

    def message(self) -> str:
        """Error text when the job does not fit (by how much, and the ranked fixes)."""
        return does_not_fit_message(self)


def usable(est: Estimate) -> float:
    """What must fit on the GPU: the expected peak less evictable (paged) states."""
    return est.expected - est.evictable


# --------------------------------------------------------------------------- values


def _set(values: dict, path: str, value: Any) -> None:
    parts = path.split(".")
    node = values
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def _table_defaults() -> tuple[dict, dict]:
    try:
        from ftc.tables import hyperparameters

        t = hyperparameters()
        lora = {k: v["default"] for k, v in t["lora"].items()
                if isinstance(v, dict) and "default" in v}
        targets = lora.get("target_modules", "attention")
        lora["target_modules"] = list(t["target_module_sets"].get(targets, targets))
        lora.setdefault("alpha", 2 * lora.get("r", 16))
        quant = {k: v["default"] for k, v in t["qlora"].items()
                 if isinstance(v, dict) and "default" in v and k != "gradient_checkpointing"}
        return lora, quant
    except (ImportError, KeyError, OSError):
        return dict(LORA_DEFAULTS), dict(QUANT_DEFAULTS)


def apply_changes(values: dict, changes: dict[str, object]) -> dict:
    """A copy of `values` with the fix applied (and the blocks a new kind needs)."""
    out = copy.deepcopy(values)
    for path, value in changes.items():
        _set(out, path, value)
    kind, tuning = get_dotted(out, "method.kind"), get_dotted(out, "method.tuning")
    peft = kind if kind in ("lora", "qlora") else tuning if kind in TUNED_KINDS else None
    if peft in ("lora", "qlora"):
        lora, quant = _table_defaults()
        block = out["method"].setdefault("lora", {})
        for key, value in lora.items():
            block.setdefault(key, value)
        if peft == "qlora":
            qblock = out["method"].setdefault("quantization", {})
            for key, value in quant.items():
                qblock.setdefault(key, value)
    return out


# --------------------------------------------------------------------------- fixes


Fits = Callable[[dict], bool]


def _micro_batch(values: dict, fits: Fits) -> dict | None:
    mb = int(get_dotted(values, "training.micro_batch_size", 1) or 1)
    ga = int(get_dotted(values, "training.gradient_accumulation", 1) or 1)
    if mb <= 1:
        return None
    for smaller in [d for d in range(mb - 1, 0, -1) if mb % d == 0]:
        changes = {"training.micro_batch_size": smaller,
                   "training.gradient_accumulation": ga * mb // smaller}
        if fits(apply_changes(values, changes)):
            return changes
    return {"training.micro_batch_size": 1, "training.gradient_accumulation": ga * mb}


def _checkpointing(values: dict, fits: Fits) -> dict | None:
    if get_dotted(values, "training.gradient_checkpointing"):
        return None
    return {"training.gradient_checkpointing": True}


def _trains_all(values: dict) -> bool:
    kind = get_dotted(values, "method.kind")
    return kind == "full" or (kind in TUNED_KINDS and get_dotted(values, "method.tuning") == "full")


def _optimizer_8bit(values: dict, fits: Fits) -> dict | None:
    if not _trains_all(values):
        return None
    if get_dotted(values, "training.optimizer", "adamw_torch") not in (
            "adamw_torch", "adamw_torch_fused", "paged_adamw_32bit"):
        return None
    return {"training.optimizer": "adamw_8bit"}


def _zero_stage(values: dict, fits: Fits) -> dict | None:
    world = int(get_dotted(values, "hardware.world_size", 1) or 1)
    strategy = get_dotted(values, "hardware.strategy", "none")
    if world <= 1:
        return None
    if strategy == "fsdp":
        if get_dotted(values, "hardware.fsdp.sharding", "full_shard") == "full_shard":
            return None
        return {"hardware.fsdp.sharding": "full_shard"}
    order = ["zero1", "zero2", "zero3"]
    higher = order[order.index(strategy) + 1:] if strategy in order else order
    for stage in higher:
        if fits(apply_changes(values, {"hardware.strategy": stage})):
            return {"hardware.strategy": stage}
    return {"hardware.strategy": "zero3"} if higher else None


def _method_key(values: dict) -> str:
    return "method.tuning" if get_dotted(values, "method.kind") in TUNED_KINDS else "method.kind"


def _lora(values: dict, fits: Fits) -> dict | None:
    if not _trains_all(values) or get_dotted(values, "method.kind") == "rlhf":
        return None
    return {_method_key(values): "lora"}


def _qlora(values: dict, fits: Fits) -> dict | None:
    key = _method_key(values)
    if get_dotted(values, key) not in ("full", "lora") or \
            get_dotted(values, "method.kind") == "rlhf":
        return None
    return {key: "qlora"}


def _offload_optimizer(values: dict, fits: Fits) -> dict | None:
    if get_dotted(values, "hardware.offload", "none") != "none":
        return None
    strategy = get_dotted(values, "hardware.strategy", "none")
    changes: dict[str, object] = {"hardware.offload": "optimizer"}
    if strategy in ("none", "ddp", "zero1"):
        changes["hardware.strategy"] = "zero2"
    return changes


def _offload_params(values: dict, fits: Fits) -> dict | None:
    if get_dotted(values, "hardware.offload") == "optimizer+params":
        return None
    return {"hardware.strategy": "zero3", "hardware.offload": "optimizer+params"}


GENERATORS: dict[str, Callable[[dict, Fits], dict | None]] = {
    "micro-batch": _micro_batch, "gradient-checkpointing": _checkpointing,
    "optimizer-8bit": _optimizer_8bit, "zero-stage": _zero_stage, "lora": _lora,
    "qlora": _qlora, "offload-optimizer": _offload_optimizer, "offload-params": _offload_params,
}


def fix_table() -> list[dict]:
    return sorted(table("fixes")["fixes"], key=lambda f: f["cost"])


def _estimate_values(values: dict) -> Estimate | None:
    try:
        return estimate(from_values(values))
    except MemoryInputError:
        return None


def rank_fixes(values: dict, cap: int) -> tuple[list[Fix], Fix | None]:
    """Every applicable fix with its estimate (fitting first, cheapest first), and all at once."""

    def fits(v: dict) -> bool:
        est = _estimate_values(v)
        return est is not None and usable(est) <= cap

    singles: list[Fix] = []
    for spec in fix_table():
        changes = GENERATORS[spec["id"]](values, fits)
        est = _estimate_values(apply_changes(values, changes)) if changes else None
        if changes and est is not None:
            singles.append(Fix(spec["id"], spec["title"], changes, est, usable(est) <= cap,
                               spec["cost"]))
    fitting = [f for f in singles if f.fits]
    if fitting:
        return fitting + [f for f in singles if not f.fits], None
    combo = _stack(values, fits, cap)
    ranked = ([combo] if combo and combo.fits else []) + singles
    return ranked, combo


def _stack(values: dict, fits: Fits, cap: int) -> Fix | None:
    """The cheapest combination of fixes that fits, else every applicable fix at once.

    Combinations are ordered by their most expensive member, then by total
    cost; each is applied cheapest first, in its most aggressive form, and a
    smaller micro batch is then given back as far as the rest leaves room.
    """
    specs = fix_table()
    subsets = [c for n in range(2, len(specs) + 1) for c in itertools.combinations(specs, n)]
    subsets.sort(key=lambda c: (max(s["cost"] for s in c), sum(s["cost"] for s in c)))
    last: tuple[list[dict], dict] | None = None
    for subset in subsets:
        applied = _apply_all(values, subset)
        if applied is None:
            continue
        chosen, changes = applied
        if fits(apply_changes(values, changes)):
            return _combo(values, chosen, _relax_micro_batch(values, changes, fits), cap)
    every = _apply_all(values, specs, skip_missing=True)
    if every is not None:
        last = every
    return _combo(values, last[0], last[1], cap) if last else None


def _apply_all(values: dict, specs, skip_missing: bool = False
               ) -> tuple[list[dict], dict] | None:
    current, changes, used = values, {}, []
    for spec in specs:
        step = GENERATORS[spec["id"]](current, lambda v: False)  # most aggressive form
        if not step:
            if skip_missing:
                continue
            return None
        current = apply_changes(current, step)
        changes.update(step)
        used.append(spec)
    return (used, changes) if changes else None


def _relax_micro_batch(values: dict, changes: dict, fits: Fits) -> dict:
    mb = int(get_dotted(values, "training.micro_batch_size", 1) or 1)
    if "training.micro_batch_size" not in changes or mb <= 1:
        return changes
    ga = int(get_dotted(values, "training.gradient_accumulation", 1) or 1)
    rest = {k: v for k, v in changes.items()
            if k not in ("training.micro_batch_size", "training.gradient_accumulation")}
    for size in [d for d in range(mb, 0, -1) if mb % d == 0]:
        trial = rest if size == mb else {**rest, "training.micro_batch_size": size,
                                         "training.gradient_accumulation": ga * mb // size}
        if trial and fits(apply_changes(values, trial)):
            return trial
    return changes


def _combo(values: dict, specs: list[dict], changes: dict, cap: int) -> Fix | None:
    est = _estimate_values(apply_changes(values, changes))
    if est is None:
        return None
    kept = [s for s in specs if s["id"] != "micro-batch" or "training.micro_batch_size" in changes]
    return Fix("+".join(s["id"] for s in kept), " + ".join(s["title"] for s in kept), changes,
               est, usable(est) <= cap, sum(s["cost"] for s in kept))


# --------------------------------------------------------------------------- check


def check_fit(values: dict, mode: str = "check", gpu: str | None = None,
              gpu_memory: str | None = None) -> FitReport:
    """Estimate the resolved recipe and check it against its GPU (mode check|auto|off).

    `gpu` / `gpu_memory` override hardware.gpu / hardware.gpu_memory.  Never
    raises for user mistakes: an unknown GPU or model is an error note.
    """
    if mode == "off":
        return FitReport(None, None, mode=mode)
    notes: list[Note] = []
    hw = values.get("hardware", {}) or {}
    try:
        cap: Gpu | None = capacity(gpu or (None if gpu_memory else hw.get("gpu")),
                                   gpu_memory or (None if gpu else hw.get("gpu_memory")))
    except MemoryInputError as exc:
        return FitReport(None, None, notes=[exc.note], mode=mode)
    if hw.get("accelerator") == "cpu" and not (gpu or gpu_memory):
        cap = None
    if cap is not None and cap.warning:
        notes.append(Note("hardware.gpu", AMBIGUOUS_GPU, cap.warning))
    try:
        est = estimate(from_values(values, notes))
    except MemoryInputError as exc:
        if cap is None:  # nothing to check against: no need to know the model
            return FitReport(None, None, mode=mode)
        return FitReport(None, cap.memory_bytes, cap.name, notes=notes + [exc.note], mode=mode)
    if cap is None:
        return FitReport(est, None, notes=notes, mode=mode)
    report = FitReport(est, cap.memory_bytes, cap.name, notes=notes, mode=mode)
    report.fits = usable(est) <= cap.memory_bytes
    report.tight = report.fits and est.high - est.evictable > cap.memory_bytes
    if not report.fits:
        report.fixes, report.everything = rank_fixes(values, cap.memory_bytes)
        if report.everything is None and not any(f.fits for f in report.fixes):
            report.everything = _stack(values, lambda v: False, cap.memory_bytes)
        if mode == "auto":
            report.chosen = next((f for f in report.fixes if f.fits), None)
    return report


# --------------------------------------------------------------------------- text


def _yaml(value: object) -> str:
    return "true" if value is True else "false" if value is False else str(value)


def _over(report: FitReport, needed: float) -> str:
    cap = report.capacity_bytes or 0
    return f"over by {fmt(needed - cap)} ({(needed / cap - 1) * 100:.0f}%)" if cap else ""


def headline(report: FitReport) -> str:
    est = report.estimate
    assert est is not None and report.capacity_bytes is not None
    return (f"needs about {fmt(report.needed)} per GPU ({fmt_range(est.low, est.high)}; "
            f"largest part: {est.dominant.name}) but {report.gpu} has "
            f"{fmt(report.capacity_bytes)}: {_over(report, report.needed)}")


def does_not_fit_message(report: FitReport) -> str:
    """One line for the problem, then the fixes ranked with their estimates."""
    if report.fits is not False:
        return ""
    fitting = [f for f in report.fixes if f.fits]
    if not fitting:
        return cannot_fit_message(report)
    lines = [f"job does not fit: {headline(report)}", "fixes, cheapest first:"]
    for i, fix in enumerate(report.fixes, 1):
        lines.append(f"  {i}. {fix.summary()}")
    return "\n".join(lines)


def cannot_fit_message(report: FitReport) -> str:
    every = report.everything
    lines = [f"job cannot fit even with every fix: {headline(report)}"]
    if every is not None:
        lines.append(f"with {every.description} it still needs {fmt(usable(every.estimate))}: "
                     f"{_over(report, usable(every.estimate))}")
    lines.append("what would: a GPU with more memory, more GPUs with hardware.strategy zero3, "
                 "a shorter model.max_seq_length, or a smaller model")
    return "\n".join(lines)


def oom_advice(values: dict, capacity_bytes: int | None = None) -> str:
    """What to change after an out-of-memory error (for the runtime): the same table.

    With the device's memory the fixes come ranked with their estimates;
    without it, the applicable ones in order of cost.
    """
    if capacity_bytes:
        report = check_fit(values, "check", gpu_memory=f"{int(capacity_bytes)}B")
        if report.fits is False:
            return report.message()
    steps = []
    for spec in fix_table():
        changes = GENERATORS[spec["id"]](values, lambda v: False)
        if changes:
            what = ", ".join(f"{k}: {_yaml(v)}" for k, v in changes.items())
            steps.append(f"  {len(steps) + 1}. {spec['title']} [{what}]")
    return "\n".join(["out of memory; what to change, cheapest first:", *steps])


# --------------------------------------------------------------------------- compiler hook


def _fit_key(values: dict) -> str:
    hw = values.get("hardware", {}) or {}
    return "hardware.gpu_memory" if hw.get("gpu_memory") else "hardware.gpu"


def fit_diagnostics(r: Resolved) -> list[Diagnostic]:
    """The memory-fit check for `ftc compile`; with fit: auto the fix is applied to `r`."""
    from ftc.diagnostics import ERROR, WARNING, Diagnostic

    mode = r.get("hardware.fit", "check")
    report = check_fit(r.values, mode)
    out = []
    for note in report.notes:
        pos = r.where(note.key)
        out.append(Diagnostic(pos.path, pos.line, pos.col, note.severity, note.rule,
                              note.message, note.hint))
    if report.fits is None:
        return out
    pos = r.where(_fit_key(r.values))
    if report.fits and report.tight:
        est = report.estimate
        assert est is not None
        out.append(Diagnostic(pos.path, pos.line, pos.col, WARNING, TIGHT_FIT,
                              f"memory is tight: expected {fmt(report.needed)} of "
                              f"{fmt(report.capacity_bytes or 0)} on {report.gpu}, but the high "
                              f"end of the estimate is {fmt(est.high - est.evictable)}",
                              "`ftc estimate` shows the parts"))
        return out
    if report.fits:
        return out
    if report.chosen is not None:
        apply_fix(r, report.chosen)
        out.append(Diagnostic(pos.path, pos.line, pos.col, WARNING, APPLIED_FIX,
                              f"memory fit: applied {report.chosen.summary()} "
                              f"(was {fmt(report.needed)} of {fmt(report.capacity_bytes or 0)})",
                              "recorded as rule:memory-fit; `ftc explain` shows it"))
        return out
    text = does_not_fit_message(report)
    head, _, rest = text.partition("\n")
    rule = DOES_NOT_FIT if any(f.fits for f in report.fixes) else CANNOT_FIT
    hint = rest.replace("\n", "\n    ") if rest else None
    if rule == DOES_NOT_FIT:
        hint = (hint or "") + "\n    hardware.fit: auto (ftc compile --fit) applies the first"
    out.append(Diagnostic(pos.path, pos.line, pos.col, ERROR, rule, head, hint))
    return out


def apply_fix(r: Resolved, fix: Fix) -> None:
    """Write a fix into a Resolved recipe with provenance rule:memory-fit, refilling defaults."""
    for path, value in fix.changes.items():
        r.set(path, value, FIT_SOURCE)
    if any(k in fix.changes for k in ("method.kind", "method.tuning")):
        from ftc.compiler.resolve import rule_method, rule_training
        from ftc.tables import hyperparameters

        t = hyperparameters()
        if r.source("training.learning_rate").startswith("table:"):
            r.drop("training.learning_rate")
        rule_method(r, t)
        rule_training(r, t)
